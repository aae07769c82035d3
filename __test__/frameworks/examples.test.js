'use strict'
// The runnable examples, run as users run them: in their own process.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')
const { withEmulator, exchange, cookieHeaderFor, freePort, sleep, root } = require('../helpers/harness.js')

function run(script, args, env) {
  const child = spawn(process.execPath, [path.join(root, script), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, exited, output: () => output }
}

async function waitFor(predicate, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the example to start')
    await sleep(50)
  }
}

test("npm run demo: the walk-through of the guide's Express server (examples/express-server.js) passes", async () => {
  const demo = run('examples/demo.js', ['--once'], { PORT: '0' })
  const code = await demo.exited
  assert.equal(code, 0, demo.output())
  assert.match(demo.output(), /Demo walk-through passed/)
  assert.match(demo.output(), /curl -i -X POST http:\/\/127\.0\.0\.1:\d+\/logout/)
})

test("the guide's vanilla node:http server works unchanged but for the import", async (t) => {
  const emulator = await withEmulator(t)
  const port = await freePort()
  const server = run('examples/http-server.js', [], {
    PORT: String(port),
    SERVER_CROSSMINT_API_KEY: emulator.apiKey,
    CROSSMINT_BASE_URL: emulator.url,
  })
  t.after(() => server.child.kill())
  await waitFor(() => server.output().includes('Server running'))
  const base = `http://127.0.0.1:${port}`

  const valid = await exchange(`${base}/`, { cookie: cookieHeaderFor(emulator.createSession('vanilla-user')) })
  assert.equal(valid.status, 200)
  assert.equal(valid.body.userId, 'vanilla-user')

  const expired = emulator.createSession('vanilla-user', { jwtTtlSeconds: -1 })
  const refreshed = await exchange(`${base}/`, { cookie: cookieHeaderFor(expired) })
  assert.equal(refreshed.status, 200)
  assert.equal(refreshed.setCookie.length, 2)

  const spare = emulator.issueRefreshToken('vanilla-user')
  const refreshRoute = await exchange(`${base}/refresh`, { method: 'POST', body: JSON.stringify({ refresh: spare.secret }) })
  assert.equal(refreshRoute.status, 200)
  assert.equal(refreshRoute.body.user.id, 'vanilla-user')
  assert.equal(refreshRoute.setCookie.length, 4, 'one session under both namings')

  const logout = await exchange(`${base}/logout`, { method: 'POST', cookie: cookieHeaderFor(emulator.createSession('vanilla-user')) })
  assert.equal(logout.status, 200)
  assert.match(logout.setCookie[0], new RegExp(`^crossmint-jwt-${emulator.projectId}=; `))
  assert.match(logout.setCookie[2], /^crossmint-jwt=; /, 'both namings cleared')

  const anonymous = await exchange(`${base}/`)
  assert.equal(anonymous.status, 500)
  assert.deepEqual(anonymous.body, { error: 'No cookies found in request' })
})

test('index.d.ts: a program using the whole public API compiles with tsc --strict', () => {
  const { execFileSync } = require('node:child_process')
  const tsc = require.resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'examples/typescript/tsconfig.json')], { stdio: 'pipe' })
})
