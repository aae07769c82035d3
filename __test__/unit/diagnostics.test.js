'use strict'
// Observability: the diagnostics channels' payloads for each outcome, and
// the OpenTelemetry entry with the real OpenTelemetry SDK and its in-memory
// readers and exporters, against the emulator.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const diagnosticsChannel = require('node:diagnostics_channel')
const { withEmulator, authFor, cookieRequest, cookieHeaderFor, sleep } = require('../helpers/harness.js')
const { REFRESH_PATH } = require('../../testing/emulator.js')
const { instrumentCrossmintAuth, CHANNEL_NAMES } = require('../../lib/public/otel.js')

/** Every payload published on `name` (a tracing channel's contexts at asyncEnd) while `run` runs. */
async function collect(run) {
  const seen = { session: [], refresh: [], logout: [], user: [], http: [], refreshFlight: [] }
  const handlers = []
  for (const unit of ['session', 'refresh', 'logout', 'user']) {
    const channel = diagnosticsChannel.tracingChannel(CHANNEL_NAMES[unit])
    const handler = { asyncEnd: (context) => seen[unit].push({ ...context }) }
    channel.subscribe(handler)
    handlers.push(() => channel.unsubscribe(handler))
  }
  for (const unit of ['http', 'refreshFlight']) {
    const handler = (payload) => seen[unit].push(payload)
    diagnosticsChannel.subscribe(CHANNEL_NAMES[unit], handler)
    handlers.push(() => diagnosticsChannel.unsubscribe(CHANNEL_NAMES[unit], handler))
  }
  try {
    await run()
  } finally {
    for (const unsubscribe of handlers) unsubscribe()
  }
  return seen
}

/** The real OpenTelemetry metrics SDK with a reader the test collects from. */
function inMemoryMetrics() {
  const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics')
  class TestReader extends MetricReader {
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new TestReader()
  return { reader, meterProvider: new MeterProvider({ readers: [reader] }) }
}

test('diagnostics channels: every outcome of getSession, the HTTP calls and refresh roles, and no secret in any payload', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  const valid = emulator.createSession('diag-valid')
  const expired = emulator.createSession('diag-expired', { jwtTtlSeconds: -60 })
  const refused = emulator.createSession('diag-refused', { jwtTtlSeconds: -60 })
  emulator.revokeRefreshToken(refused.refreshToken.secret)
  const down = emulator.createSession('diag-down', { jwtTtlSeconds: -60 })
  const secrets = [valid, expired, refused, down].flatMap((s) => [s.jwt, s.refreshToken.secret])
  const seen = await collect(async () => {
    const header = cookieHeaderFor(valid)
    assert.equal((await auth.getSession(cookieRequest(header))).userId, 'diag-valid')
    await auth.getSession(cookieRequest(header))
    await auth.getSession(cookieRequest(header))
    const refreshed = await auth.getSession({ jwt: expired.jwt, refreshToken: expired.refreshToken.secret })
    secrets.push(refreshed.jwt, refreshed.refreshToken.secret)
    await assert.rejects(auth.getSession({ jwt: refused.jwt, refreshToken: refused.refreshToken.secret }), { code: 'SESSION_EXPIRED' })
    emulator.faults.refresh = { status: 503 }
    await assert.rejects(auth.getSession({ jwt: down.jwt, refreshToken: down.refreshToken.secret }), { code: 'CROSSMINT_UNAVAILABLE' })
    emulator.faults.refresh = null
    await auth.getUser('diag-valid')
  })
  const outcomes = seen.session.map((c) => [c.outcome, c.code, c.userId])
  assert.deepEqual(outcomes, [
    ['verified', undefined, 'diag-valid'],
    ['verified', undefined, 'diag-valid'],
    ['remembered', undefined, 'diag-valid'],
    ['refreshed', undefined, 'diag-expired'],
    ['refused', 'SESSION_EXPIRED', undefined],
    ['outage', 'CROSSMINT_UNAVAILABLE', undefined],
  ])
  assert.deepEqual(
    seen.session.map((c) => c.source),
    ['request', 'request', 'request', 'material', 'material', 'material'],
  )
  assert.equal(seen.user.length, 1)
  assert.equal(seen.user[0].userId, 'diag-valid')
  const refreshCalls = seen.http.filter((e) => e.call === 'refresh')
  assert.deepEqual(
    refreshCalls.map((e) => [e.method, e.path, e.status, e.error]),
    [
      ['POST', REFRESH_PATH, 200, null],
      ['POST', REFRESH_PATH, 401, null],
      ['POST', REFRESH_PATH, 503, null],
    ],
  )
  for (const event of seen.http) {
    assert.ok(event.durationMs >= 0 && event.startTime > Date.now() - 60000, JSON.stringify(event))
  }
  assert.ok(seen.http.some((e) => e.call === 'key-set' && e.method === 'GET' && e.status === 200))
  assert.ok(seen.http.some((e) => e.call === 'user' && e.status === 200))
  assert.deepEqual(
    seen.refreshFlight.map((e) => [e.role, e.store, e.outcome]),
    [
      ['leader', 'none', 'rotated'],
      ['leader', 'none', 'refused'],
      ['leader', 'none', 'unknown'],
    ],
  )
  const everything = JSON.stringify(seen)
  for (const secret of secrets) assert.ok(!everything.includes(secret), 'no token or secret in a payload')
  assert.ok(!everything.includes('@example.com'), 'no email in a payload')
})

