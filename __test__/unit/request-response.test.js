'use strict'
// What the SDK reads from requests and writes to responses, over real
// sockets: refresh bodies that never end or are cut off, responses it cannot
// write to (refused before any token is spent), the success status, the
// Express middleware's outage answer and the level of the rejection line.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { withEmulator, ours, authFor, serve, listenDuring, exchange, cookieHeaderFor, callsTo, sleep } = require('../helpers/harness.js')
const { REFRESH_PATH, LOGOUT_PATH, JWKS_PATH } = require('../../testing/emulator.js')

/** Opens a socket, sends a POST whose body is announced but never completed; returns the socket and its reply text. */
function sendUnfinishedBody(url, { cookie } = {}) {
  const { port } = new URL(url)
  const socket = net.connect(Number(port), '127.0.0.1')
  socket.write(
    'POST /refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 200\r\n' +
      (cookie ? `Cookie: ${cookie}\r\n` : '') +
      '\r\n{"refresh":',
  )
  let reply = ''
  socket.setEncoding('utf8').on('data', (chunk) => (reply += chunk))
  const closed = new Promise((resolve) => socket.on('close', resolve))
  return { socket, reply: () => reply, closed }
}

test('a refresh body that never ends is given up at timeoutMs; the refresh cookie still serves', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { timeoutMs: 300 })
  const server = await serve(async (req, res) => {
    await auth.handleCustomRefresh(req, res)
    res.end()
  })
  t.after(() => server.close())

  const started = Date.now()
  const anonymous = sendUnfinishedBody(server.url)
  await new Promise((resolve) => anonymous.socket.on('data', resolve))
  assert.match(anonymous.reply(), /^HTTP\/1.1 401/)
  assert.match(anonymous.reply(), /Please provide a refresh token/)
  anonymous.socket.destroy()

  const session = emulator.createSession('slow-body-user')
  const withCookie = sendUnfinishedBody(server.url, { cookie: cookieHeaderFor(session) })
  await new Promise((resolve) => withCookie.socket.on('data', resolve))
  assert.match(withCookie.reply(), /^HTTP\/1.1 200/)
  withCookie.socket.destroy()
  // Both waited for the deadline, not for a client that never finishes.
  assert.ok(Date.now() - started < 10000)
})

test('a refresh body cut off by the client ends the read at once, long before timeoutMs', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { timeoutMs: 600000 })
  let settled
  const finished = new Promise((resolve) => (settled = resolve))
  const server = await serve(async (req, res) => {
    try {
      await auth.handleCustomRefresh(req, res)
      settled('answered')
    } catch (error) {
      settled(`threw ${error.message}`)
    }
    res.end()
  })
  t.after(() => server.close())
  const client = sendUnfinishedBody(server.url)
  await sleep(100)
  client.socket.destroy()
  const outcome = await Promise.race([finished, new Promise((resolve) => setTimeout(() => resolve('still pending'), 5000))])
  assert.equal(outcome, 'answered')
  assert.equal(callsTo(emulator, REFRESH_PATH), 0)
})

test('a Fetch refresh body that never ends is given up at timeoutMs', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { timeoutMs: 300 })
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"refresh":'))
    },
  })
  const request = new Request('http://127.0.0.1/refresh', { method: 'POST', body, duplex: 'half' })
  const answer = await auth.handleCustomRefresh(request)
  assert.equal(answer.status, 401)
  assert.match(await answer.text(), /Please provide a refresh token/)
})

