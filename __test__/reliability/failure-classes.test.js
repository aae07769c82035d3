'use strict'
// One classification of failures, owned by the Rust core: the same fault at
// Crossmint gives the same answer from every entry point. An outage (5xx,
// unreachable, timeout, a refused redirect, a 429, an answer that is not
// JSON) keeps the session cookies and answers 503 with Retry-After; a failure that ends the
// session (a refused token, or an unusable JSON answer to a refresh, after
// which the token is spent) clears them and answers 401.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, serve, serveExpress, redirectingTo, exchange, cookieHeaderFor, authFor } = require('../helpers/harness.js')
const { CrossmintAuthenticationError } = require('../..')

const FAULTS = [
  { name: 'a 503 HTML page', fault: { html: 503 }, status: 503, code: 'CROSSMINT_UNAVAILABLE' },
  { name: 'a 2xx HTML page', fault: { status: 200, body: '<html>maintenance</html>', contentType: 'text/html' }, status: 503, code: 'CROSSMINT_UNAVAILABLE' },
  { name: 'a 429 (rate limited)', fault: { status: 429 }, status: 503, code: 'CROSSMINT_UNAVAILABLE' },
  { name: 'a 403 HTML page (a CDN in front of Crossmint)', fault: { html: 403 }, status: 503, code: 'CROSSMINT_UNAVAILABLE' },
  { name: 'a hang', fault: { hang: true }, status: 503, code: 'TIMEOUT' },
  { name: 'truncated JSON', fault: { status: 200, body: '{"jwt":"eyJhbGciOi', contentType: 'application/json' }, status: 401, code: 'INVALID_RESPONSE' },
  { name: 'a refused token', fault: { status: 401 }, status: 401, code: 'SESSION_EXPIRED' },
]

/** The entry points, each served on loopback, each answering one request for a session's cookies. */
async function entryPoints(t, auth) {
  const direct = await serve(async (req, res) => {
    try {
      const { userId } = await auth.getSession(req, res)
      res.end(JSON.stringify({ userId }))
    } catch (error) {
      if (!(error instanceof CrossmintAuthenticationError)) throw error
      res.statusCode = 299 // only the cookies and the code are compared for this one
      res.end(JSON.stringify({ code: error.code }))
    }
  })
  const customRefresh = await serve(async (req, res) => {
    await auth.handleCustomRefresh(req, res)
    res.end()
  })
  const express = await serveExpress((app) => {
    const { crossmintMiddleware } = require('crossmint-server-native/express')
    app.get('/me', crossmintMiddleware(auth), (req, res) => res.json({ userId: req.crossmint.userId }))
  })
  const fastify = require('fastify')()
  const { crossmintPlugin, crossmintPreHandler } = require('crossmint-server-native/fastify')
  fastify.register(crossmintPlugin, { crossmintAuth: auth })
  fastify.get('/me', { preHandler: crossmintPreHandler(auth) }, async (request) => ({ userId: request.crossmint.userId }))
  await fastify.listen({ port: 0, host: '127.0.0.1' })
  const { Hono } = require('hono')
  const { serve: serveHono } = require('@hono/node-server')
  const { crossmintMiddleware: honoMiddleware } = require('crossmint-server-native/hono')
  const hono = new Hono()
  hono.get('/me', honoMiddleware(auth), (c) => c.json({ userId: c.var.crossmint.userId }))
  const honoServer = await new Promise((resolve) => {
    const server = serveHono({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server))
  })
  t.after(async () => {
    await Promise.all([direct.close(), customRefresh.close(), express.close(), fastify.close()])
    honoServer.closeAllConnections()
    await new Promise((resolve) => honoServer.close(resolve))
  })
  return {
    'getSession(req, res)': (cookie) => exchange(`${direct.url}/me`, { cookie }),
    handleCustomRefresh: (cookie) => exchange(`${customRefresh.url}/refresh`, { method: 'POST', cookie }),
    '/express': (cookie) => exchange(`${express.url}/me`, { cookie }),
    '/fastify': (cookie) => exchange(`http://127.0.0.1:${fastify.server.address().port}/me`, { cookie }),
    '/hono': (cookie) => exchange(`http://127.0.0.1:${honoServer.address().port}/me`, { cookie }),
  }
}

const cleared = (answer) => answer.setCookie.some((line) => /^crossmint-refresh-token=;/.test(line))

function assertAnswer(name, answer, { status, code }, label) {
  const outage = status === 503
  assert.equal(cleared(answer), !outage, `${label}: ${name} ${outage ? 'keeps' : 'clears'} the cookies (${answer.setCookie})`)
  if (name === 'getSession(req, res)') {
    assert.equal(answer.body.code, code, `${label}: ${name}`)
    return
  }
  assert.equal(answer.status, status, `${label}: ${name} answered ${answer.status} ${JSON.stringify(answer.body)}`)
  if (name !== 'handleCustomRefresh') assert.equal(answer.body.code, code, `${label}: ${name}`)
}

test('the same Crossmint fault gives the same answer from every entry point', { timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { timeoutMs: 300 })
  const calls = await entryPoints(t, auth)
  for (const expected of FAULTS) {
    for (const [name, call] of Object.entries(calls)) {
      const session = emulator.createSession(`classes-${name}`, { jwtTtlSeconds: -1 })
      emulator.faults.refresh = { ...expected.fault }
      const answer = await call(cookieHeaderFor(session))
      emulator.resetFaults()
      assertAnswer(name, answer, expected, expected.name)
    }
  }
})

test('a redirect to another origin is refused as an outage, with its own code, from every entry point', { timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  const redirector = await redirectingTo(emulator.url)
  t.after(() => redirector.close())
  const auth = authFor({ apiKey: emulator.apiKey, url: redirector.url })
  const calls = await entryPoints(t, auth)
  for (const [name, call] of Object.entries(calls)) {
    const session = emulator.createSession('redirected', { jwtTtlSeconds: -1 })
    assertAnswer(name, await call(cookieHeaderFor(session)), { status: 503, code: 'REDIRECT_REFUSED' }, 'a redirect')
  }
  assert.deepEqual(
    emulator.requests.filter((r) => r.path.startsWith('/api/')).map((r) => r.path),
    [],
    'nothing followed the redirect',
  )
})
