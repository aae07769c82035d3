'use strict'
// A user whose JWT expired clicks "log out" while a page is loading: POST
// /logout and the page's requests leave the browser together, with the same
// cookies. Whatever the order in which they are served, the logout must be
// final: no token of the session's chain live at Crossmint afterwards, no
// rotated token presented to Crossmint twice, and the browser's cookie jar,
// once every answer arrived, holds no session. Each race is one user on a
// fresh session, against Express apps in processes of their own (one app;
// two apps sharing Redis), repeated hundreds of times.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, authFor, cookieRequest, exchangeText, sleep, childScript, root, vanillaRefreshRoute, now } = require('../helpers/harness.js')
const { startExample } = require('../helpers/framework-checks.js')
const { startRedis, redisAvailable } = require('../helpers/redis-server.js')
const { applySetCookie, cookieHeader } = require('../../testing/soak/cookie-jar.js')
const { REFRESH_PATH } = require('../../testing/emulator.js')

const APP = childScript('coordinated-instance')
const RACES = Number(process.env.LOGOUT_RACES || 200)
/** Races run at once (each its own user); isolation is per user. */
const AT_ONCE = 4

const skipRedis = !redisAvailable() && !process.env.CI ? 'redis-server is not installed (apt-get install redis-server)' : false

async function startApps(t, emulator, count, options = {}) {
  const apps = []
  for (let i = 0; i < count; i++) {
    apps.push(await startExample(t, process.execPath, [APP], { emulator, cwd: root, env: { CROSSMINT_AUTH_OPTIONS: JSON.stringify(options) } }))
  }
  return apps
}

/** A browser's cookie jar holding `session` as Crossmint's client stores it after sign-in. */
function jarOf(session) {
  return new Map([
    ['crossmint-jwt', session.jwt],
    ['crossmint-refresh-token', session.refreshToken.secret],
  ])
}

/** A browser's request with `cookie`; its Set-Cookie answers go into the jar in arrival order. */
async function browse(jar, url, options = {}, cookie = cookieHeader(jar)) {
  const answer = await exchangeText(url, { ...options, cookie })
  for (const line of answer.setCookie) applySetCookie(jar, line)
  return answer
}

/**
 * One race: the session (after `refreshesBefore` refreshes through the app,
 * so its chain is inside the grace window) logs out on `logoutApp` while
 * `pageRequests` requests leave 1-4 ms later for `pageApps` (round-robin).
 */
async function race(emulator, { id, logoutApp, pageApps, pageRequests, refreshesBefore }) {
  const session = emulator.createSession(`racer-${id}`, {
    jwtTtlSeconds: -1,
    // Each refresh issues an expired JWT too, so every request refreshes.
    refreshedJwtTtlSeconds: refreshesBefore > 0 ? -1 : 3600,
  })
  const jar = jarOf(session)
  for (let i = 0; i < refreshesBefore; i++) {
    const answer = await browse(jar, `${pageApps[i % pageApps.length].url}/me`)
    assert.equal(answer.status, 200, `refresh ${i + 1} before the race: ${answer.text}`)
  }
  const cookie = cookieHeader(jar)
  const logout = browse(jar, `${logoutApp.url}/logout`, { method: 'POST' }, cookie)
  await sleep(1 + (id % 4))
  const pages = Array.from({ length: pageRequests }, (_, k) => browse(jar, `${pageApps[k % pageApps.length].url}/me`, {}, cookie))
  const [loggedOut, ...pageAnswers] = await Promise.all([logout, ...pages])
  assert.equal(loggedOut.status, 200, loggedOut.text)
  return { session, jar, pageAnswers }
}

/** Waits (background revocations) until no token of `family` is live at Crossmint; answers those still live. */
async function liveAfterSettling(emulator, family, withinMs = 3000) {
  const deadline = Date.now() + withinMs
  let live = emulator.liveRefreshTokens(family)
  while (live.length > 0 && Date.now() < deadline) {
    await sleep(20)
    live = emulator.liveRefreshTokens(family)
  }
  return live
}

