'use strict'
// The JavaScript face of the addon: the reference SDK's API, translating
// Node and Fetch request/response objects to plain strings for the Rust core
// (src/) and writing its answers back. Session logic, cookies, JWT checks and
// every Crossmint call live in Rust; nothing here decides who is authenticated.

const native = loadNative()

/** The platform binary, or an error that says what to do when none fits. */
function loadNative() {
  try {
    return require('./native.js')
  } catch (cause) {
    const { targets = [] } = require('./package.json').napi || {}
    const here = `${process.platform}-${process.arch}`
    const error = new Error(
      `crossmint-server-native has no prebuilt binary that loads on ${here} (Node ${process.versions.node}). ` +
        `Prebuilt targets: ${targets.join(', ')}. Reinstall without --no-optional/--omit=optional so npm fetches ` +
        `the platform package, or build from source with a Rust toolchain: npm run build. Cause: ${cause.message}`,
    )
    error.cause = cause
    throw error
  }
}

const SDK_NAME = '@crossmint/server-sdk'
const SDK_VERSION = '1.2.42'
const CROSSMINT_API_VERSION = '2024-09-26'

/**
 * getSession may check a signature on the JS thread (one RS256 check is about
 * 25 µs) when the key set is already held: cheaper than a trip through the
 * Rust thread pool. But a burst of new tokens verified that way would run one
 * after another on one core, so only a few such checks are done per turn of
 * the event loop; the rest go to the pool and run in parallel. Tokens already
 * verified are answered on the JS thread without any check. See bench/.
 */
const SYNC_CHECKS_PER_TURN = Number(process.env.CROSSMINT_NATIVE_SYNC_CHECKS_PER_TURN ?? 8)
let syncChecksThisTurn = 0

function takeSyncCheck() {
  if (syncChecksThisTurn >= SYNC_CHECKS_PER_TURN) return false
  if (syncChecksThisTurn++ === 0) setImmediate(() => (syncChecksThisTurn = 0))
  return true
}

/** Largest request body `handleCustomRefresh` reads; a refresh body is ~100 bytes. */
const MAX_BODY_BYTES = 64 * 1024

class CrossmintAuthenticationError extends Error {
  constructor(message, code) {
    super(message)
    this.name = 'CrossmintAuthenticationError'
    if (code !== undefined) this.code = code
  }
}

/** An error from a Crossmint call that is not about authentication (getUser). */
function crossmintError(reply) {
  const error = new Error(reply.message)
  error.code = reply.code
  return error
}

/** napi errors carry a `code` like "InvalidArg"; the reference throws a plain Error. */
function rethrowPlain(action) {
  try {
    return action()
  } catch (error) {
    throw new Error(error.message)
  }
}

function createCrossmint(config, apiKeyExpectations) {
  if (config == null || typeof config !== 'object') {
    throw new TypeError('createCrossmint expects a config object with an apiKey')
  }
  const { apiKey, jwt, overrideBaseUrl, appId, extensionId, experimental_customAuth } = config
  const { usageOrigin, environment } = apiKeyExpectations || {}
  rethrowPlain(() =>
    native.checkApiKey(typeof apiKey === 'string' ? apiKey : '', optionalString(usageOrigin), optionalString(environment)),
  )
  return {
    apiKey,
    jwt,
    overrideBaseUrl,
    appId,
    extensionId,
    experimental_customAuth,
    experimental_setCustomAuth(customAuth) {
      return createCrossmint({ ...config, jwt: customAuth.jwt, experimental_customAuth: customAuth }, apiKeyExpectations)
    },
    setJwt(newJwt) {
      return createCrossmint({ ...config, jwt: newJwt }, apiKeyExpectations)
    },
  }
}

// ---- request and response adapters -------------------------------------

function isNodeRequest(request) {
  return request != null && typeof request === 'object' && 'httpVersion' in request
}

function isFetchHeaders(headers) {
  return headers != null && typeof headers.get === 'function'
}

/** The raw `Cookie` header, or null when the request has none. */
function cookieHeader(request) {
  const headers = request == null ? undefined : request.headers
  if (headers == null) return null
  const value = isFetchHeaders(headers) ? headers.get('cookie') : headers.cookie
  if (value == null) return null
  return Array.isArray(value) ? value.join('; ') : String(value)
}

function isNodeResponse(response) {
  return response != null && typeof response === 'object' && 'setHeader' in response
}

function isFetchResponse(response) {
  return response != null && response.headers != null && typeof response.headers.append === 'function'
}

