'use strict'
// Crossmint's published browser clients against apps built on this package.
// Each client version runs in jsdom (a worker thread per version and cookie
// configuration, helpers/crossmint-browser.js) as it runs in a page; the app
// is served on node:http and on Express; the emulator stands in for Crossmint.
//
//   @crossmint/client-sdk-auth 1.3.10 stores a session as
//     crossmint-jwt-<projectId> / crossmint-refresh-token-<projectId>;
//   @crossmint/client-sdk-auth 1.2.50 as crossmint-jwt / crossmint-refresh-token
//     (and its getCookie matches names by prefix, so it also reads the scoped ones).
//
// The app: GET /me (getSession(req, res), a page route), GET /by-name (reads
// the cookies by name as a Server Component does, then getSession(material)),
// POST /api/refresh (handleCustomRefresh) and POST /api/logout (logout).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')
const { withEmulator, authFor, serve, serveExpress, refreshCalls, sleep, ours } = require('../helpers/common.js')
const { REFRESH_PATH, LOGOUT_PATH } = require('../../testing/emulator.js')
const { openBrowser } = require('../helpers/crossmint-browser.js')

const CLIENTS = [
  { version: '1.3', published: '1.3.10' },
  { version: '1.2', published: '1.2.50' },
]
const UNSCOPED = { jwt: 'crossmint-jwt', refreshToken: 'crossmint-refresh-token' }
const OUTAGES = new Set(['CROSSMINT_UNAVAILABLE', 'TIMEOUT', 'REDIRECT_REFUSED'])
const SESSION_COOKIE = /^crossmint-(jwt|refresh-token)(-|$)/

// ---- the app ------------------------------------------------------------------

/** The status and body an app answers for what getSession threw: 401 for a session that ended, 503 for an outage, 500 for anything else. */
function failureAnswer(error) {
  if (!(error instanceof ours.CrossmintAuthenticationError)) return [500, { error: 'Internal Server Error', message: error.message }]
  const status = OUTAGES.has(error.code) ? 503 : 401
  return [status, { error: status === 401 ? 'Unauthorized' : 'Service Unavailable', code: error.code, message: error.message }]
}

function parseCookies(header = '') {
  const cookies = {}
  for (const part of header.split(';')) {
    const at = part.indexOf('=')
    if (at > 0) cookies[part.slice(0, at).trim()] ??= part.slice(at + 1).trim()
  }
  return cookies
}

/**
 * GET /by-name, as a Next.js Server Component reads cookies: by name, then
 * getSession(material) with no response to write to. It looks under this
 * project's names (getAuthCookieNames) first and falls back to the unscoped
 * names, because that is what an app serving 1.2.x clients has to do: those
 * clients never write the scoped names, and the package documents that
 * getAuthCookieNames gives the 1.3 names only. The answer says which naming
 * it found, so both versions are checked for the naming they really use.
 */
async function sessionByName(auth, cookieHeader) {
  const cookies = parseCookies(cookieHeader)
  const scoped = ours.getAuthCookieNames(auth.getProjectId())
  for (const [naming, names] of [
    ['scoped', scoped],
    ['unscoped', UNSCOPED],
  ]) {
    if (cookies[names.refreshToken] === undefined) continue
    const session = await auth.getSession({ jwt: cookies[names.jwt], refreshToken: cookies[names.refreshToken] })
    return { userId: session.userId, naming }
  }
  throw new ours.CrossmintAuthenticationError('No session cookies', 'NO_AUTH_MATERIAL')
}

/**
 * GET /guide, as Crossmint's Next.js guide and its nextjs-ssr demo read the
 * session in server code: `crossmint-jwt` and `crossmint-refresh-token` by
 * name, nothing else, then getSession(material).
 */
async function sessionByGuideNames(auth, cookieHeader) {
  const cookies = parseCookies(cookieHeader)
  if (cookies[UNSCOPED.refreshToken] === undefined) throw new ours.CrossmintAuthenticationError('No session cookies', 'NO_AUTH_MATERIAL')
  const session = await auth.getSession({ jwt: cookies[UNSCOPED.jwt], refreshToken: cookies[UNSCOPED.refreshToken] })
  return { userId: session.userId }
}

