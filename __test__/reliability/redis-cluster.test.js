'use strict'
// refreshCoordination against a real Redis Cluster: three masters made with
// `redis-server --cluster-enabled yes` and `redis-cli --cluster create`,
// several app processes round-robin, the emulator as Crossmint.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, cookieHeaderFor } = require('../helpers/harness.js')
const { startRedisCluster, redisAvailable } = require('../helpers/redis-server.js')
const { startInstances, warnings, get, refreshesOf, browsersFire, assertEverySessionKept, expiredSessions } = require('../helpers/coordination-load.js')

const skip = !redisAvailable() && !process.env.CI ? 'redis-server is not installed (apt-get install redis-server)' : false

for (const count of [2, 4]) {
  test(`Redis Cluster, ${count} instances round-robin: 10 expired sessions × 8 concurrent requests all keep their session, one refresh each`, {
    skip,
    timeout: 90000,
  }, async (t) => {
    const emulator = await withEmulator(t)
    emulator.faults.refresh = { delayMs: 40 }
    const cluster = await startRedisCluster(t)
    // One node's URL is enough: the cluster is detected, its other nodes found.
    const instances = await startInstances(t, count, { emulator, options: { refreshCoordination: { redisUrl: cluster.urls[count % 3] } } })
    const outcomes = await browsersFire(emulator, instances, expiredSessions(emulator, 10, `cluster${count}`))
    assertEverySessionKept(outcomes, `Redis Cluster, ${count} instances`)
    assert.equal(new Set(outcomes.flatMap((o) => o.answers.map((a) => a.json.pid))).size, count)
    // The records spread over the masters; each record's keys on one node.
    const byNode = cluster.keysByNode()
    assert.ok(byNode.filter((keys) => keys.some((key) => key.startsWith('crossmint-auth:refresh:'))).length >= 2, JSON.stringify(byNode))
    for (const keys of byNode) {
      for (const key of keys.filter((k) => k.startsWith('crossmint-auth:spent:'))) {
        assert.ok(keys.includes(key.replace('crossmint-auth:spent:', 'crossmint-auth:refresh:')), `${key} beside its record`)
      }
    }
    for (const instance of instances) assert.deepEqual(warnings(instance), [])
  })
}

test('Redis Cluster with seed nodes (redisUrls): a logout on one process ends the chain on every other', { skip, timeout: 90000 }, async (t) => {
  const emulator = await withEmulator(t)
  const cluster = await startRedisCluster(t)
  const [a, b] = await startInstances(t, 2, { emulator, options: { refreshCoordination: { redisUrls: cluster.urls } } })
  const session = emulator.createSession('cluster-chain', { jwtTtlSeconds: -60 })
  const refreshed = await get(`${a.url}/me`, cookieHeaderFor(session))
  assert.equal(refreshed.status, 200, refreshed.text)
  // B reuses A's refresh within the grace window...
  const onB = await get(`${b.url}/me`, cookieHeaderFor(session))
  assert.equal(onB.cookies['crossmint-refresh-token'], refreshed.cookies['crossmint-refresh-token'])
  // ...until a logout with the new token on B ends the chain: the old token
  // gets no session on A, without a second refresh.
  const newCookie = `crossmint-jwt=${refreshed.cookies['crossmint-jwt']}; crossmint-refresh-token=${refreshed.cookies['crossmint-refresh-token']}`
  assert.equal((await fetch(`${b.url}/logout`, { method: 'POST', headers: { cookie: newCookie } })).status, 200)
  for (const instance of [a, b]) {
    const replay = await get(`${instance.url}/me`, cookieHeaderFor(session))
    assert.equal(replay.status, 401, replay.text)
  }
  assert.equal(refreshesOf(emulator, session.refreshToken.secret).length, 1)
})

test('Redis Cluster, a master stopped mid-run: no request fails; sessions kept on each process', { skip, timeout: 120000 }, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const cluster = await startRedisCluster(t)
  const instances = await startInstances(t, 2, { emulator, options: { refreshCoordination: { redisUrl: cluster.urls[0] } } })
  assertEverySessionKept(await browsersFire(emulator, instances, expiredSessions(emulator, 4, 'before')), 'before the outage')

  await cluster.stopNode(2)
  const started = Date.now()
  // Each browser on one process: the in-process single flight keeps every session.
  assertEverySessionKept(await browsersFire(emulator, instances, expiredSessions(emulator, 6, 'down-sticky'), { sticky: true }), 'a master down, sticky')
  // Across processes, a third of the records has no node: every request is
  // still answered (200 or 401, as without coordination), none fails.
  for (let round = 0; round < 3; round++) {
    const outcomes = await browsersFire(emulator, instances, expiredSessions(emulator, 4, `down-rr${round}`))
    for (const answer of outcomes.flatMap((o) => o.answers)) assert.ok([200, 401].includes(answer.status), answer.text)
  }
  assert.ok(Date.now() - started < 20000, `answered in ${Date.now() - started} ms with a master down`)
})