function setCookies(response, cookies) {
  if (isNodeResponse(response)) {
    response.setHeader('Set-Cookie', cookies)
  } else if (isFetchResponse(response)) {
    for (const cookie of cookies) response.headers.append('Set-Cookie', cookie)
  } else {
    throw new TypeError('Expected a Node ServerResponse or a Fetch Response to store cookies on')
  }
}

/** Reads a Node request body (a refresh body is tiny); never waits on a finished stream. */
function readNodeBody(request) {
  if ('body' in request) return Promise.resolve(request.body)
  if (request.readableEnded || request.destroyed) return Promise.resolve(undefined)
  return new Promise((resolve) => {
    const chunks = []
    let size = 0
    const done = (value) => {
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onError)
      resolve(value)
    }
    const onData = (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        done(undefined)
        return
      }
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    }
    const onEnd = () => done(parseJson(Buffer.concat(chunks).toString('utf8')))
    const onError = () => done(undefined)
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('error', onError)
  })
}

function parseJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** A Fetch body that is missing, used, too large or not JSON yields undefined, not a throw. */
async function readFetchBody(request) {
  if (request.bodyUsed || request.body == null || typeof request.body.getReader !== 'function') return undefined
  const reader = request.body.getReader()
  const chunks = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > MAX_BODY_BYTES) {
        reader.cancel().catch(() => {})
        return undefined
      }
      chunks.push(value)
    }
  } catch {
    return undefined
  }
  return parseJson(Buffer.concat(chunks).toString('utf8'))
}

// ---- options ------------------------------------------------------------

function jsTimeMs(value) {
  return value ? new Date(value).getTime() : undefined
}

// What would end a Set-Cookie attribute (`;`) or the header line (controls):
// such a value would inject attributes, or make Node throw on every write.
const COOKIE_ATTRIBUTE_BREAK = /[;\x00-\x1f\x7f]/

function cookieAttribute(name, value) {
  if (value !== undefined && COOKIE_ATTRIBUTE_BREAK.test(value)) {
    throw new TypeError(`cookieOptions.${name} must not contain ";" or control characters`)
  }
  return value
}

function nativeCookieOptions(options = {}) {
  return {
    httpOnly: Boolean(options.httpOnly),
    secure: Boolean(options.secure),
    sameSite: cookieAttribute('sameSite', options.sameSite === undefined ? undefined : String(options.sameSite)),
    domain: cookieAttribute('domain', options.domain ? String(options.domain) : undefined),
    expiresMs: jsTimeMs(options.expiresAt),
  }
}

function optionalString(value) {
  return value ? String(value) : undefined
}

function nativeConfig(crossmint) {
  if (crossmint == null || typeof crossmint !== 'object') {
    throw new TypeError('CrossmintAuth.from expects the object returned by createCrossmint')
  }
  const customJwt = crossmint.experimental_customAuth && crossmint.experimental_customAuth.jwt
  return {
    apiKey: typeof crossmint.apiKey === 'string' ? crossmint.apiKey : '',
    jwt: optionalString(customJwt || crossmint.jwt),
    overrideBaseUrl: optionalString(crossmint.overrideBaseUrl),
    appId: optionalString(crossmint.appId),
    extensionId: optionalString(crossmint.extensionId),
  }
}

function stringList(value) {
  if (value == null) return undefined
  return (Array.isArray(value) ? value : [value]).map(String)
}

const CLEARED = { jwt: '', refreshToken: { secret: '', expiresAt: '' } }

/** A session whose JWT verified: the material as given, `expiresAt` empty. */
function unchangedSession(jwt, refreshToken, userId) {
  return { jwt, refreshToken: { secret: String(refreshToken), expiresAt: '' }, userId }
}

// ---- CrossmintAuth -------------------------------------------------------

const createToken = Symbol('CrossmintAuth.from')

class CrossmintAuth {
  #native
  #cookieOptions
  #logger

