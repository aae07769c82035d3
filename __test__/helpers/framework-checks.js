'use strict'
// The nine checks every framework example must pass, as a new user would try
// them against the emulator, and a way to run an example as its own process
// (node, deno or bun) the way its README row says.
//
// An app under test serves, on loopback:
//   GET  <me>       a route that requires a session: 200 { userId } or 401
//   POST <refresh>  the refresh route (JSON body { refresh } or the cookie)
//   POST <logout>   the logout route
// An example run as a process reads SERVER_CROSSMINT_API_KEY,
// CROSSMINT_BASE_URL and PORT (0 = any) and prints "Listening on <url>".

const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')

const { REFRESH_PATH, LOGOUT_PATH } = require('../../testing/emulator.js')
const { exchangeText, cookieHeaderFor, callsTo } = require('./common.js')

const DEFAULT_ROUTES = { me: '/me', refresh: '/refresh', logout: '/logout' }

/** `name=value` of each Set-Cookie, by name. */
function cookieValues(setCookie) {
  const values = {}
  for (const line of setCookie) {
    const [pair] = line.split(';')
    const at = pair.indexOf('=')
    values[pair.slice(0, at)] = pair.slice(at + 1)
  }
  return values
}

const UNSCOPED = { jwt: 'crossmint-jwt', refreshToken: 'crossmint-refresh-token' }
/** The names Crossmint's current client uses for the emulator's project. */
const scopedNames = (emulator) => ({ jwt: `crossmint-jwt-${emulator.projectId}`, refreshToken: `crossmint-refresh-token-${emulator.projectId}` })

/** Exactly the cookies of `namings` cleared (a logout clears both namings, a refusal the one it read). */
function assertCleared(answer, label, namings) {
  const expected = {}
  for (const names of namings) Object.assign(expected, { [names.jwt]: '', [names.refreshToken]: '' })
  assert.deepEqual(cookieValues(answer.setCookie), expected, `${label}: cookies cleared`)
}

/** A new session under `names`; returns `{ jwt, refreshToken }`. */
function assertNewSession(answer, label, names) {
  const values = cookieValues(answer.setCookie)
  const session = { jwt: values[names.jwt] || '', refreshToken: values[names.refreshToken] || '' }
  assert.match(session.jwt, /^eyJ/, `${label}: a new JWT cookie named ${names.jwt}`)
  assert.match(session.refreshToken, /^\S+$/, `${label}: a new refresh cookie named ${names.refreshToken}`)
  return session
}

/** A refresh route's answer: one new session under the scoped names and the same one under the unscoped names. */
function assertRouteSession(answer, label, scoped) {
  const session = assertNewSession(answer, label, scoped)
  assert.deepEqual(assertNewSession(answer, `${label} (unscoped)`, UNSCOPED), session, `${label}: the same session under both namings`)
}

/**
 * Runs the nine checks against `url`, with `t.test` subtests so a failure
 * names the check. `emulator` is the Crossmint emulator the app talks to.
 */