/** The five routes, written against `reply(res, status, body)` so node:http and Express share them. */
function routes(auth, reply) {
  return {
    async me(req, res) {
      try {
        const session = await auth.getSession(req, res)
        reply(res, 200, { userId: session.userId })
      } catch (error) {
        reply(res, ...failureAnswer(error))
      }
    },
    async byName(req, res) {
      try {
        reply(res, 200, await sessionByName(auth, req.headers.cookie))
      } catch (error) {
        reply(res, ...failureAnswer(error))
      }
    },
    async byGuideNames(req, res) {
      try {
        reply(res, 200, await sessionByGuideNames(auth, req.headers.cookie))
      } catch (error) {
        reply(res, ...failureAnswer(error))
      }
    },
    async refresh(req, res) {
      await auth.handleCustomRefresh(req, res)
      res.end()
    },
    async logout(req, res) {
      await auth.logout(req, res)
      res.end()
    },
  }
}

const SERVERS = {
  'node:http': (auth) => {
    const route = routes(auth, (res, status, body) => {
      res.statusCode = status
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(body))
    })
    return serve(async (req, res) => {
      const { pathname } = new URL(req.url, 'http://app.test')
      const handler = {
        'GET /me': route.me,
        'GET /by-name': route.byName,
        'GET /guide': route.byGuideNames,
        'POST /api/refresh': route.refresh,
        'POST /api/logout': route.logout,
      }[`${req.method} ${pathname}`]
      if (!handler) {
        res.statusCode = 404
        return res.end()
      }
      await handler(req, res)
    })
  },
  Express: (auth) =>
    serveExpress((app, express) => {
      const route = routes(auth, (res, status, body) => res.status(status).json(body))
      app.use(express.json())
      app.get('/me', route.me)
      app.get('/by-name', route.byName)
      app.get('/guide', route.byGuideNames)
      app.post('/api/refresh', route.refresh)
      app.post('/api/logout', route.logout)
    }),
}

// ---- what to look at ----------------------------------------------------------

const cookieNamed = (cookies, name) => cookies.find((cookie) => cookie.name === name)
const sessionCookies = (cookies) => cookies.filter((cookie) => SESSION_COOKIE.test(cookie.name))
const eventTypes = (snapshot) => snapshot.events.map((event) => event.type)
const presentationsOf = (emulator, secret) => emulator.refreshTokenState(secret)?.presentations.map((p) => p.result)
const short = (value) => (typeof value === 'string' && value.length > 24 ? `${value.slice(0, 10)}…${value.slice(-6)}` : value)

/** Waits (up to 3 s) until the emulator has `secret` revoked: the package may revoke in the background after it answered. */
async function revokedEventually(emulator, secret, what) {
  const deadline = Date.now() + 3000
  while (!emulator.refreshTokenState(secret)?.revoked && Date.now() < deadline) await sleep(20)
  const state = emulator.refreshTokenState(secret)
  assert.equal(state?.revoked, true, `${what}: ${inspect(state)}`)
  assert.equal(state.live, false)
}

/** What Crossmint received, briefly: method, path, the refresh token named. */
function crossmintLog(emulator) {
  return emulator.requests
    .filter((r) => r.path === REFRESH_PATH || r.path === LOGOUT_PATH)
    .map((r) => `${r.method} ${r.path === REFRESH_PATH ? 'refresh' : 'logout'} ${short(r.json?.refresh)}`)
}

/** Runs `body`; a failure gets the browser's state and Crossmint's log appended. */
async function explained(browser, emulator, body) {
  try {
    await body()
  } catch (error) {
    const snapshot = await browser.snapshot().catch((e) => ({ unavailable: e.message }))
    const brief = {
      events: snapshot.events?.map((e) => ({ ...e, jwt: short(e.jwt), refreshToken: short(e.refreshToken) })),
      jar: snapshot.cookies?.map((c) => `${c.name}=${short(c.value)}${c.httpOnly ? ' HttpOnly' : ''} expires=${c.expires}`),
      pageRequests: snapshot.network?.map((n) => `${n.method} ${n.url} → ${n.status ?? n.error} ${short(n.requestBody) ?? ''}`),
      clientLogs: snapshot.logs,
      crossmint: crossmintLog(emulator),
    }
    // Appended to the stack, which the reporters print (an assertion's message is already in it).
    error.stack = `${error.stack}\n--- context ---\n${inspect(brief, { depth: 4, breakLength: 160 })}`
    throw error
  }
}

// ---- the matrix ---------------------------------------------------------------

