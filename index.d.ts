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
export declare function createCrossmint(config: CrossmintConfig, apiKeyExpectations?: ValidateAPIKeyPrefixExpectations): Crossmint

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
export type CrossmintLogger =
  | false
  | {
      error: (...args: unknown[]) => void
      warn?: (...args: unknown[]) => void
      /** Used for rejections when `logRejections: "info"`. */
      info?: (...args: unknown[]) => void
      /** Used for rejections when `logRejections: "debug"`. */
      debug?: (...args: unknown[]) => void
    }

export type CrossmintAuthOptions = {
  /** Absolute URL of the app's own refresh route (see `handleCustomRefresh`). */
  refreshRoute?: string
}

/**
 * `redisUrl`: `redis://[[user]:password@]host[:port][/db]` or `rediss://` (TLS,
 * system roots). Redis 5 or later, or Valkey; a single node, or any node of a
 * Redis Cluster (detected on the first connection). `redisUrls`: more nodes of
 * the same cluster to start from (seed nodes). One of the two is required.
 * Checked when the instance is created; the connection opens on the first refresh.
 */
export type RefreshCoordination = { redisUrl: string; redisUrls?: string[] } | { redisUrl?: string; redisUrls: string[] }

export type CrossmintAuthServerOptions = CrossmintAuthOptions & {
  cookieOptions?: CookieOptions
  /** Deadline for each call to Crossmint or the refresh route, in ms. Default 10000. */
  timeoutMs?: number
  /** Seconds of clock skew allowed on `exp` and `nbf`. Default 0. */
  clockToleranceSeconds?: number
  /** Accepted `iss` values; unchecked by default. */
  issuer?: string | string[]
  /**
   * Accepted `aud` values. When set, they replace the project binding: by
   * default a JWT is accepted only when its `aud` is the API key's project id
   * (a string, or an array holding it) or when it has no `aud`.
   */
  audience?: string | string[]
  /**
   * `false` turns the project binding off: JWTs of any project are then
   * accepted (as the reference 1.2.42 does). Default true.
   */
  projectAudience?: boolean
  /**
   * Sharing of refreshes between the processes of one app on one machine,
   * through an embedded store (a SQLite file, sealed records) with no server
   * to run. On by default in a worker of Node's `cluster` (PM2's cluster mode
   * included); `true` or `{ file }` turns it on for other multi-process setups
   * (containers sharing a volume), `false` or `{ enabled: false }` turns it
   * off. The default file is
   * one per user, in a folder of that user's alone (mode 0700) in the
   * system's temporary folder. `refreshCoordination`
   * takes precedence. A file the system refuses gives one warning and
   * in-process coordination.
   */
  localCoordination?: boolean | { file?: string; enabled?: boolean }
  /** Refuse JWTs without an `aud` claim. Default false (Crossmint issued such JWTs before it added the claim). */
  requireAudience?: boolean
  /** Seconds a finished refresh is reused for requests still carrying the old token: 0 to 30, default 30 (larger values are held to 30, as long as the shared table keeps a refresh); 0 disables. */
  refreshGraceSeconds?: number
  /** Refuse tokens without an `exp` claim (they would otherwise never expire). Default false, as the reference. */
  requireExpiration?: boolean
  /**
   * How old a key set already held may be and still verify while Crossmint's
   * key set cannot be fetched, in seconds. Default 86400 (a day); 0 trusts no
   * held set once a fetch failed.
   */
  keySetStaleIfErrorSeconds?: number
  /**
   * Share refreshes with the app's other processes (cluster workers, pods,
   * serverless instances) through Redis, so a browser's concurrent requests
   * landing on different processes keep the session. Off by default: refreshes
   * are shared within the process only (`false`, `null` or absent). See README,
   * "Running several instances".
   */
  refreshCoordination?: RefreshCoordination | false | null
  /** Default: `console.error`, as the reference logs. */
  logger?: CrossmintLogger
  /**
   * How a refused session is logged. Default `"error"`: the reference's line,
   * `logger.error("Failed to get session", error)`, stack included. A level
   * (`"warn"`, `"info"`, `"debug"`) logs one line, `Failed to get session (CODE): message`,
   * with `logger[level]` (or `console[level]`); `false` logs nothing.
   */
  logRejections?: 'error' | 'warn' | 'info' | 'debug' | false
}

/** A Fastify request: its Node request is `raw`, its parsed body `body`. */
export interface FastifyRequestLike {
  raw: IncomingMessage
  headers: IncomingMessage['headers']
  body?: unknown
}

/** A Fastify reply: cookies, status and the refresh answer go through Fastify. */
export interface FastifyReplyLike {
  raw: ServerResponse
  sent: boolean
}

/** A Koa context (`ctx`): the request side reads `ctx.request.body` (a body parser's result). */
export interface KoaContextLike {
  req: IncomingMessage
  res: ServerResponse
  request: object
  response: object
}

/** Koa's `ctx.request` or `ctx.response`. */
export interface KoaRequestOrResponseLike {
  ctx: KoaContextLike
}

export type GenericRequest = IncomingMessage | Request | FastifyRequestLike | KoaContextLike | KoaRequestOrResponseLike
/** Responses written in place: Node's, Fastify's reply, Koa's context (each returned, but for the reply). */
export type ServerSideResponse = ServerResponse | FastifyReplyLike | KoaContextLike | KoaRequestOrResponseLike
export type GenericResponse = ServerSideResponse | Response

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
 * Rejects with an `Error` whose `code` is jose's (e.g. `ERR_JWT_EXPIRED`).
 */
export declare function verifyCrossmintJwt(token: string, jwks: JWKSInput, options?: VerifyCrossmintJwtOptions): Promise<JWTPayload>