test('a response the SDK cannot write to is refused before any refresh token is spent', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const expired = emulator.createSession('kept-user', { jwtTtlSeconds: -60 })
  const request = new Request('http://127.0.0.1/', { headers: { cookie: cookieHeaderFor(expired) } })
  for (const unusable of [{}, { headers: {} }, 'res', { raw: {} }, { res: {} }]) {
    await assert.rejects(auth.getSession(request, unusable), (error) => {
      assert.equal(error.name, 'TypeError')
      assert.match(error.message, /^getSession: cannot write to the response given .*Fastify reply or a Koa ctx/)
      return true
    })
    await assert.rejects(auth.handleCustomRefresh(request, unusable), /^TypeError: handleCustomRefresh: cannot write/)
    await assert.rejects(auth.logout(request, unusable), /^TypeError: logout: cannot write/)
  }
  assert.equal(callsTo(emulator, REFRESH_PATH), 0)
  assert.equal(callsTo(emulator, LOGOUT_PATH), 0)
  // The user's session is intact.
  const session = await auth.getSession({ jwt: expired.jwt, refreshToken: expired.refreshToken.secret })
  assert.equal(session.userId, 'kept-user')
})

test('a Response whose headers cannot change: no refresh token spent for it; a logout still ends the session and says the cookies stay', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const expired = emulator.createSession('immutable-user', { jwtTtlSeconds: -60 })
  const request = new Request('http://127.0.0.1/', { headers: { cookie: cookieHeaderFor(expired) } })
  const fetched = await fetch(`${emulator.url}${JWKS_PATH}`)
  await fetched.arrayBuffer()
  for (const immutable of [Response.redirect('http://127.0.0.1/elsewhere'), Response.error(), fetched]) {
    await assert.rejects(auth.getSession(request, immutable), {
      name: 'TypeError',
      message: /^getSession: the Response given has immutable headers.*not spent/,
    })
    // A JWT that verifies needs no write: answered.
    const valid = emulator.createSession('immutable-valid')
    assert.equal((await auth.getSession({ jwt: valid.jwt, refreshToken: valid.refreshToken.secret }, immutable)).userId, 'immutable-valid')
  }
  assert.equal(callsTo(emulator, REFRESH_PATH), 0)
  // The user's session is intact, and a writable response gets its cookies.
  const response = new Response()
  assert.equal((await auth.getSession(request, response)).userId, 'immutable-user')
  assert.equal(response.headers.getSetCookie().length, 2)
  // A logout ends the session even so, and says the cookies could not be cleared.
  const leaving = emulator.createSession('immutable-leaving')
  const leavingRequest = new Request('http://127.0.0.1/', { headers: { cookie: cookieHeaderFor(leaving) } })
  await assert.rejects(auth.logout(leavingRequest, Response.redirect('http://127.0.0.1/bye')), {
    name: 'TypeError',
    message: /^logout: the session was ended, but the Response given has immutable headers/,
  })
  assert.equal(emulator.refreshTokenState(leaving.refreshToken.secret).revoked, true)
  await assert.rejects(auth.getSession({ jwt: leaving.jwt, refreshToken: leaving.refreshToken.secret }), { code: 'SESSION_EXPIRED' })
})

test('getSession after the headers went out: a valid JWT answers, a session needing a refresh is refused and its token kept', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const server = await serve(async (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const outcome = await auth.getSession(req, res).then(
      (session) => ({ userId: session.userId }),
      (error) => ({ error: `${error.name}: ${error.message}` }),
    )
    res.end(JSON.stringify(outcome))
  })
  t.after(() => server.close())
  // First request of the process for this key set: the JWT is checked after a key set fetch.
  const valid = emulator.createSession('sent-valid')
  assert.deepEqual((await exchange(server.url, { cookie: cookieHeaderFor(valid) })).body, { userId: 'sent-valid' })
  const expired = emulator.createSession('sent-expired', { jwtTtlSeconds: -60 })
  const late = await exchange(server.url, { cookie: cookieHeaderFor(expired) })
  assert.match(late.body.error, /^TypeError: getSession: the response's headers were already sent/)
  assert.equal(callsTo(emulator, REFRESH_PATH), 0, 'the refresh token was not spent')
  // The session is intact for a request that can take its cookies.
  assert.equal((await auth.getSession({ jwt: expired.jwt, refreshToken: expired.refreshToken.secret })).userId, 'sent-expired')
})

