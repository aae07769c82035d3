'use strict'
// Every framework example run as its own process, as its README section says,
// through the nine checks against the emulator; then, in-process, what the
// checks cannot see: outages (503 + Retry-After), optional sessions, errors
// handed to the framework, the Fastify plugin's conventions, and that a
// Fastify reply or a Koa response that cannot be written to never spends a
// refresh token.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { withEmulator, authFor, exchangeText, cookieHeaderFor, callsTo, listenDuring, testFilePath, root } = require('../helpers/harness.js')
const { runNineChecks, startExample } = require('../helpers/framework-checks.js')
const { REFRESH_PATH, LOGOUT_PATH } = require('../../testing/emulator.js')

const PROCESS_EXAMPLES = [
  ['Express 4', 'examples/express-middleware.js'],
  ['Express 5', 'examples/express5-server.js'],
  ['node:http', 'examples/node-http-server.js'],
  ['Fastify 5', 'examples/fastify-server.js'],
  ['Koa 2', 'examples/koa-server.js'],
]

for (const [label, file] of PROCESS_EXAMPLES) {
  test(`${label} example (${file}) as a process: the nine checks`, { timeout: 60000 }, async (t) => {
    const emulator = await withEmulator(t)
    const { url } = await startExample(t, process.execPath, [path.join(root, file)], { emulator, cwd: root })
    await runNineChecks(t, { url, emulator, label })
  })
}

// ---- Hono: TypeScript compiled with the repository's tsc, output run on Node --

const honoDir = path.join(root, 'examples/hono')

let honoBuild
/** One tsc run for both Hono tests: its status, and the output in examples/hono/dist. */
function compileHono() {
  const tsc = require.resolve('typescript/bin/tsc')
  honoBuild ||= spawnSync(process.execPath, [tsc, '-p', path.join(honoDir, 'tsconfig.json')], { encoding: 'utf8' })
  return honoBuild
}

test('Hono example: tsc --strict compiles it (typed c.var.crossmint, SDK calls typed Promise<Response>)', { timeout: 120000 }, () => {
  const run = compileHono()
  assert.equal(run.status, 0, run.stdout + run.stderr)
})

test('lib/public/fastify.d.ts and lib/public/hono.d.ts: typed routes compile with tsc --strict and the mistakes in examples/typescript/frameworks.ts are caught', {
  timeout: 120000,
}, () => {
  const tsc = require.resolve('typescript/bin/tsc')
  const run = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'examples/typescript/tsconfig.frameworks.json')], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stdout + run.stderr)
})

test('Hono 4 example (examples/hono, compiled) on @hono/node-server: the nine checks', { timeout: 120000 }, async (t) => {
  // tsc writes the output even when a type check fails; the test above says so.
  compileHono()
  const emulator = await withEmulator(t)
  const { url } = await startExample(t, process.execPath, [path.join(honoDir, 'dist/server.js')], { emulator, cwd: honoDir })
  await runNineChecks(t, { url, emulator, label: 'Hono 4' })
})

// ---- in-process: what the nine checks do not cover ---------------------------

async function listenFastify(t, app) {
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.after(() => app.close())
  return `http://127.0.0.1:${app.server.address().port}`
}