  constructor(token, crossmint, options) {
    if (token !== createToken) throw new TypeError('Use CrossmintAuth.from(crossmint, options)')
    this.crossmint = crossmint
    this.refreshRoute = options.refreshRoute != null ? options.refreshRoute : null
    this.#cookieOptions = nativeCookieOptions(options.cookieOptions)
    this.#logger = options.logger
    this.#native = rethrowPlain(() => new native.NativeAuth(nativeConfig(crossmint), {
      refreshRoute: this.refreshRoute == null ? undefined : String(this.refreshRoute),
      timeoutMs: options.timeoutMs,
      clockToleranceSeconds: options.clockToleranceSeconds,
      issuer: stringList(options.issuer),
      audience: stringList(options.audience),
      refreshGraceSeconds: options.refreshGraceSeconds,
      requireExpiration: Boolean(options.requireExpiration),
    }))
  }

  static from(crossmint, options = {}) {
    return new CrossmintAuth(createToken, crossmint, options || {})
  }

  #logError(...args) {
    const logger = this.#logger
    if (logger === false) return
    if (logger && typeof logger.error === 'function') logger.error(...args)
    else console.error(...args)
  }

  /** Hands warnings raised in Rust (key set outages) to `logger.warn`. */
  #flushWarnings() {
    const warnings = native.takeWarnings()
    if (warnings.length === 0) return
    const logger = this.#logger
    if (logger === false) return
    for (const warning of warnings) {
      if (logger && typeof logger.warn === 'function') logger.warn(warning)
      else console.warn(warning)
    }
  }

  getJwksUri() {
    return this.#native.jwksUri()
  }

  async getSession(input, response) {
    if (input == null) throw new CrossmintAuthenticationError('No auth material found', 'NO_AUTH_MATERIAL')
    const request = typeof input === 'object' && 'refreshToken' in input ? undefined : input
    let material = input
    if (request !== undefined) {
      const header = cookieHeader(request)
      if (header == null) throw new CrossmintAuthenticationError('No cookies found in request', 'NO_AUTH_MATERIAL')
      material = native.parseAuthCookies(header)
    }
    const { jwt, refreshToken } = material
    if (!refreshToken) throw new CrossmintAuthenticationError('Refresh token not found', 'REFRESH_TOKEN_MISSING')

    if (typeof jwt === 'string' && jwt !== '') {
      // The common case: a token verified before (or verifiable with the key
      // set already held) answers without a trip through the thread pool.
      let userId = this.#native.verifiedSubject(jwt, false)
      if (userId == null && takeSyncCheck()) userId = this.#native.verifiedSubject(jwt, true)
      if (userId != null) return unchangedSession(jwt, refreshToken, userId)
    }
    const reply = await this.#native.session(typeof jwt === 'string' ? jwt : undefined, String(refreshToken))
    this.#flushWarnings()
    if (reply.ok) {
      const { material } = reply
      if (material == null) return unchangedSession(jwt, refreshToken, reply.userId)
      if (response != null) this.storeAuthMaterial(response, material)
      return { jwt: material.jwt, refreshToken: material.refreshToken, userId: reply.userId }
    }
    if (reply.authenticationFailure && response != null) {
      // Cleared before the promise settles, so a handler that answers in its
      // catch block never races us for the headers.
      this.#clearCookiesQuietly(response)
      if (request !== undefined) this.#logoutInBackground(request)
    }
    const cause = new CrossmintAuthenticationError(reply.message, reply.code)
    this.#logError('Failed to get session', cause)
    throw new CrossmintAuthenticationError('Failed to get session', reply.code)
  }

  async getUser(externalUserId) {
    const reply = await this.#native.getUser(String(externalUserId))
    if (!reply.ok) throw crossmintError(reply)
    return reply.user
  }

  async handleCustomRefresh(request, response) {
    const body = isNodeRequest(request) ? await readNodeBody(request) : await readFetchBody(request)
    const bodyRefresh = body != null && typeof body === 'object' ? body.refresh : undefined
    const header = cookieHeader(request)
    const cookieRefresh = header == null ? undefined : native.parseAuthCookies(header).refreshToken
    const refreshToken = bodyRefresh != null ? bodyRefresh : cookieRefresh

    let reply
    if (refreshToken == null) {
      reply = {
        ok: false,
        code: 'REFRESH_TOKEN_MISSING',
        message: 'Please provide a refresh token either in the request body or cookies',
        authenticationFailure: true,
      }
    } else {
      reply = await this.#native.refreshWithCrossmint(String(refreshToken))
    }

    if (reply.ok) {
      const json = JSON.stringify(reply.material)
      if (isNodeResponse(response)) {
        // Cookies first: once the body is written the headers are gone.
        this.storeAuthMaterial(response, reply.material)
        response.setHeader('Content-Type', 'application/json')
        response.write(json)
        return response
      }
      const fetchResponse = new Response(json, { headers: { 'Content-Type': 'application/json' } })
      this.storeAuthMaterial(fetchResponse, reply.material)
      return fetchResponse
    }

    // An outage (5xx, unreachable, timeout) says nothing about the session:
    // the cookies stay, the token is not revoked, and the answer is a 503 so
    // a caller (or getSession with refreshRoute) retries instead of signing out.
    const endSession = reply.authenticationFailure
    const status = endSession ? 401 : 503
    const errorBody = { error: endSession ? 'Unauthorized' : 'Service Unavailable', message: reply.message }
    if (endSession) this.#logoutInBackground(request)
    if (isNodeResponse(response)) {
      if (endSession) this.#clearCookiesQuietly(response)
      if (!response.headersSent) {
        response.statusCode = status
        response.statusMessage = errorBody.error
        response.setHeader('Content-Type', 'application/json')
      }
      response.write(JSON.stringify(errorBody))
      return response
    }
    const fetchResponse = new Response(JSON.stringify(errorBody), { status, statusText: errorBody.error })
    if (endSession) this.storeAuthMaterial(fetchResponse, CLEARED)
    return fetchResponse
  }

  /** Verifies with this instance's options (issuer, audience, clock tolerance). */
  async verifyCrossmintJwt(token, jwks) {
    // A URI string is accepted, as the reference's free function accepts it.
    if (typeof jwks === 'string') return verifyCrossmintJwt(token, jwks)
    const reply = await this.#native.verify(tokenText(token), jwks == null ? undefined : jwks)
    this.#flushWarnings()
    if (!reply.ok) throw verificationError(reply)
    return reply.payload
  }

  storeAuthMaterial(response, authMaterial) {
    if (response == null) throw new Error('Response not found')
    const refresh = authMaterial == null ? undefined : authMaterial.refreshToken
    if (refresh == null) throw new TypeError('authMaterial.refreshToken is required')
    const cookies = native.authSetCookies(
      String(authMaterial.jwt),
      String(refresh.secret),
      jsTimeMs(refresh.expiresAt),
      this.#cookieOptions,
    )
    setCookies(response, cookies)
  }

  async logout(request, response) {
    if (request != null) {
      const header = cookieHeader(request)
      if (header == null) {
        this.#logError(new CrossmintAuthenticationError('No cookies found in request', 'NO_AUTH_MATERIAL'))
      } else {
        const reply = await this.#native.logout(native.parseAuthCookies(header).refreshToken)
        if (!reply.ok) this.#logError(crossmintError(reply))
      }
    }
    const target = response != null ? response : new Response()
    this.storeAuthMaterial(target, CLEARED)
    return target
  }

  #clearCookiesQuietly(response) {
    const headersSent = isNodeResponse(response) && response.headersSent
    if (headersSent) return
    try {
      this.storeAuthMaterial(response, CLEARED)
    } catch (error) {
      this.#logError('Failed to clear the session cookies', error)
    }
  }

  /** Revokes the request's refresh token at Crossmint without holding up the answer. */
  #logoutInBackground(request) {
    const header = cookieHeader(request)
    if (header == null) {
      this.#logError(new CrossmintAuthenticationError('No cookies found in request', 'NO_AUTH_MATERIAL'))
      return
    }
    const refreshToken = native.parseAuthCookies(header).refreshToken
    this.#native.logout(refreshToken).then(
      (reply) => {
        if (!reply.ok) this.#logError(crossmintError(reply))
      },
      (error) => this.#logError(error),
    )
  }
}