test('refresh and logout answer 200 even where the framework preset another status', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const server = await serve(async (req, res) => {
    res.statusCode = 404 // Koa's starting point
    if (req.url === '/refresh') await auth.handleCustomRefresh(req, res)
    else await auth.logout(req, res)
    res.end()
  })
  t.after(() => server.close())
  const refreshed = await exchange(`${server.url}/refresh`, { method: 'POST', cookie: cookieHeaderFor(emulator.createSession('u1')) })
  assert.equal(refreshed.status, 200)
  assert.equal(refreshed.setCookie.length, 4, 'one session under both namings')
  const loggedOut = await exchange(`${server.url}/logout`, { method: 'POST', cookie: cookieHeaderFor(emulator.createSession('u2')) })
  assert.equal(loggedOut.status, 200)
  assert.match(loggedOut.setCookie[0], new RegExp(`^crossmint-jwt-${emulator.projectId}=;`))
  assert.match(loggedOut.setCookie[2], /^crossmint-jwt=;/)
})

test('Express middleware: a Crossmint outage answers 503 with Retry-After, required or optional, and keeps the cookies', async (t) => {
  const express = require('express')
  const { crossmintMiddleware, refreshRoute } = require('crossmint-server-native/express')
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const app = express()
  app.get('/me', crossmintMiddleware(auth), (req, res) => res.json({ userId: req.crossmint.userId }))
  app.get('/home', crossmintMiddleware(auth, { required: false }), (req, res) => res.json({ guest: req.crossmint === null }))
  app.post('/refresh', refreshRoute(auth))
  const url = await listenDuring(t, app)

  emulator.faults.refresh = { status: 503 }
  for (const path of ['/me', '/home']) {
    const expired = emulator.createSession('outage-user', { jwtTtlSeconds: -60 })
    const answer = await fetch(url + path, { headers: { cookie: cookieHeaderFor(expired) } })
    assert.equal(answer.status, 503, path)
    assert.equal(answer.headers.get('retry-after'), '5')
    assert.deepEqual(answer.headers.getSetCookie(), [])
    assert.equal((await answer.json()).code, 'CROSSMINT_UNAVAILABLE')
  }
  const refreshed = await fetch(`${url}/refresh`, { method: 'POST', headers: { cookie: cookieHeaderFor(emulator.createSession('outage-user')) } })
  assert.equal(refreshed.status, 503)
  assert.equal(refreshed.headers.get('retry-after'), '5')

  emulator.resetFaults()
  const refused = await fetch(`${url}/me`, { headers: { cookie: 'crossmint-jwt=x; crossmint-refresh-token=y' } })
  assert.equal(refused.status, 401)
  const guest = await fetch(`${url}/home`, { headers: { cookie: 'crossmint-jwt=x; crossmint-refresh-token=y' } })
  assert.deepEqual(await guest.json(), { guest: true })
})

test("logRejections: one line at the chosen level instead of the reference's error with a stack", async (t) => {
  const emulator = await withEmulator(t)
  const lines = []
  const logger = Object.fromEntries(['error', 'warn', 'info', 'debug'].map((level) => [level, (...args) => lines.push([level, ...args])]))
  const refused = { jwt: 'not-a-jwt', refreshToken: 'not-a-token' }

  await assert.rejects(authFor(emulator, { logger }).getSession(refused))
  assert.equal(lines.length, 1)
  assert.deepEqual(lines[0].slice(0, 2), ['error', 'Failed to get session'])
  assert.ok(lines[0][2] instanceof ours.CrossmintAuthenticationError)

  lines.length = 0
  await assert.rejects(authFor(emulator, { logger, logRejections: 'debug' }).getSession(refused))
  assert.deepEqual(lines, [['debug', 'Failed to get session (SESSION_EXPIRED): Unauthorized']])

  lines.length = 0
  await assert.rejects(authFor(emulator, { logger, logRejections: false }).getSession(refused))
  assert.deepEqual(lines, [])

  assert.throws(() => authFor(emulator, { logRejections: 'loud' }), /logRejections must be one of "error", "warn", "info", "debug" or false/)
})