test('Fastify plugin: Fastify conventions, optional sessions, outages 503 + Retry-After, other errors to the error handler', async (t) => {
  const Fastify = require('fastify')
  const { crossmintPlugin, crossmintPreHandler } = require('crossmint-server-native/fastify')
  const emulator = await withEmulator(t)
  const crossmintAuth = authFor(emulator)
  const broken = {
    getSession: async () => {
      throw new RangeError('database exploded')
    },
  }

  const app = Fastify()
  // Without skip-override, register would give the plugin its own scope and the decorator would stay in it.
  await app.register(crossmintPlugin, { crossmintAuth })
  assert.ok(app.hasRequestDecorator('crossmint'), 'request.crossmint declared outside the plugin scope')
  assert.ok(app.hasPlugin('crossmint-server-native'), 'registered under its name')
  app.get('/me', { preHandler: crossmintPreHandler(crossmintAuth) }, async (request) => ({ userId: request.crossmint.userId }))
  app.get('/home', { preHandler: crossmintPreHandler(crossmintAuth, { required: false }) }, async (request) => ({ crossmint: request.crossmint }))
  app.get('/broken', { preHandler: crossmintPreHandler(broken) }, async () => ({ reached: true }))
  app.get('/plain', async (request) => ({ crossmint: request.crossmint }))
  app.get('/throws', { preHandler: crossmintPreHandler(crossmintAuth) }, async () => {
    throw new Error('handler failed')
  })
  app.setErrorHandler((error, request, reply) => reply.code(500).send({ handled: error.message }))
  const url = await listenFastify(t, app)

  // The token was rotated before the route failed: the new cookies must still reach the browser.
  const rotated = await exchangeText(`${url}/throws`, { cookie: cookieHeaderFor(emulator.createSession('fastify-user', { jwtTtlSeconds: -60 })) })
  assert.deepEqual([rotated.status, rotated.json], [500, { handled: 'handler failed' }])
  assert.deepEqual(
    rotated.setCookie.map((line) => line.split('=')[0]),
    ['crossmint-jwt', 'crossmint-refresh-token'],
  )

  assert.deepEqual((await exchangeText(`${url}/plain`)).json, { crossmint: null }, 'decorated with null')
  const guest = await exchangeText(`${url}/home`)
  assert.deepEqual([guest.status, guest.json], [200, { crossmint: null }])
  const anonymous = await exchangeText(`${url}/me`)
  assert.equal(anonymous.status, 401)
  assert.deepEqual(anonymous.json, { error: 'Unauthorized', code: 'NO_AUTH_MATERIAL', message: 'No cookies found in request' })
  const handled = await exchangeText(`${url}/broken`)
  assert.deepEqual([handled.status, handled.json], [500, { handled: 'database exploded' }])

  emulator.faults.refresh = { status: 503 }
  const expired = emulator.createSession('outage-user', { jwtTtlSeconds: -60 })
  for (const route of ['/me', '/home']) {
    const answer = await exchangeText(`${url}${route}`, { cookie: cookieHeaderFor(expired) })
    assert.equal(answer.status, 503, `${route}: ${answer.text}`)
    assert.equal(answer.headers.get('retry-after'), '5')
    assert.equal(answer.json.code, 'CROSSMINT_UNAVAILABLE')
    assert.deepEqual(answer.setCookie, [], `${route}: the cookies stay`)
  }
})