for (const { version, published } of CLIENTS) {
  for (const [serverName, startServer] of Object.entries(SERVERS)) {
    test(`@crossmint/client-sdk-auth ${published} with an app on ${serverName}`, async (t) => {
      const emulator = await withEmulator(t)
      const pid = emulator.projectId
      const SCOPED = ours.getAuthCookieNames(pid)
      /** The names this client version stores a session under. */
      const clientNames = version === '1.3' ? SCOPED : UNSCOPED

      // One app and one browser per cookie configuration, shared by the subtests (each starts from an empty jar).
      const variants = new Map()
      async function setup(cookieOptions) {
        const key = JSON.stringify(cookieOptions ?? null)
        if (!variants.has(key)) {
          const auth = authFor(emulator, cookieOptions ? { cookieOptions } : {})
          assert.equal(auth.getProjectId(), pid)
          assert.deepEqual(auth.getAuthCookieNames(), SCOPED)
          const server = await startServer(auth)
          t.after(() => server.close())
          const browser = await openBrowser(t, { version, origin: server.url, emulator })
          variants.set(key, browser)
        }
        const browser = variants.get(key)
        await browser.reset()
        emulator.clearRequests()
        return browser
      }
      const ROUTES = { refreshRoute: '/api/refresh', logoutRoute: '/api/logout' }

      /** A session the client stored itself: its naming seeded by page script, then its page-load refresh. */
      async function clientStoredSession(browser, userId) {
        const session = emulator.createSession(userId)
        await browser.seed([`${clientNames.jwt}=${session.jwt}`, `${clientNames.refreshToken}=${session.refreshToken.secret}`])
        const loaded = await browser.load()
        assert.deepEqual(eventTypes(loaded), ['onTokenRefresh'])
        assert.equal(loaded.events[0].userId, userId)
        assert.deepEqual(presentationsOf(emulator, session.refreshToken.secret), ['rotated'])
        const rotated = emulator.refreshTokenState(session.refreshToken.secret).successor
        assert.equal(
          cookieNamed(loaded.cookies, clientNames.refreshToken)?.value,
          rotated,
          `the client stored its rotated token under ${clientNames.refreshToken}`,
        )
        return { session, loaded, rotated }
      }

      /** A session started by the refresh route as a login does (the client POSTs the one-time secret), cookies set by the server. */
      async function serverStoredSession(browser, userId) {
        const secret = emulator.issueRefreshToken(userId).secret
        const login = await browser.request('/api/refresh', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh: secret }),
        })
        assert.equal(login.status, 200, inspect(login.body))
        return { secret, login }
      }

      await t.test('a session the client stored is identified by /me and by the cookie names', async () => {
        const browser = await setup()
        await explained(browser, emulator, async () => {
          await clientStoredSession(browser, 'stored-user')
          const refreshesBefore = refreshCalls(emulator)
          const me = await browser.request('/me')
          assert.deepEqual([me.status, me.body], [200, { userId: 'stored-user' }])
          const byName = await browser.request('/by-name')
          // 1.3.10 is found under getAuthCookieNames(projectId); 1.2.50 only under the unscoped fallback.
          assert.deepEqual([byName.status, byName.body], [200, { userId: 'stored-user', naming: version === '1.3' ? 'scoped' : 'unscoped' }])
          assert.equal(refreshCalls(emulator), refreshesBefore, 'a valid JWT needs no refresh')
          assert.deepEqual(me.setCookie, [], 'nothing to rewrite')
        })
      })

      await t.test('expired JWT: the server refreshes under the client naming, then the client page-load refresh still works', async () => {
        const browser = await setup()
        await explained(browser, emulator, async () => {
          const session = emulator.createSession('expired-user', { jwtTtlSeconds: -60 })
          const first = session.refreshToken.secret
          await browser.seed([`${clientNames.jwt}=${session.jwt}`, `${clientNames.refreshToken}=${first}`])

          const me = await browser.request('/me')
          assert.deepEqual([me.status, me.body], [200, { userId: 'expired-user' }])
          const second = emulator.refreshTokenState(first).successor
          assert.ok(second, 'the server spent the first token')
          assert.equal(cookieNamed(me.cookies, clientNames.refreshToken)?.value, second, `the new refresh token is under ${clientNames.refreshToken}`)
          assert.notEqual(cookieNamed(me.cookies, clientNames.jwt)?.value, session.jwt, `a new JWT is under ${clientNames.jwt}`)
          assert.deepEqual(
            sessionCookies(me.cookies)
              .map((c) => c.name)
              .sort(),
            [clientNames.jwt, clientNames.refreshToken].sort(),
            'no cookie of the other naming',
          )

          const loaded = await browser.load()
          assert.deepEqual(eventTypes(loaded), ['onTokenRefresh'], 'no onLogout')
          assert.equal(loaded.events[0].userId, 'expired-user')
          assert.deepEqual(presentationsOf(emulator, first), ['rotated'], 'the first token was presented once (by the server)')
          assert.deepEqual(presentationsOf(emulator, second), ['rotated'], 'the second token was presented once (by the client)')
          const third = emulator.refreshTokenState(second).successor
          assert.equal(emulator.refreshTokenState(third).live, true)
          assert.equal(cookieNamed(loaded.cookies, clientNames.refreshToken)?.value, third)
          assert.equal(refreshCalls(emulator), 2, 'one refresh call per rotation')

          const again = await browser.request('/me')
          assert.deepEqual([again.status, again.body], [200, { userId: 'expired-user' }])
        })
      })

      for (const cookieOptions of [undefined, { httpOnly: true }]) {
        const label = cookieOptions ? 'cookieOptions { httpOnly: true }' : 'default cookieOptions'
        await t.test(`refreshRoute mode (${label}): onTokenRefresh, the readable JWT and /me agree, before and after a reload`, async () => {
          const browser = await setup(cookieOptions)
          await explained(browser, emulator, async () => {
            const { secret } = await serverStoredSession(browser, 'route-user')
            let current = emulator.refreshTokenState(secret).successor
            for (const load of ['first load', 'reload']) {
              const loaded = await browser.load(ROUTES)
              assert.deepEqual(eventTypes(loaded), ['onTokenRefresh'], load)
              const [event] = loaded.events
              assert.equal(event.userId, 'route-user', load)
              assert.equal(loaded.readableJwt, event.jwt, `${load}: the JWT cookie the client reads is the one it was handed`)
              const refreshCall = loaded.network.findLast((n) => n.url.endsWith('/api/refresh'))
              assert.equal(refreshCall?.status, 200, load)
              assert.deepEqual(presentationsOf(emulator, current), ['rotated'], `${load}: the token in the jar was presented once`)
              current = emulator.refreshTokenState(current).successor
              assert.equal(event.refreshToken, current)

              const names = sessionCookies(loaded.cookies)
              assert.deepEqual(
                names.map((c) => c.name).sort(),
                [SCOPED.jwt, SCOPED.refreshToken, UNSCOPED.jwt, UNSCOPED.refreshToken].sort(),
                `${load}: the refresh route answers under both namings`,
              )
              for (const naming of [SCOPED, UNSCOPED]) {
                assert.equal(cookieNamed(names, naming.refreshToken).value, current, `${load}: ${naming.refreshToken} holds the new token`)
                assert.equal(cookieNamed(names, naming.jwt).value, event.jwt, `${load}: ${naming.jwt} holds the new JWT`)
                assert.equal(cookieNamed(names, naming.refreshToken).httpOnly, Boolean(cookieOptions?.httpOnly))
                assert.equal(cookieNamed(names, naming.jwt).httpOnly, false, 'the JWT cookie is readable by the client')
              }
              if (cookieOptions?.httpOnly) assert.equal(JSON.parse(refreshCall.requestBody).refresh, undefined, 'an HttpOnly token travels in the cookie only')

              const me = await browser.request('/me')
              assert.deepEqual([me.status, me.body], [200, { userId: 'route-user' }], load)
              // Server code written after Crossmint's guide reads the unscoped names only.
              const guide = await browser.request('/guide')
              assert.deepEqual([guide.status, guide.body], [200, { userId: 'route-user' }], `${load}: the guide's cookie names`)
            }
          })
        })
      }

      await t.test('refreshRoute mode: a page refresh keeps both namings; a scoped copy left spent by server code recovers', async () => {
        const browser = await setup()
        await explained(browser, emulator, async () => {
          // A refresh route's answer: one session under both namings, here with an expired JWT.
          const session = emulator.createSession('mirrored-user', { jwtTtlSeconds: -60 })
          const first = session.refreshToken.secret
          await browser.seed([SCOPED, UNSCOPED].flatMap((names) => [`${names.jwt}=${session.jwt}`, `${names.refreshToken}=${first}`]))
          const me = await browser.request('/me')
          assert.deepEqual([me.status, me.body], [200, { userId: 'mirrored-user' }])
          const second = emulator.refreshTokenState(first).successor
          for (const names of [SCOPED, UNSCOPED]) {
            assert.equal(cookieNamed(me.cookies, names.refreshToken)?.value, second, `the page's refresh rewrote ${names.refreshToken}`)
          }
          assert.ok(!me.setCookie.some((line) => /1970/.test(line)), 'nothing expired')
          const guide = await browser.request('/guide')
          assert.deepEqual([guide.status, guide.body], [200, { userId: 'mirrored-user' }])
          const loaded = await browser.load(ROUTES)
          assert.deepEqual(eventTypes(loaded), ['onTokenRefresh'], 'no onLogout')
          assert.deepEqual(presentationsOf(emulator, second), ['rotated'], 'the client presented the page refresh result once')
          const third = emulator.refreshTokenState(second).successor

          // Server code that rewrites only the unscoped names (Crossmint's
          // guide middleware) spent the token elsewhere: the scoped copy is
          // spent, the unscoped one live. The client's next load still works.
          const spent = await fetch(`${emulator.url}${REFRESH_PATH}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
            body: JSON.stringify({ refresh: third }),
          }).then((answer) => answer.json())
          const fourth = spent.refresh.secret
          await browser.seed([`${UNSCOPED.jwt}=${spent.jwt}`, `${UNSCOPED.refreshToken}=${fourth}`])
          const recovered = await browser.load(ROUTES)
          assert.deepEqual(eventTypes(recovered), ['onTokenRefresh'], 'no onLogout')
          assert.equal(recovered.events[0].userId, 'mirrored-user')
          assert.deepEqual(presentationsOf(emulator, fourth), ['rotated'], 'the live unscoped token answered')
          const fifth = emulator.refreshTokenState(fourth).successor
          for (const names of [SCOPED, UNSCOPED]) assert.equal(cookieNamed(recovered.cookies, names.refreshToken)?.value, fifth, names.refreshToken)
          const after = await browser.request('/guide')
          assert.deepEqual([after.status, after.body], [200, { userId: 'mirrored-user' }])
        })
      })

      if (version === '1.3') {
        const migrations = [
          { label: 'without a refresh route', options: {} },
          { label: 'with refreshRoute and logoutRoute', options: ROUTES },
          { label: 'with refreshRoute, the old refresh token HttpOnly', options: ROUTES, cookieOptions: { httpOnly: true }, httpOnly: true },
        ]
        for (const { label, options, cookieOptions, httpOnly } of migrations) {
          await t.test(`migration from the unscoped names (${label}): scoped session, no logout, old token presented once`, async () => {
            const browser = await setup(cookieOptions)
            await explained(browser, emulator, async () => {
              const session = emulator.createSession('migrating-user')
              const old = session.refreshToken.secret
              // As a 1.2.50 client or the reference server left them.
              await browser.seed([`${UNSCOPED.jwt}=${session.jwt}`])
              await browser.seed([`${UNSCOPED.refreshToken}=${old}`], { httpOnly })

              const loaded = await browser.load(options)
              assert.deepEqual(eventTypes(loaded), ['onTokenRefresh'], 'no onLogout')
              assert.equal(loaded.events[0].userId, 'migrating-user')
              assert.deepEqual(presentationsOf(emulator, old), ['rotated'])
              const successor = emulator.refreshTokenState(old).successor
              const left = sessionCookies(loaded.cookies)
              // A refresh route answers under both namings (one session); the client alone keeps the scoped names.
              const live = options.refreshRoute ? [SCOPED, UNSCOPED] : [SCOPED]
              assert.deepEqual(
                left.map((c) => c.name).sort(),
                live.flatMap((names) => [names.jwt, names.refreshToken]).sort(),
                options.refreshRoute ? 'both namings hold the new session' : 'only the scoped names are live',
              )
              for (const names of live) assert.equal(cookieNamed(left, names.refreshToken).value, successor)
              assert.equal(loaded.readableJwt, loaded.events[0].jwt)

              const me = await browser.request('/me')
              assert.deepEqual([me.status, me.body], [200, { userId: 'migrating-user' }])
              assert.equal(refreshCalls(emulator), 1, 'one refresh in all')
            })
          })
        }
      }

      await t.test("another project's JWT is refused: alone 401, beside this project's session ignored", async () => {
        const browser = await setup()
        await explained(browser, emulator, async () => {
          const sessions = {
            "aud: another project's": emulator.createSession('other-aud-user', { aud: 'other-project' }),
            'another project': emulator.createSession('other-project-user', { project: 'other-project', aud: 'other-project' }),
          }
          for (const [label, other] of Object.entries(sessions)) {
            await browser.reset()
            await browser.seed([`${UNSCOPED.jwt}=${other.jwt}`, `${UNSCOPED.refreshToken}=${other.refreshToken.secret}`])
            const alone = await browser.request('/me')
            assert.equal(alone.status, 401, `${label}, alone (401, not 500): ${inspect(alone.body)}`)
            assert.equal(alone.body.error, 'Unauthorized')

            const mine = emulator.createSession('this-project-user')
            await browser.seed([`${SCOPED.jwt}=${mine.jwt}`, `${SCOPED.refreshToken}=${mine.refreshToken.secret}`])
            const beside = await browser.request('/me')
            assert.deepEqual([beside.status, beside.body], [200, { userId: 'this-project-user' }], label)
            assert.deepEqual(presentationsOf(emulator, other.refreshToken.secret), [], `${label}: the other project's token was not presented`)
          }
        })
      })

      await t.test("refreshRoute mode: a refresh answering another project's JWT is refused by the server (401, issued token revoked)", async () => {
        const browser = await setup()
        await explained(browser, emulator, async () => {
          const session = emulator.createSession('wrong-aud-user', { aud: 'other-project' })
          const spent = session.refreshToken.secret
          await browser.seed([`${clientNames.jwt}=${session.jwt}`, `${clientNames.refreshToken}=${spent}`])
          const loaded = await browser.load(ROUTES)
          assert.deepEqual(eventTypes(loaded), ['onLogout'])
          const refreshCall = loaded.network.findLast((n) => n.url.endsWith('/api/refresh'))
          assert.equal(refreshCall?.status, 401)
          assert.equal(JSON.parse(refreshCall.body).error, 'Unauthorized')
          const issued = emulator.refreshTokenState(spent).successor
          assert.ok(issued, 'Crossmint issued a token for the JWT of another project')
          await revokedEventually(emulator, issued, 'the server revoked what it was issued')
          assert.deepEqual(sessionCookies(loaded.cookies), [], 'no session cookie is left')
          const me = await browser.request('/me')
          assert.equal(me.status, 401)
        })
      })

      // The client's logout() with a logoutRoute deletes its readable cookies and then POSTs the route with no body:
      // the server can only revoke a refresh token the browser still sends, an HttpOnly one.
      await t.test('logout through the client (logoutRoute, HttpOnly refresh token): cookies gone, token revoked, /me 401', async () => {
        const browser = await setup({ httpOnly: true })
        await explained(browser, emulator, async () => {
          await serverStoredSession(browser, 'leaving-user')
          const loaded = await browser.load(ROUTES)
          assert.deepEqual(eventTypes(loaded), ['onTokenRefresh'])
          const held = loaded.events[0].refreshToken
          const after = await browser.logout()
          assert.deepEqual(eventTypes(after), ['onTokenRefresh', 'onLogout'])
          assert.equal(after.network.findLast((n) => n.url.endsWith('/api/logout'))?.status, 200)
          assert.deepEqual(sessionCookies(after.cookies), [], 'no session cookie of either naming, HttpOnly included')
          await revokedEventually(emulator, held, 'the refresh token was revoked at Crossmint')
          const me = await browser.request('/me')
          assert.equal(me.status, 401)
        })
      })

      await t.test('logout through POST /api/logout with the jar: both namings cleared, tokens revoked, /me 401', async () => {
        const browser = await setup()
        await explained(browser, emulator, async () => {
          const { rotated } = await clientStoredSession(browser, 'leaving-user')
          // 1.3.10: an older unscoped session of this project beside the scoped one (left by a 1.2 client); both are ended.
          const legacy = version === '1.3' ? emulator.createSession('leaving-user') : null
          if (legacy) await browser.seed([`${UNSCOPED.jwt}=${legacy.jwt}`, `${UNSCOPED.refreshToken}=${legacy.refreshToken.secret}`])

          const out = await browser.request('/api/logout', { method: 'POST' })
          assert.equal(out.status, 200)
          assert.deepEqual(sessionCookies(out.cookies), [], 'no session cookie of either naming')
          await revokedEventually(emulator, rotated, 'the session refresh token was revoked')
          if (legacy) await revokedEventually(emulator, legacy.refreshToken.secret, 'the unscoped token of this project was revoked')
          const me = await browser.request('/me')
          assert.equal(me.status, 401)
          const loaded = await browser.load()
          assert.deepEqual(eventTypes(loaded), ['onLogout'], 'the next page load finds no session')
        })
      })
    })
  }
}
