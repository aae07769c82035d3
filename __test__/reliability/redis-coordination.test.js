'use strict'
// refreshCoordination: several app processes behind a round-robin balancer,
// a real redis-server between them, the Crossmint emulator behind them. Each
// app is its own Node process (coordinated-instance.child.js, or the README's
// Express example), as in a cluster or a Kubernetes deployment.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { withEmulator, settle, cookieHeaderFor, sleep, otherValidKey, root, silentServer } = require('../helpers/harness.js')
const { startInstances, warnings, get, refreshesOf, browsersFire, assertEverySessionKept, expiredSessions } = require('../helpers/coordination-load.js')
const { startRedis, redisAvailable, serverName } = require('../helpers/redis-server.js')
const { makeCertificates } = require('../helpers/certificates.js')
const { createCrossmint, CrossmintAuth } = require('../..')
const { REFRESH_PATH, LOGOUT_PATH, TEST_API_KEY } = require('../../testing/emulator.js')

// CI installs redis-server (.ci/run); elsewhere a missing server skips with a reason.
const skip = !redisAvailable() && !process.env.CI ? `${serverName()} is not installed` : false
// A server built without TLS (the Valkey of PyPI's wheel) serves no rediss://.
const tlsSkip = process.env.REDIS_SERVER_TLS === 'no' ? `${serverName()} is built without TLS` : false

for (const count of [2, 4]) {
  test(`${count} instances, round-robin: 10 expired sessions × 8 concurrent requests all keep their session, one refresh each`, {
    skip,
    timeout: 90000,
  }, async (t) => {
    const emulator = await withEmulator(t)
    // A refresh takes Crossmint some time; the requests of a browser overlap it.
    emulator.faults.refresh = { delayMs: 40 }
    const redis = await startRedis(t)
    const instances = await startInstances(t, count, { emulator, options: { refreshCoordination: { redisUrl: redis.url } } })

    const sessions = expiredSessions(emulator, 10, `rr${count}`)
    const outcomes = await browsersFire(emulator, instances, sessions)
    assertEverySessionKept(outcomes, `${count} instances`)
    // The processes really were different ones.
    assert.equal(new Set(outcomes.flatMap((o) => o.answers.map((a) => a.json.pid))).size, count)

    // A request still carrying the old token a moment later, on any
    // instance, gets the same session without another refresh.
    await sleep(200)
    const late = await get(`${instances[count - 1].url}/me`, cookieHeaderFor(sessions[0]))
    assert.equal(late.status, 200, late.text)
    assert.equal(late.cookies['crossmint-refresh-token'], outcomes[0].answers[0].cookies['crossmint-refresh-token'])
    assert.equal(refreshesOf(emulator, sessions[0].refreshToken.secret).length, 1)

    // What Redis holds reveals no token, secret, key or user.
    const entries = redis.dump()
    assert.ok(entries.filter((e) => e.key.startsWith('crossmint-auth:refresh:')).length >= 10, JSON.stringify(entries.map((e) => e.key)))
    const secrets = [emulator.apiKey]
    for (const { session, answers } of outcomes) {
      secrets.push(session.jwt, session.refreshToken.secret, session.userId, answers[0].cookies['crossmint-jwt'], answers[0].cookies['crossmint-refresh-token'])
    }
    for (const { key, value, ttlMs } of entries) {
      for (const secret of secrets) {
        assert.ok(!key.includes(secret) && !value.includes(secret), `${key} holds a secret`)
      }
      // A JWT has dots, which base64 (sealed records) never holds; "eyJ" alone turns up in random base64.
      assert.doesNotMatch(value, /eyJ[\w-]*\.[\w-]*\./, `${key} holds something JWT-like`)
      if (key.startsWith('crossmint-auth:spent:')) {
        // A bare marker that the token was exchanged, kept so no process presents it again.
        assert.equal(value, '1', key)
        assert.ok(ttlMs > 0 && ttlMs <= 600000, `${key} expires (${ttlMs} ms)`)
      } else {
        assert.ok(ttlMs > 0 && ttlMs <= 60000, `${key} expires (${ttlMs} ms)`)
      }
    }
    for (const instance of instances) assert.deepEqual(warnings(instance), [])
  })
}

