'use strict'
// The framework examples end to end against the emulator: the Express
// middleware from `crossmint-server-native/express`, and a fetch-style
// handler as Hono, Bun and Deno run it.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, exchange, cookieHeaderFor, listen } = require('../helpers/harness.js')
const { createApp } = require('../../examples/express-middleware.js')
const { createHandler } = require('../../examples/fetch-handler.js')

test('Express middleware: required, optional, refresh and logout routes', async (t) => {
  const emulator = await withEmulator(t)
  const server = await listen(createApp({ apiKey: emulator.apiKey, baseUrl: emulator.url }))
  t.after(() => server.close())
  const session = emulator.createSession('mw-user')

  const me = await exchange(`${server.url}/me`, { cookie: cookieHeaderFor(session) })
  assert.deepEqual([me.status, me.body], [200, { userId: 'mw-user' }])

  const anonymous = await exchange(`${server.url}/me`)
  assert.equal(anonymous.status, 401)
  assert.deepEqual(anonymous.body, { error: 'Unauthorized', code: 'NO_AUTH_MATERIAL', message: 'No cookies found in request' })

  const guest = await exchange(`${server.url}/home`)
  assert.deepEqual(guest.body, { greeting: 'Hello, guest' })
  const member = await exchange(`${server.url}/home`, { cookie: cookieHeaderFor(session) })
  assert.deepEqual(member.body, { greeting: 'Welcome back, mw-user' })

  const expired = emulator.createSession('mw-user', { jwtTtlSeconds: -1 })
  const refreshedByMiddleware = await exchange(`${server.url}/me`, { cookie: cookieHeaderFor(expired) })
  assert.equal(refreshedByMiddleware.status, 200)
  assert.match(refreshedByMiddleware.setCookie[1], /HttpOnly/)

  const spare = emulator.issueRefreshToken('mw-user')
  const refreshed = await exchange(`${server.url}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh: spare.secret }),
  })
  assert.equal(refreshed.status, 200)
  assert.equal(refreshed.setCookie.length, 4, 'one session under both namings')

  const loggedOut = await exchange(`${server.url}/logout`, { method: 'POST', cookie: cookieHeaderFor(session) })
  assert.equal(loggedOut.status, 200)
  assert.match(loggedOut.setCookie[0], new RegExp(`^crossmint-jwt-${emulator.projectId}=; `))
  assert.match(loggedOut.setCookie[2], /^crossmint-jwt=; /, 'both namings cleared')
})

test('Express middleware: unexpected failures go to the error handler', async (t) => {
  const express = require('express')
  const { crossmintMiddleware } = require('crossmint-server-native/express')
  const broken = {
    getSession: async () => {
      throw new TypeError('database exploded')
    },
  }
  const app = express()
  app.get('/me', crossmintMiddleware(broken), (req, res) => res.json({ reached: true }))
  app.use((error, req, res, next) => res.status(500).json({ handled: error.message }))
  const server = await listen(app)
  t.after(() => server.close())
  const answer = await exchange(`${server.url}/me`)
  assert.deepEqual([answer.status, answer.body], [500, { handled: 'database exploded' }])
})

test('fetch-style handler: session, refresh with cookies, logout, 401 with a code', async (t) => {
  const emulator = await withEmulator(t)
  const handle = createHandler({ apiKey: emulator.apiKey, baseUrl: emulator.url })
  const session = emulator.createSession('fetch-user')
  const call = (path, init = {}) => handle(new Request(`http://app.test${path}`, init))

  const me = await call('/api/me', { headers: { cookie: cookieHeaderFor(session) } })
  assert.deepEqual([me.status, await me.json()], [200, { userId: 'fetch-user' }])

  const expired = emulator.createSession('fetch-user', { jwtTtlSeconds: -1 })
  const refreshedMe = await call('/api/me', { headers: { cookie: cookieHeaderFor(expired) } })
  assert.equal(refreshedMe.status, 200)
  assert.equal(refreshedMe.headers.getSetCookie().length, 2)

  const refresh = await call('/api/refresh', { method: 'POST', body: JSON.stringify({ refresh: emulator.issueRefreshToken('fetch-user').secret }) })
  assert.equal(refresh.status, 200)
  assert.equal((await refresh.json()).user.id, 'fetch-user')

  const logout = await call('/api/logout', { method: 'POST', headers: { cookie: cookieHeaderFor(session) } })
  assert.equal(logout.headers.getSetCookie().length, 4, 'both namings cleared')

  const anonymous = await call('/api/me')
  assert.deepEqual([anonymous.status, await anonymous.json()], [401, { error: 'Unauthorized', code: 'NO_AUTH_MATERIAL' }])
})

test('Express helpers: refused at setup without a CrossmintAuth; no second answer after another middleware answered', async (t) => {
  const express = require('express')
  const { crossmintMiddleware, refreshRoute, logoutRoute } = require('crossmint-server-native/express')
  for (const helper of [crossmintMiddleware, refreshRoute, logoutRoute]) {
    assert.throws(() => helper(undefined), { name: 'TypeError', message: /expects a CrossmintAuth/ })
  }
  const { authFor } = require('../helpers/harness.js')
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 300 }
  const auth = authFor(emulator, { logger: false })
  const app = express()
  // A request timeout that answers while the session is still being checked.
  app.use((req, res, next) => {
    setTimeout(() => res.status(503).json({ error: 'timed out' }), 50)
    next()
  })
  app.get('/me', crossmintMiddleware(auth), (req, res) => {
    if (!res.headersSent) res.json({ userId: req.crossmint.userId })
  })
  const unhandled = []
  const onUnhandled = (error) => unhandled.push(error)
  process.on('unhandledRejection', onUnhandled)
  t.after(() => process.off('unhandledRejection', onUnhandled))
  const server = await listen(app)
  t.after(() => server.close())
  const refused = emulator.createSession('late-refusal', { jwtTtlSeconds: -60 })
  emulator.revokeRefreshToken(refused.refreshToken.secret)
  const answer = await exchange(`${server.url}/me`, { cookie: cookieHeaderFor(refused) })
  assert.equal(answer.status, 503)
  await new Promise((resolve) => setTimeout(resolve, 500))
  assert.deepEqual(unhandled, [], 'nothing written twice, nothing thrown out of the middleware')
})

