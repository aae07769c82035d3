import type { AuthSession, JSONWebKeySet } from '../index'

export interface SignJwtOptions {
  alg?: 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'EdDSA' | 'none' | 'HS256'
  kid?: string | null
  key?: 'published' | 'unpublished'
  header?: Record<string, unknown>
  secret?: string | Uint8Array
}

export interface CreateSessionOptions {
  email?: string
  /** Lifetime of this session's first JWT only (negative: already expired). */
  jwtTtlSeconds?: number
  /** Lifetime of the JWTs refreshes issue for this user (default 3600). */
  refreshedJwtTtlSeconds?: number
  refreshTtlSeconds?: number
  alg?: SignJwtOptions['alg']
}

type FaultSwitch =
  | null
  | { status: number; body?: string; contentType?: string; delayMs?: number; times?: number }
  | { html: number; delayMs?: number; times?: number }
  | { hang: true; times?: number }
  | { delayMs: number; times?: number }

export interface CrossmintEmulator {
  /** Base URL, for `createCrossmint({ apiKey, overrideBaseUrl: emulator.url })`. */
  url: string
  /** A development API key whose signature validates. */
  apiKey: string
  readonly jwks: JSONWebKeySet
  createSession(userId?: string, options?: CreateSessionOptions): AuthSession
  signJwt(claims: Record<string, unknown>, options?: SignJwtOptions): string
  issueRefreshToken(userId: string): { secret: string; expiresAt: string }
  revokeRefreshToken(secret: string): void
  rotateKeys(options?: { dropOld?: boolean }): string
  requests: Array<{ method: string; path: string; headers: Record<string, string | string[] | undefined>; body: string; json?: unknown }>
  clearRequests(): void
  waitForRequest(predicate: string | ((request: CrossmintEmulator['requests'][number]) => boolean), timeoutMs?: number): Promise<CrossmintEmulator['requests'][number]>
  faults: { refresh: FaultSwitch; logout: FaultSwitch; user: FaultSwitch; jwks: FaultSwitch }
  resetFaults(): void
  close(): Promise<void>
}

/** A local Crossmint (JWKS, refresh, logout, users) on 127.0.0.1, for offline tests. */
export declare function startCrossmintEmulator(options?: { port?: number }): Promise<CrossmintEmulator>
export declare const TEST_API_KEY: string