// ---- verification ----------------------------------------------------------

/** An Error named and coded as the jose error the reference would throw. */
function verificationError({ name, code, message }) {
  const error = new Error(message)
  if (name !== 'Error') error.name = name
  error.code = code
  return error
}

function tokenText(token) {
  if (token instanceof Uint8Array) return new TextDecoder().decode(token)
  if (typeof token !== 'string') {
    throw verificationError({ name: 'JWSInvalid', code: 'ERR_JWS_INVALID', message: 'Compact JWS must be a string or Uint8Array' })
  }
  return token
}

async function verifyWith(token, jwksUri, jwks) {
  const reply = await native.verifyJwt(tokenText(token), jwksUri, jwks)
  if (!reply.ok) throw verificationError(reply)
  return reply.payload
}

async function verifyCrossmintJwt(token, jwks) {
  if (typeof jwks === 'string') {
    let url
    try {
      url = new URL(jwks)
    } catch (error) {
      console.error('Error creating JWKS client', error)
      throw new Error('Unable to create JWKS client')
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('Unsupported URL protocol.')
    return verifyWith(token, jwks, undefined)
  }
  return verifyWith(token, undefined, jwks == null ? null : jwks)
}

module.exports = {
  createCrossmint,
  CrossmintAuth,
  CrossmintAuthenticationError,
  verifyCrossmintJwt,
  CROSSMINT_API_VERSION,
  SDK_NAME,
  SDK_VERSION,
}