async function runNineChecks(t, { url, emulator, routes = {}, label = 'app' }) {
  const { me, refresh, logout } = { ...DEFAULT_ROUTES, ...routes }
  const scoped = scopedNames(emulator)

  await t.test(`${label}: 1 valid session`, async () => {
    const session = emulator.createSession('valid-user')
    const answer = await exchangeText(url + me, { cookie: cookieHeaderFor(session) })
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.json.userId, 'valid-user')
    // The same under the names Crossmint's current client writes.
    const current = await exchangeText(url + me, { cookie: `${scoped.jwt}=${session.jwt}; ${scoped.refreshToken}=${session.refreshToken.secret}` })
    assert.equal(current.status, 200, current.text)
    assert.equal(current.json.userId, 'valid-user')
  })

  await t.test(`${label}: 2 expired JWT refreshed once, cookies stored`, async () => {
    const session = emulator.createSession('expired-user', { jwtTtlSeconds: -60 })
    const before = callsTo(emulator, REFRESH_PATH)
    const answer = await exchangeText(url + me, { cookie: cookieHeaderFor(session) })
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.json.userId, 'expired-user')
    // Under the names the request came in with: the page's own client reads them.
    const values = assertNewSession(answer, 'refreshed', UNSCOPED)
    assert.equal(callsTo(emulator, REFRESH_PATH) - before, 1, 'exactly one refresh at Crossmint')
    // The new material is a working session.
    const again = await exchangeText(url + me, {
      cookie: `crossmint-jwt=${values.jwt}; crossmint-refresh-token=${values.refreshToken}`,
    })
    assert.equal(again.status, 200, again.text)
  })

  await t.test(`${label}: 3 bad token refused, cookies cleared`, async () => {
    const answer = await exchangeText(url + me, { cookie: 'crossmint-jwt=not-a-jwt; crossmint-refresh-token=not-a-token' })
    assert.equal(answer.status, 401, answer.text)
    assertCleared(answer, 'bad token', [UNSCOPED])
  })

  await t.test(`${label}: 4 no cookies`, async () => {
    const answer = await exchangeText(url + me)
    assert.equal(answer.status, 401, answer.text)
  })

  await t.test(`${label}: 5 refresh by cookie`, async () => {
    const session = emulator.createSession('cookie-refresh-user')
    const answer = await exchangeText(url + refresh, { method: 'POST', cookie: cookieHeaderFor(session) })
    assert.equal(answer.status, 200, answer.text)
    // A refresh route answers one session under both namings.
    assertRouteSession(answer, 'refresh by cookie', scoped)
    assert.match(answer.json.jwt, /^eyJ/)
  })

  await t.test(`${label}: 6 refresh by JSON body`, async () => {
    const spare = emulator.issueRefreshToken('body-refresh-user')
    const answer = await exchangeText(url + refresh, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh: spare.secret }),
    })
    assert.equal(answer.status, 200, answer.text)
    assertRouteSession(answer, 'refresh by body', scoped)
    assert.match(answer.json.jwt, /^eyJ/)
  })

  await t.test(`${label}: 7 refresh with a bad token`, async () => {
    const answer = await exchangeText(url + refresh, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh: 'not-a-token' }),
    })
    assert.equal(answer.status, 401, answer.text)
    assertCleared(answer, 'bad refresh', [scoped])
  })

  const loggedOut = emulator.createSession('logout-user', { jwtTtlSeconds: -60 })
  await t.test(`${label}: 8 logout`, async () => {
    const before = callsTo(emulator, LOGOUT_PATH)
    const answer = await exchangeText(url + logout, { method: 'POST', cookie: cookieHeaderFor(loggedOut) })
    assert.equal(answer.status, 200, answer.text)
    assertCleared(answer, 'logout', [scoped, UNSCOPED])
    assert.equal(callsTo(emulator, LOGOUT_PATH) - before, 1, 'one logout at Crossmint')
  })

  await t.test(`${label}: 9 token refused after logout`, async () => {
    const session = await exchangeText(url + me, { cookie: cookieHeaderFor(loggedOut) })
    assert.equal(session.status, 401, session.text)
    const refreshed = await exchangeText(url + refresh, { method: 'POST', cookie: cookieHeaderFor(loggedOut) })
    assert.equal(refreshed.status, 401, refreshed.text)
  })
}

/**
 * Starts `command args` with the emulator's address in its environment and
 * resolves with `{ url, output, stop }` once it prints "Listening on <url>".
 * Fails (with everything it printed) if it exits or is silent for `timeoutMs`.
 */
function startExample(t, command, args, { emulator, cwd, env = {}, timeoutMs = 30000 }) {
  const child = spawn(command, args, {
    cwd,
    env: {
      ...process.env,
      SERVER_CROSSMINT_API_KEY: emulator.apiKey,
      CROSSMINT_BASE_URL: emulator.url,
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', resolve)
      child.kill('SIGKILL')
    })
  t.after(stop)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command} printed no "Listening on" within ${timeoutMs} ms:\n${output}`)), timeoutMs)
    const onOutput = (chunk) => {
      output += chunk
      const match = /Listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve({ url: match[1], output: () => output, stop })
      }
    }
    child.stdout.setEncoding('utf8').on('data', onOutput)
    child.stderr.setEncoding('utf8').on('data', onOutput)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${command} ${args.join(' ')} exited (${code ?? signal}) before listening:\n${output}`))
    })
  })
}

module.exports = { runNineChecks, startExample, cookieValues }