async function runRaces(emulator, apps, { logoutTo, pageTo, pageRequests, refreshesBefore, pagesMayBeServed }) {
  const failures = []
  let servedPages = 0
  for (let first = 0; first < RACES; first += AT_ONCE) {
    await Promise.all(
      Array.from({ length: Math.min(AT_ONCE, RACES - first) }, async (_, offset) => {
        const id = `${refreshesBefore}-${pageRequests}-${apps.length}-${first + offset}`
        const { session, jar, pageAnswers } = await race(emulator, {
          id: first + offset,
          logoutApp: apps[logoutTo],
          pageApps: pageTo.map((index) => apps[index]),
          pageRequests,
          refreshesBefore,
        })
        const served = pageAnswers.filter((answer) => answer.status === 200)
        servedPages += served.length
        if (!pagesMayBeServed && served.length > 0) failures.push(`${id}: a page request after the logout was served: ${served[0].text}`)
        const live = await liveAfterSettling(emulator, session.family)
        if (live.length > 0) failures.push(`${id}: ${live.length} token(s) of the chain still live at Crossmint`)
        for (const app of apps) {
          const after = await exchangeText(`${app.url}/me`, { cookie: cookieHeader(jar) })
          if (after.status !== 401) failures.push(`${id}: the jar left after the race is still signed in on ${app.url}: ${after.status} ${after.text}`)
        }
      }),
    )
  }
  const presented = new Map()
  for (const request of emulator.requests) {
    if (request.path !== REFRESH_PATH || !request.json) continue
    presented.set(request.json.refresh, (presented.get(request.json.refresh) || 0) + 1)
  }
  const twice = [...presented].filter(([, count]) => count > 1)
  if (twice.length > 0) failures.push(`${twice.length} refresh token(s) presented to Crossmint more than once`)
  return { failures, servedPages }
}

const SCENARIOS = [
  { name: "Crossmint's logout answers 50 ms late; one page request", pageRequests: 1, refreshesBefore: 0 },
  { name: 'the session refreshed 3 times before (its chain inside the grace window)', pageRequests: 1, refreshesBefore: 3 },
  { name: 'a page of 5 requests', pageRequests: 5, refreshesBefore: 0 },
]

for (const scenario of SCENARIOS) {
  test(`logout race, one app: ${scenario.name}; ${RACES} races without a live token or a second spend`, { timeout: 180000 }, async (t) => {
    const emulator = await withEmulator(t)
    emulator.faults.logout = { delayMs: 50 }
    const apps = await startApps(t, emulator, 1)
    const { failures } = await runRaces(emulator, apps, { ...scenario, logoutTo: 0, pageTo: [0], pagesMayBeServed: false })
    assert.deepEqual(failures, [])
  })

  test(`logout race, two apps sharing Redis: ${scenario.name}; ${RACES} races without a live token or a second spend`, {
    skip: skipRedis,
    timeout: 240000,
  }, async (t) => {
    const emulator = await withEmulator(t)
    emulator.faults.logout = { delayMs: 50 }
    const redis = await startRedis(t)
    const apps = await startApps(t, emulator, 2, { refreshCoordination: { redisUrl: redis.url } })
    // The logout on one process, the page on the other. A page request whose
    // refresh was published before the logout reached Redis finished first
    // and may be served; its tokens must still end up revoked and refused.
    const { failures } = await runRaces(emulator, apps, { ...scenario, logoutTo: 0, pageTo: [1, 0], pagesMayBeServed: true })
    assert.deepEqual(failures, [])
  })
}

test('a logout answers within timeoutMs while Crossmint hangs, however long its chain, and the revocations finish once Crossmint is back', {
  timeout: 60000,
}, async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { timeoutMs: 400 })
  const first = emulator.createSession('long-chain', { jwtTtlSeconds: -1, refreshedJwtTtlSeconds: -1 })
  let material = { jwt: first.jwt, refreshToken: first.refreshToken.secret }
  const chain = [material]
  for (let i = 0; i < 4; i++) {
    const next = await auth.getSession(material)
    material = { jwt: next.jwt, refreshToken: next.refreshToken.secret }
    chain.push(material)
  }
  assert.equal(emulator.liveRefreshTokens(first.family).length, 1)
  emulator.faults.logout = { hang: true }
  const middle = chain[2]
  const started = Date.now()
  await auth.logout(cookieRequest(`crossmint-jwt=${middle.jwt}; crossmint-refresh-token=${middle.refreshToken}`))
  const elapsed = Date.now() - started
  // Five links to revoke: one after another they took 5 × 400 ms and more.
  assert.ok(elapsed < 1000, `the logout took ${elapsed} ms`)
  for (const link of chain) {
    await assert.rejects(authFor(emulator).getSession(link), { code: 'SESSION_EXPIRED' }, 'every link of the chain is refused at once')
  }
  emulator.resetFaults()
  assert.deepEqual(await liveAfterSettling(emulator, first.family, 6000), [], 'the revocations were retried until Crossmint answered')
})