test('without refreshCoordination, the same load across 2 instances logs users out (what the option fixes)', { timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const instances = await startInstances(t, 2, { emulator })
  const outcomes = await browsersFire(emulator, instances, expiredSessions(emulator, 10, 'uncoordinated'))
  const lost = outcomes.flatMap((o) => o.answers).filter((a) => a.status === 401).length
  assert.ok(lost > 0, 'some requests lose their session without coordination')
  assert.ok(outcomes.some((o) => o.refreshes > 1))
})

test("the README's Express example takes REDIS_URL and coordinates", { skip, timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const redis = await startRedis(t)
  const instances = await startInstances(t, 2, { emulator, env: { REDIS_URL: redis.url }, script: path.join(root, 'examples/express-middleware.js') })
  const sessions = expiredSessions(emulator, 4, 'example')
  const answers = await Promise.all(
    sessions.flatMap((s) => instances.flatMap((i) => [get(`${i.url}/me`, cookieHeaderFor(s)), get(`${i.url}/me`, cookieHeaderFor(s))])),
  )
  assert.deepEqual(
    answers.map((a) => a.status),
    Array(16).fill(200),
    answers.map((a) => a.text).join(' | '),
  )
  for (const session of sessions) assert.equal(refreshesOf(emulator, session.refreshToken.secret).length, 1)
})

test('Redis stopped mid-run: in-process behaviour, one warning per process; coordination resumes when Redis is back', { skip, timeout: 120000 }, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const redis = await startRedis(t)
  const instances = await startInstances(t, 2, { emulator, options: { refreshCoordination: { redisUrl: redis.url } } })
  assertEverySessionKept(await browsersFire(emulator, instances, expiredSessions(emulator, 4, 'before')), 'before the outage')

  await redis.stop()
  // Each browser on one process: the in-process single flight keeps every session.
  const started = Date.now()
  assertEverySessionKept(await browsersFire(emulator, instances, expiredSessions(emulator, 6, 'down-sticky'), { sticky: true }), 'Redis down, sticky')
  // Across processes nothing is shared any more, but every request is
  // answered (200 or 401, as without Redis), none fails because of Redis.
  for (let round = 0; round < 3; round++) {
    const outcomes = await browsersFire(emulator, instances, expiredSessions(emulator, 4, `down-rr${round}`))
    for (const answer of outcomes.flatMap((o) => o.answers)) assert.ok([200, 401].includes(answer.status), answer.text)
  }
  assert.ok(Date.now() - started < 15000, `answered in ${Date.now() - started} ms while Redis was down`)
  for (const instance of instances) {
    const lines = warnings(instance)
    assert.equal(lines.length, 1, `one warning per process, got:\n${lines.join('\n')}`)
    assert.match(lines[0], /Refresh coordination through Redis \(redis:\/\/127\.0\.0\.1:\d+\) is unavailable: .*within this process only/)
  }

  await redis.start()
  // No restart of the apps: traffic brings each process back (one probe a second).
  const deadline = Date.now() + 20000
  while (!instances.every((i) => warnings(i).some((line) => /works again/.test(line)))) {
    assert.ok(Date.now() < deadline, `no recovery line:\n${instances.map((i) => warnings(i).join('\n')).join('\n')}`)
    await browsersFire(emulator, instances, expiredSessions(emulator, 2, 'probe'), { sticky: true })
    await sleep(250)
  }
  assertEverySessionKept(await browsersFire(emulator, instances, expiredSessions(emulator, 10, 'after')), 'after Redis came back')
  for (const instance of instances) assert.equal(warnings(instance).length, 2, warnings(instance).join('\n'))
})

