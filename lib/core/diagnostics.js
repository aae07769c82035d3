'use strict'
// node:diagnostics_channel: what authentication is doing, for operators and
// for the OpenTelemetry entry (lib/public/otel.js). Tracing channels for the
// units of work the JavaScript side runs (a session check, a refresh route,
// a logout, a user lookup); plain channels for what the Rust core did (each
// HTTP call, each refresh's part in its flight, coordination health), which
// the core records only while someone listens and this module publishes
// after the next native call. Nothing is built when nobody subscribes: one
// property read per call. No token, secret or email in any payload (a user
// id at most).

const diagnosticsChannel = require('node:diagnostics_channel')
const native = require('./native-addon.js')

const PREFIX = 'crossmint-server-native:'

/** The channel names, as documented in the README ("Observability"). */
const CHANNEL_NAMES = {
  session: `${PREFIX}session`,
  refresh: `${PREFIX}refresh`,
  logout: `${PREFIX}logout`,
  user: `${PREFIX}user`,
  http: `${PREFIX}http`,
  refreshFlight: `${PREFIX}refresh-flight`,
  coordination: `${PREFIX}coordination`,
}

const tracing = {
  session: diagnosticsChannel.tracingChannel(CHANNEL_NAMES.session),
  refresh: diagnosticsChannel.tracingChannel(CHANNEL_NAMES.refresh),
  logout: diagnosticsChannel.tracingChannel(CHANNEL_NAMES.logout),
  user: diagnosticsChannel.tracingChannel(CHANNEL_NAMES.user),
}

/** The Rust core's events, by the `event` it gives them. */
const nativeChannels = {
  http: diagnosticsChannel.channel(CHANNEL_NAMES.http),
  refresh: diagnosticsChannel.channel(CHANNEL_NAMES.refreshFlight),
  coordination: diagnosticsChannel.channel(CHANNEL_NAMES.coordination),
}

let recording = false

/** Tells the core whether to record its events: only while someone listens. */
function syncRecording() {
  const listening = nativeChannels.http.hasSubscribers || nativeChannels.refresh.hasSubscribers || nativeChannels.coordination.hasSubscribers
  if (listening !== recording) {
    recording = listening
    native.setTelemetry(listening)
  }
}

/** Publishes what the core recorded since the last call. */
function publishNativeEvents() {
  if (!recording) return
  const { events } = native.takeTelemetry()
  for (const event of events) {
    const channel = nativeChannels[event.event]
    if (channel !== undefined && channel.hasSubscribers) {
      const { event: _kind, ...payload } = event
      channel.publish(payload)
    }
  }
}

/**
 * Whether any of a tracing channel's five channels has a subscriber: what
 * `TracingChannel#hasSubscribers` answers from Node 20.13 on; before it that
 * getter does not exist (and `undefined` would silence every trace).
 */
function hasTracingSubscribers(channel) {
  return (
    channel.start.hasSubscribers ||
    channel.end.hasSubscribers ||
    channel.asyncStart.hasSubscribers ||
    channel.asyncEnd.hasSubscribers ||
    channel.error.hasSubscribers
  )
}

/**
 * Whether a call of `unit` has anyone to tell (its tracing channel, or the
 * core's events): false on the common path, where the call runs untraced.
 */
function observed(unit) {
  syncRecording()
  return recording || hasTracingSubscribers(tracing[unit])
}

/**
 * Runs `run(context)` (which returns a promise) inside the tracing channel
 * `unit` (start, end, asyncStart, asyncEnd, error, as `tracePromise`
 * publishes them), then publishes the core's events. Unlike `tracePromise`
 * it never puts the call's result in the context (a session holds tokens):
 * the context carries what `run` writes into it (an outcome, a user id) and,
 * on a failure, `error`, its `outcome` (`refused` or `outage`) and `code`.
 */
function traced(unit, context, run) {
  const channel = tracing[unit]
  const promise = hasTracingSubscribers(channel) ? tracedRun(channel, context, run) : run(context)
  return recording ? promise.finally(publishNativeEvents) : promise
}

function tracedRun(channel, context, run) {
  return channel.start.runStores(context, () => {
    let promise
    try {
      promise = run(context)
    } finally {
      channel.end.publish(context)
    }
    return promise.then(
      (value) => {
        channel.asyncStart.publish(context)
        channel.asyncEnd.publish(context)
        return value
      },
      (error) => {
        context.error = error
        context.outcome = failureOutcome(error)
        if (error && error.code !== undefined) context.code = error.code
        channel.error.publish(context)
        channel.asyncStart.publish(context)
        channel.asyncEnd.publish(context)
        throw error
      },
    )
  })
}

/** `outage` or `refused`, the class Rust gave a failure. */
function failureOutcome(error) {
  return error && error[Symbol.for('crossmint-server-native.outage')] === true ? 'outage' : 'refused'
}

module.exports = { CHANNEL_NAMES, observed, traced, publishNativeEvents, failureOutcome }