test('after a logout, getSession refuses the JWTs of the chain however it verified them before; verifyCrossmintJwt still verifies them', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const session = emulator.createSession('jwt-after-logout')
  const cookie = `crossmint-jwt=${session.jwt}; crossmint-refresh-token=${session.refreshToken.secret}`
  // Verified, on record and remembered for this very header.
  for (let i = 0; i < 3; i++) assert.equal((await auth.getSession(cookieRequest(cookie))).userId, 'jwt-after-logout')
  // A refresh of the same chain, finished before the logout, issued a JWT too.
  const expired = emulator.createSession('jwt-after-logout', { jwtTtlSeconds: -1 })
  const refreshed = await auth.getSession({ jwt: expired.jwt, refreshToken: expired.refreshToken.secret })
  assert.equal((await auth.getSession({ jwt: refreshed.jwt, refreshToken: refreshed.refreshToken.secret })).userId, 'jwt-after-logout')

  await auth.logout(cookieRequest(cookie))
  await auth.logout(cookieRequest(`crossmint-jwt=; crossmint-refresh-token=${expired.refreshToken.secret}`))
  await assert.rejects(auth.getSession(cookieRequest(cookie)), { code: 'SESSION_EXPIRED' })
  await assert.rejects(authFor(emulator).getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }), { code: 'SESSION_EXPIRED' })
  await assert.rejects(auth.getSession({ jwt: refreshed.jwt, refreshToken: refreshed.refreshToken.secret }), { code: 'SESSION_EXPIRED' })
  assert.equal((await auth.verifyCrossmintJwt(session.jwt)).sub, 'jwt-after-logout', 'a verification, not a session')
  // Another user's session is untouched.
  const other = emulator.createSession('someone-else')
  assert.equal((await auth.getSession({ jwt: other.jwt, refreshToken: other.refreshToken.secret })).userId, 'someone-else')
})

test('a logout on one process ends, on another sharing Redis, a session whose JWT it had verified and remembered', {
  skip: skipRedis,
  timeout: 60000,
}, async (t) => {
  const emulator = await withEmulator(t)
  const redis = await startRedis(t)
  const [a, b] = await startApps(t, emulator, 2, { refreshCoordination: { redisUrl: redis.url } })
  const session = emulator.createSession('cross-process-jwt')
  const cookie = `crossmint-jwt=${session.jwt}; crossmint-refresh-token=${session.refreshToken.secret}`
  for (let i = 0; i < 3; i++) assert.equal((await exchangeText(`${b.url}/me`, { cookie })).status, 200)
  assert.equal((await exchangeText(`${a.url}/logout`, { method: 'POST', cookie })).status, 200)
  // The logout answers after it announced the JWT; delivery to b is asynchronous.
  let status
  for (const deadline = Date.now() + 2000; Date.now() < deadline; await sleep(20)) {
    status = (await exchangeText(`${b.url}/me`, { cookie })).status
    if (status === 401) break
  }
  assert.equal(status, 401)
})

test('a logout refuses the unscoped JWT a request carries beside its scoped session, so the same cookies never fall back to it', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const project = auth.getProjectId()
  for (let i = 0; i < 20; i++) {
    // A browser part-way through the client migration: both namings of this project's session.
    const scoped = emulator.createSession(`both-namings-${i}`)
    const unscoped = emulator.createSession(`both-namings-${i}`)
    const cookie =
      `crossmint-jwt-${project}=${scoped.jwt}; crossmint-refresh-token-${project}=${scoped.refreshToken.secret}; ` +
      `crossmint-jwt=${unscoped.jwt}; crossmint-refresh-token=${unscoped.refreshToken.secret}`
    assert.equal((await auth.getSession(cookieRequest(cookie))).userId, `both-namings-${i}`)
    await auth.logout(cookieRequest(cookie))
    await assert.rejects(auth.getSession(cookieRequest(cookie)), { code: 'SESSION_EXPIRED' })
    await assert.rejects(auth.getSession({ jwt: unscoped.jwt, refreshToken: unscoped.refreshToken.secret }), { code: 'SESSION_EXPIRED' })
    assert.equal(emulator.refreshTokenState(unscoped.refreshToken.secret).revoked, true)
  }
})

