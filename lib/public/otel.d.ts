// crossmint-server-native/otel: OpenTelemetry metrics and spans from the
// package's diagnostics channels. Needs the optional peer @opentelemetry/api.

import type { MeterProvider, TracerProvider } from '@opentelemetry/api'

export type InstrumentCrossmintAuthOptions = {
  /** Default: the global meter provider of @opentelemetry/api. */
  meterProvider?: MeterProvider
  /** Default: the global tracer provider of @opentelemetry/api. */
  tracerProvider?: TracerProvider
}

/**
 * Records `crossmint_auth.*` metrics (sessions, refresh routes, logouts and
 * refreshes by outcome and code; refresh and HTTP durations; coordination
 * health) and a CLIENT span per HTTP call the package makes. Returns a
 * function that stops it; a second call while one is active throws (it would
 * count everything twice). See the README, "Observability"; the channel
 * payloads are typed below.
 */
export declare function instrumentCrossmintAuth(options?: InstrumentCrossmintAuthOptions): () => void

/** The diagnostics channel names (`node:diagnostics_channel`). */
export declare const CHANNEL_NAMES: {
  readonly session: 'crossmint-server-native:session'
  readonly refresh: 'crossmint-server-native:refresh'
  readonly logout: 'crossmint-server-native:logout'
  readonly user: 'crossmint-server-native:user'
  readonly http: 'crossmint-server-native:http'
  readonly refreshFlight: 'crossmint-server-native:refresh-flight'
  readonly coordination: 'crossmint-server-native:coordination'
}

/** The context of the `session` tracing channel (`getSession`). */
export type SessionDiagnostics = {
  source?: 'request' | 'material'
  outcome?: 'remembered' | 'verified' | 'refreshed' | 'refused' | 'outage'
  /** `CrossmintAuthenticationError.code` of a failure. */
  code?: string
  userId?: string
  error?: Error
}

/** The context of the `refresh` tracing channel (`handleCustomRefresh`). */
export type RefreshRouteDiagnostics = {
  outcome?: 'refreshed' | 'refused' | 'outage'
  code?: string
  userId?: string
  error?: Error
}

/** The context of the `logout` tracing channel. */
export type LogoutDiagnostics = { withCookies?: boolean; code?: string; error?: Error }

/** The context of the `user` tracing channel (`getUser`). */
export type UserDiagnostics = { userId: string; outcome?: 'refused' | 'outage'; code?: string; error?: Error }

/** A message of the `http` channel: one HTTP call the package made. */
export type HttpCallEvent = {
  call: 'refresh' | 'logout' | 'user' | 'refresh-route' | 'key-set'
  method: string
  /** The URL's path (no query); a user lookup's ends in `{userId}`, not the id, so metrics keep one series. */
  path: string
  /** The answer's status; null when none came. */
  status: number | null
  /** Why no usable answer came: timeout, unavailable, redirect-refused, invalid-response, invalid-input. */
  error: string | null
  /** Milliseconds since the epoch. */
  startTime: number
  durationMs: number
}

/** A message of the `refresh-flight` channel: one refresh's part in its flight. */
export type RefreshFlightEvent = {
  role: 'leader' | 'joined' | 'follower'
  store: 'none' | 'redis' | 'local'
  outcome: 'rotated' | 'refused' | 'spent-unusable' | 'logged-out' | 'unknown'
  startTime: number
  durationMs: number
}

/** A message of the `coordination` channel: the shared store stopped or resumed working. */
export type CoordinationEvent = { store: 'redis' | 'local'; healthy: boolean; startTime: number }
