/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http'

// ---- createCrossmint ------------------------------------------------------

export type CustomAuth = {
  email?: string
  phone?: string
  jwt?: string
  /** Accepted for compatibility; unused by server-side authentication. */
  externalWalletSigner?: unknown
}

export type CrossmintConfig = {
  /** A Crossmint API key (`sk_...` or `ck_...`); its signature is checked locally. */
  apiKey: string
  /** Sent to Crossmint as `Authorization: Bearer <jwt>`. */
  jwt?: string
  /** Replaces the base URL derived from the key's environment. */
  overrideBaseUrl?: string
  /** Sent as `x-app-identifier`. */
  appId?: string
  /** Sent as `x-extension-id`. */
  extensionId?: string
  experimental_customAuth?: CustomAuth
}

export type Crossmint = CrossmintConfig & {
  experimental_setCustomAuth: (customAuth: CustomAuth) => Crossmint
  setJwt: (jwt: string) => Crossmint
}

export type APIKeyUsageOrigin = 'client' | 'server'
export type APIKeyEnvironmentPrefix = 'development' | 'staging' | 'production'
export type ValidateAPIKeyPrefixExpectations = {
  usageOrigin?: APIKeyUsageOrigin
  environment?: APIKeyEnvironmentPrefix
}

/** Validates the API key (throws `Error` with the reason) and returns the config object. */
export declare function createCrossmint(
  config: CrossmintConfig,
  apiKeyExpectations?: ValidateAPIKeyPrefixExpectations,
): Crossmint

// ---- auth material ----------------------------------------------------------

export interface RefreshToken {
  secret: string
  /** ISO date; `""` when the JWT was still valid and no refresh happened. */
  expiresAt: string
}

export type AuthMaterialBasic = {
  jwt?: string
  refreshToken: string
}

export type AuthMaterial = {
  jwt: string
  refreshToken: RefreshToken
}

export type FarcasterMetadata = {
  fid: string
  username: string
  bio: string
  displayName: string
  pfpUrl: string
  custody: string
  verifications: string[]
}

export type TwitterMetadata = {
  username: string
  id: string
}

export type SDKExternalUser = {
  id: string
  email?: string
  phoneNumber?: string
  farcaster?: FarcasterMetadata
  twitter?: TwitterMetadata
}

export type AuthMaterialWithUser = AuthMaterial & {
  user: SDKExternalUser
}

export type AuthSession = {
  jwt: string
  refreshToken: RefreshToken
  userId: string
}

export type CookieOptions = {
  /** Applied to the JWT cookie only, as in the reference SDK. */
  expiresAt?: string
  /** Applied to the refresh-token cookie; the JWT cookie is never HttpOnly. */
  httpOnly?: boolean
  secure?: boolean
  /** Default: `lax`. */
  sameSite?: 'Lax' | 'Strict' | 'None'
  domain?: string
}

/** Where `console.error` diagnostics and warnings (key set outages) go; `false` silences them. */
export type CrossmintLogger = false | { error: (...args: unknown[]) => void; warn?: (...args: unknown[]) => void }

export type CrossmintAuthOptions = {
  /** Absolute URL of the app's own refresh route (see `handleCustomRefresh`). */
  refreshRoute?: string
}

export type CrossmintAuthServerOptions = CrossmintAuthOptions & {
  cookieOptions?: CookieOptions
  /** Deadline for each call to Crossmint or the refresh route, in ms. Default 10000. */
  timeoutMs?: number
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default 0. */
  clockToleranceSeconds?: number
  /** Accepted `iss` values; unchecked by default. */
  issuer?: string | string[]
  /** Accepted `aud` values; unchecked by default. */
  audience?: string | string[]
  /** Seconds a finished refresh is reused for requests still carrying the old token. Default 30; 0 disables. */
  refreshGraceSeconds?: number
  /** Refuse tokens without an `exp` claim (they would otherwise never expire). Default false, as the reference. */
  requireExpiration?: boolean
  /** Default: `console.error`, as the reference logs. */
  logger?: CrossmintLogger
}

export type GenericRequest = IncomingMessage | Request
export type GenericResponse = ServerResponse | Response

// ---- JWT ----------------------------------------------------------------------

export interface JWK {
  kty?: string
  kid?: string
  alg?: string
  use?: string
  key_ops?: string[]
  crv?: string
  n?: string
  e?: string
  x?: string
  y?: string
  [member: string]: unknown
}

export interface JSONWebKeySet {
  keys: JWK[]
}

export interface JWTPayload {
  iss?: string
  sub?: string
  aud?: string | string[]
  jti?: string
  nbf?: number
  exp?: number
  iat?: number
  [claim: string]: unknown
}

/** A JWKS URI, or the key set itself. */
export type JWKSInput = string | JSONWebKeySet

/**
 * Verifies a JWT's signature (RS256/384/512, PS256/384/512, ES256, ES384, EdDSA)
 * and its `exp`/`nbf`/`iat` claims. A remote key set is fetched once and cached.
 * Rejects with an `Error` whose `code` says why (e.g. `TOKEN_EXPIRED`).
 */
export declare function verifyCrossmintJwt(token: string, jwks: JWKSInput): Promise<JWTPayload>

// ---- errors and constants --------------------------------------------------------

export type CrossmintAuthenticationErrorCode =
  | 'NO_AUTH_MATERIAL'
  | 'REFRESH_TOKEN_MISSING'
  | 'SESSION_EXPIRED'
  | 'INVALID_TOKEN'
  | 'REFRESH_FAILED'
  | 'CROSSMINT_UNAVAILABLE'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'

export declare class CrossmintAuthenticationError extends Error {
  constructor(message?: string, code?: CrossmintAuthenticationErrorCode)
  /** Why authentication failed; stable across releases. */
  code?: CrossmintAuthenticationErrorCode
}

export declare const CROSSMINT_API_VERSION: '2024-09-26'
export declare const SDK_NAME: string
export declare const SDK_VERSION: string

// ---- CrossmintAuth ------------------------------------------------------------------

export declare class CrossmintAuth {
  private constructor()
  static from(crossmint: Crossmint, options?: CrossmintAuthServerOptions): CrossmintAuth

  /** `${baseUrl}/.well-known/jwks.json` */
  getJwksUri(): string

  /**
   * The session of a request (cookies `crossmint-jwt` and `crossmint-refresh-token`)
   * or of explicit material. Refreshes an expired JWT; when `response` is given the
   * new cookies (or, on failure, cleared cookies) are set on it before this settles.
   */
  getSession(options: GenericRequest | AuthMaterialBasic, response?: GenericResponse): Promise<AuthSession>

  /** Crossmint's record of a user (typed `any`, as in the reference, so existing code compiles). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  getUser(externalUserId: string): Promise<any>

  /**
   * A refresh route: reads `{ refresh }` from the body or the refresh cookie, refreshes,
   * and answers with the material (200) or `{ error: "Unauthorized", message }` (401).
   * Node response given: written (not ended) and returned. Otherwise a Fetch `Response`.
   */
  handleCustomRefresh(request: GenericRequest, response?: GenericResponse): Promise<GenericResponse>

  verifyCrossmintJwt(token: string, jwks?: JSONWebKeySet): Promise<JWTPayload>

  /** Sets the two session cookies on a Node or Fetch response. */
  storeAuthMaterial(response: GenericResponse, authMaterial: AuthMaterial): void

  /**
   * Revokes the request's refresh token at Crossmint (when a request is given) and
   * clears both cookies on `response`, or on a new Fetch `Response` that is returned.
   */
  logout(request?: GenericRequest, response?: GenericResponse): Promise<GenericResponse>
}