test('a logout through an instance without refreshRoute also ends what a refreshRoute instance would hand out again within the grace window', async (t) => {
  // Crossmint's guide: pages use an instance with `refreshRoute`, the refresh
  // and logout routes one without; the two file their refreshes apart.
  const emulator = await withEmulator(t)
  const route = await vanillaRefreshRoute(authFor(emulator))
  t.after(() => route.close())
  const pageAuth = authFor(emulator, { refreshRoute: `${route.url}/api/refresh` })
  const logoutAuth = authFor(emulator)
  for (let i = 0; i < 50; i++) {
    const expired = emulator.createSession(`route-logout-${i}`, { jwtTtlSeconds: -60 })
    const old = { jwt: expired.jwt, refreshToken: expired.refreshToken.secret }
    const refreshed = await pageAuth.getSession(old)
    assert.equal(refreshed.userId, `route-logout-${i}`)
    await logoutAuth.logout(cookieRequest(`crossmint-jwt=${refreshed.jwt}; crossmint-refresh-token=${refreshed.refreshToken.secret}`))
    // A page request sent before the logout, still carrying the old cookies.
    await assert.rejects(pageAuth.getSession(old), { code: 'SESSION_EXPIRED' })
  }
})

test('a logout records no made-up JWT, and one it cannot check yet apart from the checked ones', async (t) => {
  const native = require('../../lib/core/native-addon.js')
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const session = emulator.createSession('junk-logouts')
  // The key set is held and fresh, as on any server answering sessions.
  assert.equal((await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })).userId, 'junk-logouts')
  const forged = emulator.signJwt({ sub: 'junk-logouts', exp: now() + 600 }).replace(/\.[^.]+$/, '.c2lnbmF0dXJl')
  const before = native.recordInvalidations()
  for (const jwt of ['junk', 'a.b.c', forged]) {
    await auth.logout(cookieRequest(`crossmint-jwt=${jwt}`))
  }
  assert.equal(native.recordInvalidations(), before, 'nothing recorded for malformed or badly signed tokens')
  // A key this process does not hold yet may be one Crossmint just rotated
  // to: recorded, apart from the checked revocations (src/revoked_jwts.rs).
  const unpublishedKid = emulator.signJwt({ sub: 'junk-logouts', exp: now() + 600 }, { kid: 'not-published' })
  await auth.logout(cookieRequest(`crossmint-jwt=${unpublishedKid}`))
  assert.equal(native.recordInvalidations(), before + 1)
  await auth.logout(cookieRequest(`crossmint-jwt=${session.jwt}`))
  assert.equal(native.recordInvalidations(), before + 2, 'a real JWT is recorded')
  // Refused as a session: the refresh token, which this logout did not carry, refreshes instead.
  const after = await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  assert.notEqual(after.jwt, session.jwt)
})

test('a logout refuses a JWT signed by a key Crossmint rotated to after this process fetched its key set', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  for (let i = 0; i < 20; i++) {
    // The key set is held and fresh, from before the rotation.
    const before = emulator.createSession(`before-rotation-${i}`)
    assert.equal((await auth.getSession({ jwt: before.jwt, refreshToken: before.refreshToken.secret })).userId, `before-rotation-${i}`)
    emulator.rotateKeys()
    const rotated = emulator.createSession(`rotated-${i}`)
    await auth.logout(cookieRequest(`crossmint-jwt=${rotated.jwt}`))
    // Refused as a session: the live refresh token, which this logout did not carry, refreshes instead.
    const after = await auth.getSession({ jwt: rotated.jwt, refreshToken: rotated.refreshToken.secret })
    assert.notEqual(after.jwt, rotated.jwt)
  }
})
