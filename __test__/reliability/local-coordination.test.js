'use strict'
// Processes of one app on one machine with no Redis: Node's `cluster` and
// PM2's cluster mode share refreshes through the embedded store by default.
// Real processes, the real pm2 from npm, the emulator as Crossmint.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const http = require('node:http')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { withEmulator, childScript, root, freePort, sleep, cookieHeaderFor, otherValidKey } = require('../helpers/harness.js')
const { startExample } = require('../helpers/framework-checks.js')
const { startInstances, warnings, get, browsersFire, assertEverySessionKept, expiredSessions, refreshesOf } = require('../helpers/coordination-load.js')

const CLUSTER_APP = childScript('cluster-app')
const WORKER = childScript('coordinated-instance')

/** The app under Node's cluster: one URL, WORKERS processes behind it. */
async function startCluster(t, emulator, { workers = 4, options } = {}) {
  const port = await freePort()
  const env = { WORKERS: String(workers), PORT: String(port) }
  if (options !== undefined) env.CROSSMINT_AUTH_OPTIONS = JSON.stringify(options)
  return startExample(t, process.execPath, [CLUSTER_APP], { emulator, cwd: root, env })
}

const pidsOf = (outcomes) => new Set(outcomes.flatMap((o) => o.answers.map((a) => a.json && a.json.pid)).filter(Boolean))

test('node:cluster, 4 workers, no option: 10 expired sessions × 8 concurrent requests all keep their session, one refresh each', {
  timeout: 90000,
}, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const app = await startCluster(t, emulator)
  const outcomes = await browsersFire(emulator, [app], expiredSessions(emulator, 10, 'cluster'))
  assertEverySessionKept(outcomes, 'node:cluster')
  assert.equal(pidsOf(outcomes).size, 4, 'the requests were spread over the 4 workers')
  assert.ok(!/WARN/.test(app.output()), app.output())
})

test('node:cluster with localCoordination: false (or { enabled: false }) loses sessions under the same load (what the store fixes)', {
  timeout: 120000,
}, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  for (const localCoordination of [false, { enabled: false }]) {
    const app = await startCluster(t, emulator, { options: { localCoordination } })
    const outcomes = await browsersFire(emulator, [app], expiredSessions(emulator, 10, `uncoordinated-cluster-${typeof localCoordination}`))
    const kept = outcomes.flatMap((o) => o.answers).filter((a) => a.status === 200).length
    t.diagnostic(`without the store (${JSON.stringify(localCoordination)}): ${kept} of 80 requests kept their session`)
    assert.ok(kept < 80, 'some requests lose their session without coordination')
  }
})

test('two apps (API keys) sharing the default store never see each other’s records', { timeout: 90000 }, async (t) => {
  const emulator = await withEmulator(t)
  const options = { localCoordination: true }
  const [first, sameKey] = await startInstances(t, 2, { emulator, options })
  const [second] = await startInstances(t, 1, { emulator, options, env: { SERVER_CROSSMINT_API_KEY: otherValidKey(emulator.apiKey) } })
  const session = emulator.createSession('two-apps', { jwtTtlSeconds: -60 })
  const onFirst = await get(`${first.url}/me`, cookieHeaderFor(session))
  assert.equal(onFirst.status, 200, onFirst.text)
  // Another process of the same app reuses the refresh through the store...
  const onSameKey = await get(`${sameKey.url}/me`, cookieHeaderFor(session))
  assert.equal(onSameKey.status, 200, onSameKey.text)
  assert.equal(onSameKey.cookies['crossmint-refresh-token'], onFirst.cookies['crossmint-refresh-token'])
  assert.equal(refreshesOf(emulator, session.refreshToken.secret).length, 1)
  // ...the other app's process makes its own call (refused: the token is spent).
  const onSecond = await get(`${second.url}/me`, cookieHeaderFor(session))
  assert.equal(onSecond.status, 401, onSecond.text)
  assert.equal(refreshesOf(emulator, session.refreshToken.secret).length, 2)
})

test('a store file the system refuses: one warning, and every request still answered', { timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  const options = { localCoordination: { file: '/proc/crossmint-no-such-dir/store.sqlite' } }
  const [app] = await startInstances(t, 1, { emulator, options })
  for (let i = 0; i < 3; i++) {
    const session = emulator.createSession(`refused-file-${i}`, { jwtTtlSeconds: -60 })
    const answer = await get(`${app.url}/me`, cookieHeaderFor(session))
    assert.equal(answer.status, 200, answer.text)
  }
  const lines = warnings(app)
  assert.equal(lines.length, 1, app.output())
  assert.match(lines[0], /crossmint-no-such-dir.*coordinated within this process only/)
})

test('PM2 cluster mode, 4 instances, no option: 10 expired sessions × 8 concurrent requests all keep their session, one refresh each', {
  timeout: 120000,
}, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const pm2Home = fs.mkdtempSync(path.join(os.tmpdir(), 'pm2-home-'))
  const port = await freePort()
  const pm2 = (...args) =>
    spawnSync(process.execPath, [require.resolve('pm2/bin/pm2'), ...args], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, PM2_HOME: pm2Home, PORT: String(port), SERVER_CROSSMINT_API_KEY: emulator.apiKey, CROSSMINT_BASE_URL: emulator.url },
      timeout: 60000,
    })
  t.after(() => {
    pm2('kill')
    fs.rmSync(pm2Home, { recursive: true, force: true })
  })
  const started = pm2('start', WORKER, '-i', '4', '--name', 'crossmint-pm2-test')
  assert.equal(started.status, 0, started.stdout + started.stderr)
  const url = `http://127.0.0.1:${port}`
  // Ready once every instance answers (each process answers with its pid);
  // connections are spread, not requests, so each round opens several.
  const pids = new Set()
  for (let tries = 0; pids.size < 4 && tries < 100; tries++) {
    const probes = Array.from({ length: 4 }, () => pidOnNewConnection(`${url}/me`, cookieHeaderFor(emulator.createSession('pm2-probe'))))
    for (const pid of await Promise.all(probes)) if (pid) pids.add(pid)
    await sleep(100)
  }
  assert.equal(pids.size, 4, `4 PM2 instances answer (${pm2('logs', '--nostream', '--lines', '40').stdout})`)
  const outcomes = await browsersFire(emulator, [{ url }], expiredSessions(emulator, 10, 'pm2'))
  assertEverySessionKept(outcomes, 'PM2 cluster mode')
  assert.equal(pidsOf(outcomes).size, 4)
})

/** The pid an app answers with, over a connection of its own (a pooled one would reach the same process every time). */
function pidOnNewConnection(url, cookie) {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, headers: { cookie } }, (response) => {
      let body = ''
      response.on('data', (chunk) => (body += chunk))
      response.on('end', () => {
        try {
          resolve(JSON.parse(body).pid)
        } catch {
          resolve(undefined)
        }
      })
    })
    request.on('error', () => resolve(undefined))
  })
}