test('Fastify: a refreshed session reaches the browser when the route streams on reply.raw, and once when Fastify answers', async (t) => {
  const fastify = require('fastify')()
  const { crossmintPlugin, crossmintPreHandler } = require('crossmint-server-native/fastify')
  const { authFor } = require('../helpers/harness.js')
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  fastify.register(crossmintPlugin, { crossmintAuth: auth })
  fastify.get('/stream', { preHandler: crossmintPreHandler(auth) }, (request, reply) => {
    reply.hijack()
    reply.raw.writeHead(200, { 'content-type': 'text/plain' })
    reply.raw.end(request.crossmint.userId)
  })
  fastify.get('/me', { preHandler: crossmintPreHandler(auth) }, async (request) => ({ userId: request.crossmint.userId }))
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => fastify.close())
  const url = `http://127.0.0.1:${fastify.server.address().port}`
  for (const path of ['/stream', '/me']) {
    const expired = emulator.createSession(`fastify-${path.slice(1)}`, { jwtTtlSeconds: -60 })
    const answer = await exchange(`${url}${path}`, { cookie: cookieHeaderFor(expired) })
    assert.equal(answer.status, 200)
    const names = answer.setCookie.map((line) => line.slice(0, line.indexOf('=')))
    assert.deepEqual(names.sort(), ['crossmint-jwt', 'crossmint-refresh-token'], `${path}: ${names.join()}`)
  }
})