export type VerifyCrossmintJwtOptions = {
  /** The project id (or ids) the JWT must be issued for: its `aud` must name one of them. Unchecked when absent. */
  audience?: string | string[]
}

/** The two cookie names a session travels under. */
export type AuthCookieNames = {
  /** `crossmint-jwt-<projectId>` */
  jwt: string
  /** `crossmint-refresh-token-<projectId>` */
  refreshToken: string
}

/**
 * The names Crossmint's current client (`@crossmint/client-sdk-auth` 1.3) stores
 * a project's session under, for code that reads cookies itself (a Next.js
 * Server Component's `cookies()`). Clients up to 1.2.50 use `crossmint-jwt` and
 * `crossmint-refresh-token`; `getSession(request)` reads both.
 */
export declare function getAuthCookieNames(projectId: string): AuthCookieNames

// ---- errors and constants --------------------------------------------------------

/**
 * Why a session failed. Outages, after which the cookies are kept and the
 * helpers answer 503 with Retry-After: `CROSSMINT_UNAVAILABLE`, `TIMEOUT`,
 * `REDIRECT_REFUSED`. Every other code ends the session (cookies cleared, 401).
 */
export type CrossmintAuthenticationErrorCode =
  | 'NO_AUTH_MATERIAL'
  | 'REFRESH_TOKEN_MISSING'
  | 'SESSION_EXPIRED'
  | 'INVALID_TOKEN'
  | 'REFRESH_FAILED'
  | 'CROSSMINT_UNAVAILABLE'
  | 'TIMEOUT'
  | 'REDIRECT_REFUSED'
  | 'INVALID_RESPONSE'
  | 'WRONG_PROJECT'

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

  /** The API key's project id: the scope of the cookie names, and the `aud` its JWTs carry. */
  getProjectId(): string

  /** `getAuthCookieNames(this.getProjectId())`. */
  getAuthCookieNames(): AuthCookieNames

  /**
   * The session of a request (this project's cookies `crossmint-jwt-<projectId>` and
   * `crossmint-refresh-token-<projectId>`, else `crossmint-jwt` and
   * `crossmint-refresh-token`) or of explicit material. Refreshes an expired JWT;
   * when `response` is given the new cookies (under the naming the request came
   * in with, both when it carried one session under both; scoped for explicit
   * material) or, on failure, cleared cookies are set on it before this settles.
   * When the session needs a refresh and `response` can no longer take cookies
   * (a Fetch `Response` with immutable headers, such as `Response.redirect()`;
   * a Node response whose headers went out), it rejects with a `TypeError`
   * and the refresh token is not spent.
   */
  getSession(options: GenericRequest | AuthMaterialBasic, response?: GenericResponse): Promise<AuthSession>

  /**
   * Crossmint's record of a user (typed `any`, as in the reference, so existing code compiles).
   * Rejects with a plain `Error` whose `code` is `INVALID_INPUT` (an id of `""`, `.` or `..`),
   * `INVALID_RESPONSE` (an answer that is not JSON), or an outage's `CROSSMINT_UNAVAILABLE`,
   * `TIMEOUT` or `REDIRECT_REFUSED`.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the reference's signature, so existing code compiles
  getUser(externalUserId: string): Promise<any>

  /**
   * A refresh route: reads `{ refresh }` from the body (already parsed by a framework,
   * or read within `timeoutMs`) or the refresh cookie, refreshes, and answers with the
   * material (200), `{ error: "Unauthorized", message }` (401) or, when Crossmint cannot
   * be reached, `{ error: "Service Unavailable", message }` (503, `Retry-After`).
   * The new cookies go under both namings (`crossmint-jwt-<projectId>` and `crossmint-jwt`, ...):
   * Crossmint's current client reads the first, server code written after its guide the second.
   * Without a response, or with a Fetch one: a new Fetch `Response` is returned.
   */
  handleCustomRefresh(request: GenericRequest, response?: Response): Promise<Response>
  /**
   * With a server-side response: a Node response is written (not ended), a Fastify
   * reply sent, a Koa context's body set; the same object is returned.
   */
  /** A Fastify reply is sent; the promise resolves with nothing (a reply is a thenable that settles only once sent). */
  handleCustomRefresh(request: GenericRequest, response: FastifyReplyLike): Promise<void>
  handleCustomRefresh<R extends ServerSideResponse>(request: GenericRequest, response: R): Promise<R>
  handleCustomRefresh(request: GenericRequest, response?: GenericResponse): Promise<GenericResponse>

  /** Verifies with this instance's options (project binding included), against its own key set or `jwks`. */
  verifyCrossmintJwt(token: string, jwks?: JWKSInput): Promise<JWTPayload>

  /** Sets the two session cookies, under the project-scoped names, on a Node or Fetch response. */
  storeAuthMaterial(response: GenericResponse, authMaterial: AuthMaterial): void

  /**
   * Revokes the request's refresh token at Crossmint (when a request is given) and
   * clears the session cookies under both namings on `response`, or on a new Fetch
   * `Response` that is returned.
   */
  logout(request?: GenericRequest, response?: Response): Promise<Response>
  /** Clears the cookies on a Node response, Fastify reply or Koa context (status 200) and returns it. */
  /** Cookies cleared and status 200 on a Fastify reply, which you then send; resolves with nothing. */
  logout(request: GenericRequest | undefined, response: FastifyReplyLike): Promise<void>
  logout<R extends ServerSideResponse>(request: GenericRequest | undefined, response: R): Promise<R>
  logout(request?: GenericRequest, response?: GenericResponse): Promise<GenericResponse>
}