test('Redis lost during a refresh: a late request with the old token on that process still gets the session, as without Redis', {
  skip,
  timeout: 60000,
}, async (t) => {
  const emulator = await withEmulator(t)
  const redis = await startRedis(t)
  const [instance] = await startInstances(t, 1, { emulator, options: { refreshCoordination: { redisUrl: redis.url } } })
  // Connected and coordinating.
  assertEverySessionKept(await browsersFire(emulator, [instance], expiredSessions(emulator, 1, 'connected'), { sticky: true }), 'connected')

  emulator.faults.refresh = { delayMs: 400 }
  const session = emulator.createSession('lost-mid-refresh', { jwtTtlSeconds: -60 })
  const first = get(`${instance.url}/me`, cookieHeaderFor(session))
  await emulator.waitForRequest((r) => r.path === REFRESH_PATH && r.json && r.json.refresh === session.refreshToken.secret)
  await redis.stop()
  const answer = await first
  assert.equal(answer.status, 200, answer.text)
  // The browser's late request still carries the old token.
  const late = await get(`${instance.url}/me`, cookieHeaderFor(session))
  assert.equal(late.status, 200, late.text)
  assert.equal(late.cookies['crossmint-refresh-token'], answer.cookies['crossmint-refresh-token'])
  assert.equal(refreshesOf(emulator, session.refreshToken.secret).length, 1)
  assert.equal(warnings(instance).length, 1, warnings(instance).join('\n'))
})

test('Redis with a password: the right one coordinates; a wrong one warns once, never shows the password, and sessions still work', {
  skip,
  timeout: 90000,
}, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const password = 'pass word/with:odd@chars'
  const redis = await startRedis(t, { password })
  const good = await startInstances(t, 2, { emulator, options: { refreshCoordination: { redisUrl: redis.url } } })
  assertEverySessionKept(await browsersFire(emulator, good, expiredSessions(emulator, 4, 'password')), 'right password')

  const wrongUrl = `redis://:${encodeURIComponent('not the password')}@127.0.0.1:${redis.port}`
  const wrong = await startInstances(t, 2, { emulator, options: { refreshCoordination: { redisUrl: wrongUrl } } })
  assertEverySessionKept(await browsersFire(emulator, wrong, expiredSessions(emulator, 4, 'wrong'), { sticky: true }), 'wrong password, sticky')
  for (const instance of wrong) {
    const lines = warnings(instance)
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0], /WRONGPASS|invalid (username-)?password|auth/i)
    assert.doesNotMatch(lines[0], /not the password|not%20the/)
  }
})

test('a rediss:// URL to a plain Redis: one warning, no hang', { skip, timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  const redis = await startRedis(t)
  const [instance] = await startInstances(t, 1, { emulator, options: { refreshCoordination: { redisUrl: `rediss://127.0.0.1:${redis.port}` } } })
  const started = Date.now()
  assertEverySessionKept(await browsersFire(emulator, [instance], expiredSessions(emulator, 3, 'tls-mismatch'), { sticky: true }), 'rediss to plain')
  assert.ok(Date.now() - started < 5000, `${Date.now() - started} ms`)
  const lines = warnings(instance)
  assert.equal(lines.length, 1, lines.join('\n'))
  assert.match(lines[0], /rediss:\/\/127\.0\.0\.1:\d+\) is unavailable: no TLS connection within 500 ms \(does the server speak TLS on this port\?\)/)
})

test('rediss:// to a TLS Redis: coordinates when the certificate is trusted, warns once when it is not', {
  skip: skip || tlsSkip,
  timeout: 90000,
}, async (t) => {
  const tls = makeCertificates(t)
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 40 }
  const redis = await startRedis(t, { tls, password: 'tls-password' })
  assert.match(redis.url, /^rediss:/)
  const options = { refreshCoordination: { redisUrl: redis.url } }
  // The system roots, extended the way OpenSSL-based tools are: SSL_CERT_FILE.
  const trusted = await startInstances(t, 2, { emulator, options, env: { SSL_CERT_FILE: tls.ca } })
  assertEverySessionKept(await browsersFire(emulator, trusted, expiredSessions(emulator, 4, 'tls')), 'rediss, trusted')
  for (const instance of trusted) assert.deepEqual(warnings(instance), [])

  const [untrusted] = await startInstances(t, 1, { emulator, options })
  assertEverySessionKept(await browsersFire(emulator, [untrusted], expiredSessions(emulator, 2, 'tls-untrusted'), { sticky: true }), 'rediss, untrusted')
  const lines = warnings(untrusted)
  assert.equal(lines.length, 1, lines.join('\n'))
  assert.match(lines[0], /certificate|UnknownIssuer/i)
})

