'use strict'
// What refresh coordination costs the requests that wait for another
// process's refresh. Two app processes (the coordination tests' instance)
// sharing, in turn, a real redis-server, a real 3-master Redis Cluster and
// the embedded store (a SQLite file); the emulator answers refreshes after
// 20 ms (a stand-in for Crossmint's own time). For each of SESSIONS expired
// sessions, one request goes to process A and, 2 ms later, one to process
// B: A leads, B follows through the store. The follower's added latency is
// B's finish minus A's finish. The same with both requests on A measures the
// in-process single flight for comparison. Prints one JSON line.

const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { startCrossmintEmulator } = require('../testing/emulator.js')
const { startExample } = require('../__test__/helpers/framework-checks.js')
const { cookieHeaderFor } = require('../__test__/helpers/common.js')
const fs = require('node:fs')
const os = require('node:os')
const { startRedis, startRedisCluster } = require('../__test__/helpers/redis-server.js')

const SESSIONS = Number(process.env.COORDINATION_SESSIONS || 300)
const CROSSMINT_MS = 20
const STAGGER_MS = 2
const REFRESH_PATH = '/api/2024-09-26/session/sdk/auth/refresh'

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) }
}

async function timedGet(url, cookie) {
  const response = await fetch(url, { headers: { cookie } })
  await response.text()
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`)
  return performance.now()
}

async function measure(emulator, leaderUrl, followerUrl, label) {
  const added = []
  const leader = []
  for (let i = 0; i < SESSIONS; i++) {
    const session = emulator.createSession(`${label}-${i}`, { jwtTtlSeconds: -60 })
    const cookie = cookieHeaderFor(session)
    const started = performance.now()
    const first = timedGet(`${leaderUrl}/me`, cookie)
    await new Promise((resolve) => setTimeout(resolve, STAGGER_MS))
    const second = timedGet(`${followerUrl}/me`, cookie)
    const [leaderDone, followerDone] = await Promise.all([first, second])
    const refreshes = emulator.requests.filter((r) => r.path === REFRESH_PATH && r.json && r.json.refresh === session.refreshToken.secret).length
    if (refreshes !== 1) throw new Error(`${label}: ${refreshes} refreshes for one session`)
    leader.push(leaderDone - started)
    added.push(followerDone - leaderDone)
  }
  emulator.clearRequests()
  return { leader: summary(leader), followerAdded: summary(added) }
}

async function main() {
  const cleanups = []
  const t = { after: (fn) => cleanups.push(fn) }
  try {
    const emulator = await startCrossmintEmulator()
    cleanups.push(() => emulator.close())
    emulator.faults.refresh = { delayMs: CROSSMINT_MS }
    const redis = await startRedis(t)
    const cluster = await startRedisCluster(t)
    const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'coordination-bench-'))
    cleanups.push(() => fs.rmSync(storeDir, { recursive: true, force: true }))
    const start = (options) =>
      startExample(t, process.execPath, [path.join(__dirname, '../__test__/helpers/coordinated-instance.child.js')], {
        emulator,
        cwd: path.join(__dirname, '..'),
        env: { CROSSMINT_AUTH_OPTIONS: JSON.stringify(options) },
      })
    /** Two processes sharing `options`' store: warmed, then measured. */
    const across = async (options, label) => {
      const a = await start(options)
      const b = await start(options)
      // Warm both processes (connections to the store and the emulator, JIT).
      await measure(emulator, a.url, b.url, `warm-up-${label}`)
      return { a, result: await measure(emulator, a.url, b.url, label) }
    }
    const redisRun = await across({ refreshCoordination: { redisUrl: redis.url } }, 'redis')
    const clusterRun = await across({ refreshCoordination: { redisUrl: cluster.urls[0] } }, 'cluster')
    const localRun = await across({ localCoordination: { file: path.join(storeDir, 'store.sqlite') } }, 'local')
    const inProcess = await measure(emulator, redisRun.a.url, redisRun.a.url, 'in-process')
    const result = {
      sessions: SESSIONS,
      crossmintMs: CROSSMINT_MS,
      staggerMs: STAGGER_MS,
      acrossProcesses: redisRun.result,
      redisCluster: clusterRun.result,
      localStore: localRun.result,
      inProcess,
    }
    process.stdout.write(`${JSON.stringify(result)}\n`)
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