test('diagnostics channels: a refresh joined in flight says so; the refresh route and logout are traced', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  emulator.faults.refresh = { delayMs: 100 }
  const expired = emulator.createSession('diag-joined', { jwtTtlSeconds: -60 })
  const seen = await collect(async () => {
    const material = { jwt: expired.jwt, refreshToken: expired.refreshToken.secret }
    await Promise.all([auth.getSession(material), auth.getSession(material)])
    const spare = emulator.issueRefreshToken('diag-route')
    const answer = await auth.handleCustomRefresh(new Request('http://app.test/refresh', { method: 'POST', body: JSON.stringify({ refresh: spare.secret }) }))
    assert.equal(answer.status, 200)
    const bad = await auth.handleCustomRefresh(new Request('http://app.test/refresh', { method: 'POST', body: JSON.stringify({ refresh: 'nope' }) }))
    assert.equal(bad.status, 401)
    await auth.logout(new Request('http://app.test/logout', { headers: { cookie: cookieHeaderFor(emulator.createSession('diag-out')) } }))
  })
  assert.deepEqual(
    seen.refreshFlight
      .slice(0, 2)
      .map((e) => e.role)
      .sort(),
    ['joined', 'leader'],
  )
  assert.deepEqual(
    seen.refresh.map((c) => [c.outcome, c.code, c.userId]),
    [
      ['refreshed', undefined, 'diag-route'],
      ['refused', 'SESSION_EXPIRED', undefined],
    ],
  )
  assert.equal(seen.logout.length, 1)
  assert.equal(seen.logout[0].withCookies, true)
  assert.ok(seen.http.some((e) => e.call === 'logout' && e.status === 200))
})