test('refreshCoordination is checked when the instance is created', () => {
  const crossmint = createCrossmint({ apiKey: TEST_API_KEY })
  const from = (refreshCoordination) => () => CrossmintAuth.from(crossmint, { refreshCoordination })
  assert.throws(from({}), { name: 'TypeError', message: /refreshCoordination\.redisUrl must be a redis:\/\/ or rediss:\/\/ URL/ })
  assert.throws(from({ redisUrl: undefined }), TypeError)
  assert.throws(from('redis://127.0.0.1'), TypeError)
  assert.throws(
    from({ redisUrl: 'http://:hunter2@127.0.0.1:6379' }),
    (error) => /must start with redis:\/\//.test(error.message) && !error.message.includes('hunter2'),
  )
  assert.throws(from({ redisUrl: 'redis://127.0.0.1:notaport' }), /cannot be used/)
  // Valid URLs are accepted without connecting (nothing listens on port 1).
  assert.doesNotThrow(from({ redisUrl: 'redis://127.0.0.1:1/3' }))
  assert.doesNotThrow(from(undefined))
})

test('refreshGraceSeconds: 0 with Redis: concurrent requests share the refresh, a later one with the old token does not', {
  skip,
  timeout: 60000,
}, async (t) => {
  const emulator = await withEmulator(t)
  // Long enough that a browser's requests overlap the refresh even on a
  // loaded machine: with no grace, one arriving after it is a late one.
  emulator.faults.refresh = { delayMs: 400 }
  const redis = await startRedis(t)
  const instances = await startInstances(t, 2, { emulator, options: { refreshGraceSeconds: 0, refreshCoordination: { redisUrl: redis.url } } })
  const sessions = expiredSessions(emulator, 4, 'grace0')
  assertEverySessionKept(await browsersFire(emulator, instances, sessions), 'grace 0, concurrent')
  await sleep(200)
  for (const instance of instances) {
    const late = await get(`${instance.url}/me`, cookieHeaderFor(sessions[0]))
    assert.equal(late.status, 401, late.text)
  }
})

test('a logout on one process ends the refresh another is making, and the grace window of the whole chain', { skip, timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  const redis = await startRedis(t)
  const [a, b] = await startInstances(t, 2, { emulator, options: { refreshCoordination: { redisUrl: redis.url } } })

  // A refreshes slowly; B logs the same session out meanwhile.
  emulator.faults.refresh = { delayMs: 400 }
  const racing = emulator.createSession('racing', { jwtTtlSeconds: -60 })
  const onA = get(`${a.url}/me`, cookieHeaderFor(racing))
  await emulator.waitForRequest((r) => r.path === REFRESH_PATH && r.json && r.json.refresh === racing.refreshToken.secret)
  const logout = await fetch(`${b.url}/logout`, { method: 'POST', headers: { cookie: cookieHeaderFor(racing) } })
  assert.equal(logout.status, 200)
  const answer = await onA
  assert.equal(answer.status, 401, 'the refresh finishing after the logout is not handed out')
  // What that refresh issued was revoked at Crossmint.
  const logouts = () => emulator.requests.filter((r) => r.path === LOGOUT_PATH).map((r) => r.json && r.json.refresh)
  await settle(emulator)
  assert.equal(logouts().length, 2, `${logouts()}`)
  assert.ok(!logouts().includes(undefined))
  for (const instance of [a, b]) assert.equal((await get(`${instance.url}/me`, cookieHeaderFor(racing))).status, 401)

  // Refreshed on A (T1 -> T2); logged out on B with T2: A no longer hands
  // T2 to a request still carrying T1.
  emulator.faults.refresh = null
  const chained = emulator.createSession('chained', { jwtTtlSeconds: -60 })
  const refreshed = await get(`${a.url}/me`, cookieHeaderFor(chained))
  assert.equal(refreshed.status, 200)
  const newCookie = `crossmint-jwt=${refreshed.cookies['crossmint-jwt']}; crossmint-refresh-token=${refreshed.cookies['crossmint-refresh-token']}`
  assert.equal((await fetch(`${b.url}/logout`, { method: 'POST', headers: { cookie: newCookie } })).status, 200)
  const replay = await get(`${a.url}/me`, cookieHeaderFor(chained))
  assert.equal(replay.status, 401, replay.text)
  assert.equal(refreshesOf(emulator, chained.refreshToken.secret).length, 1, 'refused by the logout marker, not by a second refresh')
})