test('Hono middleware: optional sessions, outages 503 + Retry-After, errors to app.onError, refreshed cookies on any answer', async (t) => {
  const { Hono } = require('hono')
  const { crossmintMiddleware, refreshRoute } = require('crossmint-server-native/hono')
  const emulator = await withEmulator(t)
  const crossmintAuth = authFor(emulator)
  const broken = {
    getSession: async () => {
      throw new RangeError('database exploded')
    },
  }

  const app = new Hono()
  app.get('/home', crossmintMiddleware(crossmintAuth, { required: false }), (c) => c.json({ crossmint: c.var.crossmint }))
  app.get('/me', crossmintMiddleware(crossmintAuth), (c) => c.json({ userId: c.var.crossmint.userId }))
  // A handler that returns its own Response, and one that throws: the refreshed cookies must reach the browser either way.
  app.get('/raw', crossmintMiddleware(crossmintAuth), () => new Response('raw', { status: 202 }))
  app.get('/throws', crossmintMiddleware(crossmintAuth), () => {
    throw new Error('handler failed')
  })
  app.get('/broken', crossmintMiddleware(broken), (c) => c.json({ reached: true }))
  // A validator-like middleware that reads the body through Hono before the refresh route.
  app.post(
    '/refresh-after-read',
    async (c, next) => {
      await c.req.json()
      await next()
    },
    refreshRoute(crossmintAuth),
  )
  app.onError((error, c) => c.json({ handled: error.message }, 500))
  const call = (route, init = {}) => app.request(route, init)

  assert.deepEqual(await (await call('/home')).json(), { crossmint: null })
  const anonymous = await call('/me')
  assert.equal(anonymous.status, 401)
  assert.deepEqual(await anonymous.json(), { error: 'Unauthorized', code: 'NO_AUTH_MATERIAL', message: 'No cookies found in request' })
  const handled = await call('/broken')
  assert.deepEqual([handled.status, await handled.json()], [500, { handled: 'database exploded' }])

  for (const [route, status] of [
    ['/raw', 202],
    ['/throws', 500],
  ]) {
    const expired = emulator.createSession('hono-user', { jwtTtlSeconds: -60 })
    const answer = await call(route, { headers: { cookie: cookieHeaderFor(expired) } })
    assert.equal(answer.status, status, route)
    const names = answer.headers.getSetCookie().map((line) => line.split('=')[0])
    assert.deepEqual(names, ['crossmint-jwt', 'crossmint-refresh-token'], `${route}: rotated cookies delivered`)
  }

  const bad = await call('/me', { headers: { cookie: 'crossmint-jwt=not-a-jwt; crossmint-refresh-token=not-a-token' } })
  assert.equal(bad.status, 401)
  assert.match(bad.headers.getSetCookie().join('\n'), /^crossmint-jwt=;/m, 'cleared cookies on the 401')

  const spare = emulator.issueRefreshToken('hono-user')
  const refreshed = await call('/refresh-after-read', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh: spare.secret }),
  })
  assert.equal(refreshed.status, 200, await refreshed.clone().text())
  assert.match((await refreshed.json()).jwt, /^eyJ/)

  emulator.faults.refresh = { status: 503 }
  const expired = emulator.createSession('outage-user', { jwtTtlSeconds: -60 })
  for (const route of ['/me', '/home']) {
    const answer = await call(route, { headers: { cookie: cookieHeaderFor(expired) } })
    assert.equal(answer.status, 503, route)
    assert.equal(answer.headers.get('retry-after'), '5')
    assert.equal((await answer.json()).code, 'CROSSMINT_UNAVAILABLE')
    assert.deepEqual(answer.headers.getSetCookie(), [], `${route}: the cookies stay`)
  }
})

test('Koa recipe: optional sessions, outages 503 + Retry-After', async (t) => {
  const { createApp } = require('../../examples/koa-server.js')
  const emulator = await withEmulator(t)
  const url = await listenDuring(t, createApp({ apiKey: emulator.apiKey, baseUrl: emulator.url }).callback())

  assert.deepEqual((await exchangeText(`${url}/home`)).json, { greeting: 'Hello, guest' })
  const session = emulator.createSession('koa-user')
  assert.deepEqual((await exchangeText(`${url}/home`, { cookie: cookieHeaderFor(session) })).json, { greeting: 'Welcome back, koa-user' })

  // Koa's default error answer drops headers; the recipe keeps the rotated cookies on it.
  const app = createApp({ apiKey: emulator.apiKey, baseUrl: emulator.url })
  app.silent = true
  const failing = await listenDuring(t, app.callback())
  const rotated = await exchangeText(`${failing}/fails`, { cookie: cookieHeaderFor(emulator.createSession('koa-user', { jwtTtlSeconds: -60 })) })
  assert.equal(rotated.status, 500)
  assert.deepEqual(
    rotated.setCookie.map((line) => line.split('=')[0]),
    ['crossmint-jwt', 'crossmint-refresh-token'],
  )

  emulator.faults.refresh = { status: 503 }
  const expired = emulator.createSession('outage-user', { jwtTtlSeconds: -60 })
  const answer = await exchangeText(`${url}/me`, { cookie: cookieHeaderFor(expired) })
  assert.equal(answer.status, 503, answer.text)
  assert.equal(answer.headers.get('retry-after'), '5')
  assert.deepEqual(answer.setCookie, [])
})

// ---- a response that cannot be written to never spends a refresh token -------------