test('OpenTelemetry: with the real SDK, a refresh, a refusal and an outage show up as metrics and spans', async (t) => {
  const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base')
  const { reader, meterProvider } = inMemoryMetrics()
  const spans = new InMemorySpanExporter()
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] })
  const stop = instrumentCrossmintAuth({ meterProvider, tracerProvider })
  t.after(stop)

  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  const expired = emulator.createSession('otel-expired', { jwtTtlSeconds: -60 })
  await auth.getSession({ jwt: expired.jwt, refreshToken: expired.refreshToken.secret })
  const refused = emulator.createSession('otel-refused', { jwtTtlSeconds: -60 })
  emulator.revokeRefreshToken(refused.refreshToken.secret)
  await assert.rejects(auth.getSession({ jwt: refused.jwt, refreshToken: refused.refreshToken.secret }))
  emulator.faults.refresh = { status: 502 }
  const down = emulator.createSession('otel-down', { jwtTtlSeconds: -60 })
  await assert.rejects(auth.getSession({ jwt: down.jwt, refreshToken: down.refreshToken.secret }))
  emulator.faults.refresh = null
  await sleep(20)

  const { resourceMetrics } = await reader.collect()
  const metrics = new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]))
  const points = (name) => metrics.get(name).dataPoints.map((point) => ({ ...point.attributes, value: point.value }))
  assert.deepEqual(
    points('crossmint_auth.sessions').sort((a, b) => a.outcome.localeCompare(b.outcome)),
    [
      { outcome: 'outage', code: 'CROSSMINT_UNAVAILABLE', value: 1 },
      { outcome: 'refreshed', value: 1 },
      { outcome: 'refused', code: 'SESSION_EXPIRED', value: 1 },
    ],
  )
  const refreshPoints = metrics.get('crossmint_auth.http.client.duration').dataPoints.filter((p) => p.attributes.call === 'refresh')
  assert.deepEqual(refreshPoints.map((p) => p.attributes['http.response.status_code']).sort(), [200, 401, 502])
  assert.ok(refreshPoints.every((p) => p.value.count === 1 && p.value.sum >= 0))
  assert.ok(points('crossmint_auth.refreshes').some((p) => p.role === 'leader' && p.outcome === 'rotated'))

  const refreshSpans = spans.getFinishedSpans().filter((span) => span.name === 'crossmint refresh')
  assert.equal(refreshSpans.length, 3)
  const byStatus = new Map(refreshSpans.map((span) => [span.attributes['http.response.status_code'], span]))
  assert.equal(byStatus.get(200).status.code, 0, 'unset: success')
  assert.equal(byStatus.get(502).status.code, 2, 'error: Crossmint unavailable')
  assert.equal(byStatus.get(502).attributes['error.type'], '502')
  assert.equal(byStatus.get(200).kind, 2, 'CLIENT')
  assert.equal(byStatus.get(200).attributes['url.path'], REFRESH_PATH)
})

test('OpenTelemetry: a user lookup is one series whoever the user, an outage of it says so, and a second instrumentation is refused', async (t) => {
  const { reader, meterProvider } = inMemoryMetrics()
  const stop = instrumentCrossmintAuth({ meterProvider })
  t.after(stop)
  assert.throws(() => instrumentCrossmintAuth({ meterProvider }), /already active/)

  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  const seen = await collect(async () => {
    for (const id of ['user-a', 'user-b', 'user-c']) await auth.getUser(id)
    emulator.faults.user = { reset: true, times: 1 }
    await assert.rejects(auth.getUser('user-d'))
    await assert.rejects(auth.getUser('..'), { code: 'INVALID_INPUT' })
  })
  assert.deepEqual(
    seen.user.map((context) => [context.outcome, context.code]),
    [
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
      ['outage', 'CROSSMINT_UNAVAILABLE'],
      ['refused', 'INVALID_INPUT'],
    ],
  )
  const { resourceMetrics } = await reader.collect()
  const userPoints = resourceMetrics.scopeMetrics
    .flatMap((scope) => scope.metrics)
    .find((metric) => metric.descriptor.name === 'crossmint_auth.http.client.duration')
    .dataPoints.filter((point) => point.attributes.call === 'user')
  const paths = [...new Set(userPoints.map((point) => point.attributes['url.path']))]
  assert.equal(paths.length, 1, paths.join())
  assert.match(paths[0], /\/user\/\{userId\}$/)
})

test('diagnostics channels: traced where TracingChannel has no hasSubscribers getter (Node 20.0 to 20.12)', async (t) => {
  const prototype = Object.getPrototypeOf(diagnosticsChannel.tracingChannel('crossmint-test:probe'))
  const getter = Object.getOwnPropertyDescriptor(prototype, 'hasSubscribers')
  Object.defineProperty(prototype, 'hasSubscribers', { configurable: true, get: () => undefined })
  t.after(() => Object.defineProperty(prototype, 'hasSubscribers', getter))
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  const session = emulator.createSession('old-node')
  const seen = await collect(() => auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }))
  assert.deepEqual(
    seen.session.map((context) => context.outcome),
    ['verified'],
  )
})