test('two API keys on one Redis share nothing', { skip, timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  const redis = await startRedis(t)
  const options = { refreshCoordination: { redisUrl: redis.url } }
  const [first, sameKey] = await startInstances(t, 2, { emulator, options })
  const [second] = await startInstances(t, 1, { emulator, options, env: { SERVER_CROSSMINT_API_KEY: otherValidKey(emulator.apiKey) } })
  const session = emulator.createSession('two-keys', { jwtTtlSeconds: -60 })
  const onFirst = await get(`${first.url}/me`, cookieHeaderFor(session))
  assert.equal(onFirst.status, 200)
  // Another process of the same project reuses the refresh...
  const onSameKey = await get(`${sameKey.url}/me`, cookieHeaderFor(session))
  assert.equal(onSameKey.status, 200)
  assert.equal(onSameKey.cookies['crossmint-refresh-token'], onFirst.cookies['crossmint-refresh-token'])
  assert.equal(refreshesOf(emulator, session.refreshToken.secret).length, 1)
  // The same cookies at the other project's app: its own refresh (which
  // Crossmint refuses, the token being spent), never the first one's result.
  const onSecond = await get(`${second.url}/me`, cookieHeaderFor(session))
  assert.equal(onSecond.status, 401, onSecond.text)
  const calls = refreshesOf(emulator, session.refreshToken.secret)
  assert.equal(calls.length, 2)
  assert.deepEqual(
    calls.map((c) => c.headers['x-api-key'] === emulator.apiKey),
    [true, false],
  )
})

// Someone who can write to Redis copies a record while it lives and writes
// it back later with a fresh TTL, then presents the old, rotated refresh
// token: the record must not hand out the session it was once exchanged for.
test('a Redis record written back after its time never revives a rotated refresh token, nor a logged-out session', { skip, timeout: 60000 }, async (t) => {
  const emulator = await withEmulator(t)
  const redis = await startRedis(t)
  const [a, b, c] = await startInstances(t, 3, { emulator, options: { refreshCoordination: { redisUrl: redis.url }, refreshGraceSeconds: 1 } })
  const records = () =>
    new Map(redis.dump().flatMap((e) => (e.key.startsWith('crossmint-auth:refresh:') && e.value.startsWith('r:') ? [[e.key, e.value]] : [])))

  for (const [label, loggedOut, victim] of [
    ['after the grace window', false, b],
    ['after a logout', true, c],
  ]) {
    const session = emulator.createSession(`replay-${label}`, { jwtTtlSeconds: -60 })
    const before = records()
    const refreshed = await get(`${a.url}/me`, cookieHeaderFor(session))
    assert.equal(refreshed.status, 200, refreshed.text)
    const copied = [...records()].filter(([key]) => !before.has(key))
    assert.equal(copied.length, 1, `${label}: one record for the refresh`)
    const [[key, value]] = copied
    if (loggedOut) {
      const newCookie = `crossmint-jwt=${refreshed.cookies['crossmint-jwt']}; crossmint-refresh-token=${refreshed.cookies['crossmint-refresh-token']}`
      assert.equal((await fetch(`${a.url}/logout`, { method: 'POST', headers: { cookie: newCookie } })).status, 200)
    }
    // Past the grace window, the pickup window and the clock allowance.
    await sleep(5500)
    redis.cli('SET', key, value, 'PX', '60000')
    const replayed = await get(`${victim.url}/me`, cookieHeaderFor(session))
    assert.equal(replayed.status, 401, `${label}: ${replayed.text}`)
    assert.equal(replayed.cookies['crossmint-refresh-token'] || '', '', `${label}: no session handed out`)
    assert.equal(refreshesOf(emulator, session.refreshToken.secret).length, 1, `${label}: the old token is not presented again`)
  }
})