test('a Fetch refresh body another reader holds counts as no body: the refresh cookie serves', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const session = emulator.createSession('locked-body')
  const request = new Request('http://127.0.0.1/refresh', { method: 'POST', body: '{}', headers: { cookie: cookieHeaderFor(session) } })
  request.body.getReader() // a logging middleware holding the stream
  const answer = await auth.handleCustomRefresh(request)
  assert.equal(answer.status, 200)
  assert.equal((await answer.json()).user.id, 'locked-body')
})

test("a plain request object's parsed body carries the refresh token, as a Node request's does", async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const session = emulator.createSession('plain-body')
  const answer = await auth.handleCustomRefresh({ method: 'POST', headers: {}, body: { refresh: session.refreshToken.secret } })
  assert.equal(answer.status, 200)
  assert.equal((await answer.json()).user.id, 'plain-body')
  const noBody = await auth.handleCustomRefresh({ method: 'POST', headers: {} })
  assert.equal(noBody.status, 401)
})

test('on a node:http response the session cookies are added to the ones the app set, never in their place', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const server = await serve(async (req, res) => {
    res.setHeader('Set-Cookie', req.url === '/one' ? 'csrf=abc; Path=/' : ['csrf=abc; Path=/', 'theme=dark; Path=/'])
    const { userId } = await auth.getSession(req, res)
    res.end(userId)
  })
  t.after(() => server.close())
  for (const [path, app] of [
    ['/one', ['csrf']],
    ['/two', ['csrf', 'theme']],
  ]) {
    const expired = emulator.createSession('app-cookies', { jwtTtlSeconds: -60 })
    const answer = await exchange(`${server.url}${path}`, { cookie: cookieHeaderFor(expired) })
    assert.equal(answer.status, 200)
    const names = answer.setCookie.map((line) => line.slice(0, line.indexOf('=')))
    // The app's cookies first, then the session under the names the request came in with.
    assert.deepEqual(names, [...app, 'crossmint-jwt', 'crossmint-refresh-token'])
    assert.ok(answer.setCookie[0].startsWith('csrf=abc; Path=/'))
  }
})

test("a refresh token in the body that fails leaves the cookies' own session alone: not revoked, not cleared", async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const project = emulator.projectId
  const live = emulator.createSession('cookie-session')
  const cookie = `crossmint-jwt-${project}=${live.jwt}; crossmint-refresh-token-${project}=${live.refreshToken.secret}`
  const junk = new Request('http://127.0.0.1/refresh', { method: 'POST', headers: { cookie }, body: JSON.stringify({ refresh: 'stale-or-junk' }) })
  const refused = await auth.handleCustomRefresh(junk)
  assert.equal(refused.status, 401)
  assert.deepEqual(refused.headers.getSetCookie(), [], 'the cookies are not cleared')
  await sleep(200) // a revocation would have been sent in the background by now
  assert.equal(emulator.refreshTokenState(live.refreshToken.secret).revoked, false)
  assert.equal((await auth.getSession(new Request('http://127.0.0.1/', { headers: { cookie } }))).userId, 'cookie-session')
  // The same token in the body and the cookie: that session is over, as before.
  emulator.revokeRefreshToken(live.refreshToken.secret)
  const expired = emulator.createSession('cookie-session', { jwtTtlSeconds: -60 })
  emulator.revokeRefreshToken(expired.refreshToken.secret)
  const same = `crossmint-jwt-${project}=${expired.jwt}; crossmint-refresh-token-${project}=${expired.refreshToken.secret}`
  const ended = await auth.handleCustomRefresh(
    new Request('http://127.0.0.1/refresh', { method: 'POST', headers: { cookie: same }, body: JSON.stringify({ refresh: expired.refreshToken.secret }) }),
  )
  assert.equal(ended.status, 401)
  assert.ok(ended.headers.getSetCookie().some((line) => line.startsWith(`crossmint-refresh-token-${project}=;`)))
})
