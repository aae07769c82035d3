'use strict'
// crossmint-server-native/otel: metrics and spans for OpenTelemetry, from the
// package's diagnostics channels (lib/core/diagnostics.js). `@opentelemetry/api`
// is an optional peer dependency: this entry needs it, the rest never loads it.

const diagnosticsChannel = require('node:diagnostics_channel')
const { CHANNEL_NAMES } = require('../core/diagnostics.js')
const { version } = require('../../package.json')

const INSTRUMENTATION = 'crossmint-server-native'

function loadApi() {
  try {
    return require('@opentelemetry/api')
  } catch (error) {
    throw new Error('crossmint-server-native/otel needs @opentelemetry/api: npm install @opentelemetry/api', { cause: error })
  }
}

/**
 * Subscribes to the diagnostics channels and records, through the given (or
 * the global) meter and tracer providers:
 * - `crossmint_auth.sessions` (counter): `getSession` calls by `outcome`
 *   (remembered, verified, refreshed, refused, outage) and `code`;
 * - `crossmint_auth.refresh_routes` (counter): `handleCustomRefresh` by `outcome`, `code`;
 * - `crossmint_auth.logouts` (counter), by `code` when one failed;
 * - `crossmint_auth.refreshes` (counter) and `crossmint_auth.refresh.duration`
 *   (histogram, ms): each refresh by `role` (leader, joined, follower), `store`
 *   (none, redis, local) and `outcome`;
 * - `crossmint_auth.http.client.duration` (histogram, ms): each HTTP call the
 *   core makes (Crossmint, the refresh route, the key set) by `call`,
 *   `http.request.method`, `url.path`, `http.response.status_code`, `error.type`;
 * - `crossmint_auth.coordination.healthy` (gauge, 1 or 0) by `store`;
 * - a CLIENT span per HTTP call, with the same attributes and its real start
 *   and end times, status ERROR when no answer came or it was a 5xx.
 * Returns a function that unsubscribes.
 */
/** Whether an instrumentation is active: a second would count everything twice. */
let active = false

function instrumentCrossmintAuth(options = {}) {
  if (active) {
    throw new Error('instrumentCrossmintAuth is already active: call the function it returned before instrumenting again')
  }
  const api = options.api || loadApi()
  const meterProvider = options.meterProvider || api.metrics.getMeterProvider()
  const tracerProvider = options.tracerProvider || api.trace.getTracerProvider()
  const meter = meterProvider.getMeter(INSTRUMENTATION, version)
  const tracer = tracerProvider.getTracer(INSTRUMENTATION, version)

  const sessions = meter.createCounter('crossmint_auth.sessions', { description: 'getSession calls, by outcome and code' })
  const refreshRoutes = meter.createCounter('crossmint_auth.refresh_routes', { description: 'handleCustomRefresh calls, by outcome and code' })
  const logouts = meter.createCounter('crossmint_auth.logouts', { description: 'logout calls' })
  const refreshes = meter.createCounter('crossmint_auth.refreshes', { description: 'Refreshes, by role in their flight, store and outcome' })
  const refreshDuration = meter.createHistogram('crossmint_auth.refresh.duration', { unit: 'ms', description: 'Time to a refresh outcome' })
  const httpDuration = meter.createHistogram('crossmint_auth.http.client.duration', {
    unit: 'ms',
    description: 'HTTP calls to Crossmint, the refresh route and the key set',
  })
  const healthByStore = new Map()
  const healthy = meter.createObservableGauge('crossmint_auth.coordination.healthy', { description: '1 while refresh coordination works, 0 while it is down' })
  const observeHealth = (result) => {
    for (const [store, isHealthy] of healthByStore) result.observe(isHealthy ? 1 : 0, { store })
  }
  healthy.addCallback(observeHealth)

  const outcomeAttributes = (context) => {
    const attributes = { outcome: context.outcome || 'unknown' }
    if (context.code !== undefined) attributes.code = context.code
    return attributes
  }
  const subscriptions = []
  const onTracing = (name, handlers) => {
    const channel = diagnosticsChannel.tracingChannel(name)
    channel.subscribe(handlers)
    subscriptions.push(() => channel.unsubscribe(handlers))
  }
  const on = (name, handler) => {
    diagnosticsChannel.subscribe(name, handler)
    subscriptions.push(() => diagnosticsChannel.unsubscribe(name, handler))
  }

  onTracing(CHANNEL_NAMES.session, { asyncEnd: (context) => sessions.add(1, outcomeAttributes(context)) })
  onTracing(CHANNEL_NAMES.refresh, { asyncEnd: (context) => refreshRoutes.add(1, outcomeAttributes(context)) })
  onTracing(CHANNEL_NAMES.logout, { asyncEnd: (context) => logouts.add(1, context.code === undefined ? {} : { code: context.code }) })
  on(CHANNEL_NAMES.refreshFlight, (event) => {
    const attributes = { role: event.role, store: event.store, outcome: event.outcome }
    refreshes.add(1, attributes)
    refreshDuration.record(event.durationMs, attributes)
  })
  on(CHANNEL_NAMES.coordination, (event) => healthByStore.set(event.store, event.healthy))
  on(CHANNEL_NAMES.http, (event) => {
    const attributes = { call: event.call, 'http.request.method': event.method, 'url.path': event.path }
    if (event.status != null) attributes['http.response.status_code'] = event.status
    if (event.error != null) attributes['error.type'] = event.error
    else if (event.status >= 500) attributes['error.type'] = String(event.status)
    httpDuration.record(event.durationMs, attributes)
    const span = tracer.startSpan(`crossmint ${event.call}`, {
      kind: api.SpanKind.CLIENT,
      startTime: event.startTime,
      attributes,
    })
    if (attributes['error.type'] !== undefined) span.setStatus({ code: api.SpanStatusCode.ERROR, message: attributes['error.type'] })
    span.end(event.startTime + event.durationMs)
  })

  active = true
  return function uninstrument() {
    if (subscriptions.length === 0) return
    for (const unsubscribe of subscriptions.splice(0)) unsubscribe()
    healthy.removeCallback(observeHealth)
    active = false
  }
}

module.exports = { instrumentCrossmintAuth, CHANNEL_NAMES }