test('a Redis that accepts connections and never answers: concurrent refreshes share one failed connection attempt instead of queueing for one each', async (t) => {
  const silentPort = await silentServer(t)
  const emulator = await withEmulator(t)
  const auth = CrossmintAuth.from(createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }), {
    logger: false,
    timeoutMs: 3000,
    refreshCoordination: { redisUrl: `redis://127.0.0.1:${silentPort}` },
  })
  const sessions = Array.from({ length: 20 }, (_, i) => emulator.createSession(`silent-redis-${i}`, { jwtTtlSeconds: -60 }))
  const started = Date.now()
  const finished = await Promise.all(
    sessions.map(async (session, i) => {
      const { userId } = await auth.getSession({ headers: { cookie: cookieHeaderFor(session) } })
      assert.equal(userId, `silent-redis-${i}`)
      return Date.now() - started
    }),
  )
  // One attempt (500 ms to connect, 200 ms for an answer), then in-process
  // coordination for all; queued one after another they took 0.7 s each.
  assert.ok(Math.max(...finished) < 3000, `every refresh within timeoutMs: ${finished.join(' ')}`)
})

test('a Redis that comes up just after the instance is built serves the first refresh, with no warning', { skip }, async (t) => {
  const emulator = await withEmulator(t)
  const redis = await startRedis(t)
  await redis.stop()
  const warned = []
  const logger = { warn: (...line) => warned.push(line.join(' ')), error() {}, info() {}, log() {}, debug() {} }
  // Built while Redis is down (one compose file starting both): the connection opened ahead of time fails.
  const auth = CrossmintAuth.from(createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }), {
    logger,
    refreshCoordination: { redisUrl: redis.url },
  })
  // Up after the early attempt and its one retry gave up, well within a second of them.
  await sleep(400)
  await redis.start()
  const session = emulator.createSession('late-redis', { jwtTtlSeconds: -60 })
  const { userId } = await auth.getSession({ headers: { cookie: cookieHeaderFor(session) } })
  assert.equal(userId, 'late-redis')
  assert.deepEqual(warned, [], 'the failure ahead of time is not held against the first refresh')
  assert.ok(
    redis.dump().some((entry) => entry.key.startsWith('crossmint-auth:refresh:')),
    'the refresh went through Redis',
  )
})

/**
 * A TCP proxy to Redis that holds back every client chunk carrying a claim
 * (its lock value, `lock:…`) for `delayMs`, keeping the stream's order.
 */
async function slowClaimProxy(t, redisPort, delayMs) {
  const net = require('node:net')
  const sockets = new Set()
  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    }
    upstream.pipe(client)
    let queue = Promise.resolve()
    client.on('data', (chunk) => {
      const held = chunk.includes('lock:') ? delayMs : 0
      queue = queue.then(() => sleep(held)).then(() => upstream.write(chunk))
    })
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const socket of sockets) socket.destroy()
    server.close()
  })
  return `redis://127.0.0.1:${server.address().port}`
}

test('a claim that answers late: the process refreshing without the store reuses the refresh another process made through it', { skip }, async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 100 }
  const redis = await startRedis(t)
  const [direct] = await startInstances(t, 1, { emulator, options: { refreshCoordination: { redisUrl: redis.url } } })
  const [slowed] = await startInstances(t, 1, { emulator, options: { refreshCoordination: { redisUrl: await slowClaimProxy(t, redis.port, 300) } } })
  for (let round = 0; round < 5; round++) {
    const session = emulator.createSession(`late-claim-${round}`, { jwtTtlSeconds: -60 })
    const first = get(`${direct.url}/me`, cookieHeaderFor(session))
    await sleep(10)
    // Its claim passes the 200 ms deadline: it refreshes in-process, and Crossmint refuses the token the first process spent.
    const second = get(`${slowed.url}/me`, cookieHeaderFor(session))
    const answers = await Promise.all([first, second])
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200],
      `round ${round}: ${answers.map((a) => a.text).join(' | ')}`,
    )
    assert.equal(answers[1].cookies['crossmint-refresh-token'], answers[0].cookies['crossmint-refresh-token'], 'the same new session')
    assert.deepEqual(refreshesOf(emulator, session.refreshToken.secret).length, 2, 'presented by the first process, then (refused) by the one the store failed')
  }
})
