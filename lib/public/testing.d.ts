import type { KeyObject } from 'node:crypto'
import type { AuthSession, JSONWebKeySet } from '../../index'

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
  /** The project its refresh tokens are bound to (the API key's by default); a refresh with another project's key is refused. */
  project?: string
  /** What every JWT of the session carries as `aud`: the project's id by default, `null` for none, or any string or array. */
  aud?: string | string[] | null
}

/**
 * A fault on one endpoint; members combine in this order: `probability`
 * (share of calls it applies to), `times` (the next N calls only), `delayMs`
 * (then the rest, or a normal answer), `reset` (connection destroyed, token
 * not looked at), `hang`, `html` (an error page), `body`/`status`, and
 * `truncate` (the call is processed, a refresh spends its token, and the
 * JSON answer is cut in half).
 */
type FaultSwitch = null | {
  probability?: number
  times?: number
  delayMs?: number
  reset?: true
  hang?: true
  html?: number
  status?: number
  body?: string
  contentType?: string
  truncate?: true
}

/** A refresh call that named a token, as the emulator answered it. */
export interface RefreshPresentation {
  at: number
  result: 'rotated' | 'rotated-unusable' | 'refused' | 'fault-before'
  /** Set for a rotation whose caller had already gone away. */
  delivered?: false
  reason?: 'used' | 'revoked' | 'expired'
}

export interface RefreshTokenState {
  userId: string
  /** The session (sign-in) the token belongs to; a refresh's token joins its family. */
  family: string
  /** 0 for a session's first token, +1 per refresh. */
  generation: number
  live: boolean
  used: boolean
  revoked: boolean
  expired: boolean
  /** The secret the token's refresh issued. */
  successor?: string
  issuedAt: number
  usedAt?: number
  revokedAt?: number
  presentations: RefreshPresentation[]
  logoutCalls: Array<{ at: number; result: 'revoked' | 'fault-before' }>
}

export interface CrossmintEmulator {
  /** Base URL, for `createCrossmint({ apiKey, overrideBaseUrl: emulator.url })`. */
  url: string
  /** A development API key whose signature validates. */
  apiKey: string
  /** The API key's project: every JWT's `aud` by default. */
  projectId: string
  /** The published key set; assigning replaces what is served. */
  jwks: JSONWebKeySet
  createSession(userId?: string, options?: CreateSessionOptions): AuthSession & { family: string }
  signJwt(claims: Record<string, unknown>, options?: SignJwtOptions): string
  issueRefreshToken(userId: string, options?: { family?: string }): { secret: string; expiresAt: string }
  revokeRefreshToken(secret: string): void
  /** What the emulator knows of a refresh token; undefined for a secret it never issued. */
  refreshTokenState(secret: string): RefreshTokenState | undefined
  /** The secrets of a family that are neither used, revoked nor expired. */
  liveRefreshTokens(family: string): string[]
  familyOf(secret: string): string | undefined
  rotateKeys(options?: { dropOld?: boolean }): string
  /** The key pair behind `kid` (undefined for an unknown kid), for attack tests. */
  getKey(kid: string): { privateKey: KeyObject; publicKey: KeyObject } | undefined
  requests: Array<{ method: string; path: string; headers: Record<string, string | string[] | undefined>; body: string; json?: unknown }>
  clearRequests(): void
  waitForRequest(
    predicate: string | ((request: CrossmintEmulator['requests'][number]) => boolean),
    timeoutMs?: number,
  ): Promise<CrossmintEmulator['requests'][number]>
  faults: { refresh: FaultSwitch; logout: FaultSwitch; user: FaultSwitch; jwks: FaultSwitch }
  resetFaults(): void
  close(): Promise<void>
}

/** A local Crossmint (JWKS, refresh, logout, users) on 127.0.0.1, for offline tests. */
export declare function startCrossmintEmulator(options?: {
  port?: number
  /** The kids published in the key set (default: rsa-1, rsa-ps, ec-1, ec-384, ed-1). */
  publishedKids?: string[]
}): Promise<CrossmintEmulator>
/** The project id an API key names (`<projectId>.` inside its payload), as Crossmint reads it; undefined when it names none. */
export declare function projectIdOf(apiKey: string): string | undefined
/** The project of `TEST_API_KEY`. */
export declare const TEST_PROJECT_ID: string
export declare const TEST_API_KEY: string
export declare const REFRESH_PATH: string
export declare const LOGOUT_PATH: string
export declare const JWKS_PATH: string
export declare const USER_PATH_PREFIX: string