/**
 * `url` serves /wrong-session, /wrong-refresh and /wrong-logout, each
 * calling the SDK with a response it cannot write to, and /me done right.
 * Each wrong call must fail with an error that names what to pass, with no
 * call to Crossmint; the same (expired) cookies then still refresh once.
 */
async function assertNothingSpent(url, emulator, errors) {
  const expired = emulator.createSession('careful-user', { jwtTtlSeconds: -60 })
  const cookie = cookieHeaderFor(expired)
  for (const route of ['/wrong-session', '/wrong-refresh', '/wrong-logout']) {
    const before = { refresh: callsTo(emulator, REFRESH_PATH), logout: callsTo(emulator, LOGOUT_PATH) }
    const answer = await exchangeText(`${url}${route}`, { method: route === '/wrong-session' ? 'GET' : 'POST', cookie })
    assert.equal(answer.status, 500, `${route}: ${answer.text}`)
    assert.deepEqual(answer.setCookie, [], `${route}: no cookies`)
    assert.equal(callsTo(emulator, REFRESH_PATH), before.refresh, `${route}: no refresh at Crossmint`)
    assert.equal(callsTo(emulator, LOGOUT_PATH), before.logout, `${route}: no logout at Crossmint`)
  }
  assert.equal(errors.length, 3)
  for (const error of errors) {
    assert.ok(error instanceof TypeError, String(error))
    assert.match(error.message, /Fastify reply/)
    assert.match(error.message, /Koa/)
  }
  // The refresh token is still good: done right, the same cookies refresh once and the user stays signed in.
  const answer = await exchangeText(`${url}/me`, { cookie })
  assert.equal(answer.status, 200, answer.text)
  assert.equal(answer.json.userId, 'careful-user')
  assert.equal(answer.setCookie.length, 2)
}

test('Fastify: a reply the SDK cannot write to is refused before any call to Crossmint; the real reply works', async (t) => {
  const Fastify = require('fastify')
  const { crossmintPlugin, crossmintPreHandler } = require('crossmint-server-native/fastify')
  const emulator = await withEmulator(t)
  const crossmintAuth = authFor(emulator)
  const errors = []
  const app = Fastify()
  await app.register(crossmintPlugin, { crossmintAuth })
  // Arguments swapped or the wrong object: each a mistake someone makes.
  app.get('/wrong-session', (request) => crossmintAuth.getSession(request, request))
  app.post('/wrong-refresh', (request, reply) => crossmintAuth.handleCustomRefresh(request, reply.request))
  app.post('/wrong-logout', (request, reply) => crossmintAuth.logout(request, reply.raw.req))
  app.get('/me', { preHandler: crossmintPreHandler(crossmintAuth) }, async (request) => ({ userId: request.crossmint.userId }))
  app.setErrorHandler((error, request, reply) => {
    errors.push(error)
    reply.code(500).send({ error: error.message })
  })
  await assertNothingSpent(await listenFastify(t, app), emulator, errors)
})

test('Koa: a response the SDK cannot write to is refused before any call to Crossmint; ctx.response works', async (t) => {
  const Koa = require('koa')
  const emulator = await withEmulator(t)
  const crossmintAuth = authFor(emulator)
  const errors = []
  const app = new Koa()
  app.use(async (ctx, next) => {
    try {
      await next()
    } catch (error) {
      errors.push(error)
      ctx.status = 500
      ctx.body = { error: error.message }
    }
  })
  app.use(async (ctx) => {
    if (ctx.path === '/wrong-session') await crossmintAuth.getSession(ctx.request, ctx.req)
    else if (ctx.path === '/wrong-refresh') await crossmintAuth.handleCustomRefresh(ctx.request, ctx.req)
    else if (ctx.path === '/wrong-logout') await crossmintAuth.logout(ctx.request, ctx.state)
    else if (ctx.path === '/me') {
      // Koa's request and response objects, not the context: accepted as well.
      const { userId } = await crossmintAuth.getSession(ctx.request, ctx.response)
      ctx.body = { userId }
    }
  })
  await assertNothingSpent(await listenDuring(t, app.callback()), emulator, errors)
})

