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
 * function that stops it. See the README, "Observability".
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