test('/fastify and /hono load by import as well as require', () => {
  const code =
    "import { crossmintPlugin, crossmintPreHandler } from 'crossmint-server-native/fastify'; " +
    "import { crossmintMiddleware, refreshRoute, logoutRoute } from 'crossmint-server-native/hono'; " +
    'console.log([crossmintPlugin, crossmintPreHandler, crossmintMiddleware, refreshRoute, logoutRoute].map((f) => typeof f).join())'
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  assert.equal(run.stdout.trim(), 'function,function,function,function,function')
})

// ---- Fastify without the helpers: the SDK's own calls with request and reply ----------

test('Fastify, no helper: getSession, handleCustomRefresh and logout given request and reply', async (t) => {
  const Fastify = require('fastify')
  const emulator = await withEmulator(t)
  const crossmintAuth = authFor(emulator)
  const app = Fastify()
  app.get('/me', async (request, reply) => {
    const { userId } = await crossmintAuth.getSession(request, reply)
    return { userId }
  })
  app.post('/refresh', async (request, reply) => {
    await crossmintAuth.handleCustomRefresh(request, reply)
    return reply
  })
  app.post('/logout', async (request, reply) => {
    await crossmintAuth.logout(request, reply)
    return reply.send()
  })
  const url = await listenFastify(t, app)

  const expired = emulator.createSession('direct-user', { jwtTtlSeconds: -60 })
  const me = await exchangeText(`${url}/me`, { cookie: cookieHeaderFor(expired) })
  assert.deepEqual([me.status, me.json], [200, { userId: 'direct-user' }])
  assert.equal(me.setCookie.length, 2)

  const spare = emulator.issueRefreshToken('direct-user')
  const refreshed = await exchangeText(`${url}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh: spare.secret }),
  })
  assert.equal(refreshed.status, 200, refreshed.text)
  assert.match(refreshed.json.jwt, /^eyJ/)
  assert.equal(refreshed.setCookie.length, 4, 'one session under both namings')

  // A reply is a thenable that settles once sent: the SDK must not resolve with it.
  await t.test('logout(request, reply) settles before the reply is sent', async () => {
    const session = emulator.createSession('direct-user')
    const loggedOut = await exchangeText(`${url}/logout`, { method: 'POST', cookie: cookieHeaderFor(session), signal: AbortSignal.timeout(3000) })
    assert.equal(loggedOut.status, 200)
    assert.match(loggedOut.setCookie.join('\n'), /^crossmint-jwt=;/m)
  })
})

test('README: every example in the framework table is run by the test file its row names', () => {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('| framework | how | example | test |'), readme.indexOf('### Next.js'))
  const rows = table.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| framework') && !line.startsWith('| ---'))
  assert.ok(rows.length >= 10, `${rows.length} rows`)
  for (const row of rows) {
    const cells = row.split(' | ')
    // Links are relative (examples/...) or absolute to the repository
    // (https://github.com/<owner>/<repo>/blob|tree/main/examples/...), as on npm.
    const examples = [...cells[2].matchAll(/\]\((?:https:\/\/github\.com\/[\w.-]+\/[\w.-]+\/(?:blob|tree)\/main\/)?(examples\/[^)]+)\)/g)].map(
      (match) => match[1],
    )
    const testFiles = [...cells[3].matchAll(/`([\w.-]+\.test\.js)`/g)].map((match) => match[1])
    assert.ok(examples.length > 0 && testFiles.length > 0, row)
    const testSources = testFiles.map((file) => fs.readFileSync(testFilePath(file), 'utf8')).join('\n')
    for (const example of examples) {
      assert.ok(fs.existsSync(path.join(root, example)), `${example} exists`)
      // Named by path, or (examples run through the demo or a directory copy) by file or directory name.
      const named = [example, example.replace(/^examples\//, ''), path.basename(example)]
      if (path.dirname(example) !== 'examples') named.push(path.dirname(example))
      assert.ok(
        named.some((name) => testSources.includes(name)),
        `${example} is run by ${testFiles.join(', ')}`,
      )
    }
  }
})
