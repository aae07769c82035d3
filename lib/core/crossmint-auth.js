'use strict'
// The CrossmintAuth class: the reference's API over the native half
// (src/binding/auth.rs). It reads requests and writes responses; the Rust
// core decides who is authenticated, and how each failure is classed.

const native = require('./native-addon.js')
const http = require('./request-response.js')
const { readRefreshBody } = require('./request-body.js')
const { CrossmintAuthenticationError, sessionError, crossmintError, rethrowPlain } = require('./errors.js')
const { Logger } = require('./logger.js')
const { jsTimeMs, nativeCookieOptions, nativeConfig, nativeAuthOptions } = require('./options.js')
const { subjectOf, withCheckChannel } = require('./check-scheduler.js')
const { checkJwksUri, tokenText, recordedPayload, payloadOf } = require('./verify.js')
const { getAuthCookieNames } = require('./cookie-names.js')
const diagnostics = require('./diagnostics.js')
const { sharedNativeAuthFor } = require('./shared-native-auth.js')
const { rememberedSessionsFor, RememberedSessions } = require('./remembered-sessions.js')

// The guide's Next.js code builds a CrossmintAuth on every request: instances
// with the same configuration share their native half (shared-native-auth.js).
const sharedNativeAuth = sharedNativeAuthFor((config, options) => withCheckChannel(rethrowPlain(() => new native.NativeAuth(config, options))))

/** nativeAuth -> its timeout in ms, asked once per native half. */
const timeouts = new WeakMap()

function timeoutMsOf(nativeAuth) {
  let timeoutMs = timeouts.get(nativeAuth)
  if (timeoutMs === undefined) {
    timeoutMs = nativeAuth.timeoutMs()
    timeouts.set(nativeAuth, timeoutMs)
  }
  return timeoutMs
}

/**
 * Writes how a traced call ended into its diagnostics context (`outcome`,
 * and the user id of `session`), and returns `session`.
 */
function described(context, outcome, session) {
  if (context !== undefined) {
    context.outcome = outcome
    if (session.userId != null) context.userId = session.userId
  }
  return session
}

/** A session whose JWT verified: the material as given, `expiresAt` empty. */
function unchangedSession(jwt, refreshToken, userId) {
  return { jwt, refreshToken: { secret: String(refreshToken), expiresAt: '' }, userId }
}

/** #unscopedFallback's answer when the unscoped session was refused as well. */
const FALLBACK_REFUSED = Symbol('unscoped session refused too')

const noCookies = () => new CrossmintAuthenticationError('No cookies found in request', 'NO_AUTH_MATERIAL')

/** Proves a construction came through `CrossmintAuth.from`, as the reference's private constructor does. */
const CONSTRUCTED_BY_FROM = Symbol('CrossmintAuth.from')

class CrossmintAuth {
  #native
  #rememberedSessions
  #cookieOptions
  #log
  /** The native timeout, which also bounds reading a refresh body. */
  #timeoutMs

  constructor(constructedBy, crossmint, options) {
    if (constructedBy !== CONSTRUCTED_BY_FROM) throw new TypeError('Use CrossmintAuth.from(crossmint, options)')
    this.crossmint = crossmint
    this.refreshRoute = options.refreshRoute != null ? options.refreshRoute : null
    this.#cookieOptions = nativeCookieOptions(options.cookieOptions)
    // Refused here, before any request, rather than when a cookie is written.
    native.checkCookieOptions(this.#cookieOptions)
    this.#log = new Logger(options.logger, options.logRejections)
    this.#native = sharedNativeAuth(nativeConfig(crossmint), nativeAuthOptions(options, this.refreshRoute))
    this.#timeoutMs = timeoutMsOf(this.#native)
    this.#rememberedSessions = rememberedSessionsFor(this.#native, native.recordInvalidations)
  }

  static from(crossmint, options = {}) {
    return new CrossmintAuth(CONSTRUCTED_BY_FROM, crossmint, options || {})
  }

  getJwksUri() {
    return this.#native.jwksUri()
  }

  /** The API key's project id: the scope of the cookie names and the `aud` every JWT must carry. */
  getProjectId() {
    return this.#native.projectId()
  }

  /** `{ jwt, refreshToken }`: the cookie names Crossmint's current client stores this project's session under. */
  getAuthCookieNames() {
    return getAuthCookieNames(this.#native.projectId())
  }

  getSession(input, response) {
    if (!diagnostics.observed('session')) return this.#getSession(input, response, undefined)
    return diagnostics.traced('session', {}, (context) => this.#getSession(input, response, context))
  }

  /** `context`: the diagnostics context to describe the outcome in, when traced. */
  async #getSession(input, response, context) {
    if (response != null) http.assertResponse(response, 'getSession')
    if (input == null) throw new CrossmintAuthenticationError('No auth material found', 'NO_AUTH_MATERIAL')
    const request = typeof input === 'object' && 'refreshToken' in input ? undefined : input
    if (context !== undefined) context.source = request === undefined ? 'material' : 'request'
    let jwt, refreshToken, recordedUserId, header
    if (request === undefined) {
      ;({ jwt, refreshToken } = input)
    } else {
      header = http.cookieHeader(request)
      if (header == null) throw noCookies()
      // The same header answered from the record before, while that answer holds.
      const remembered = this.#rememberedSessions.lookup(header)
      if (remembered !== undefined) return described(context, 'remembered', unchangedSession(remembered.jwt, remembered.refreshToken, remembered.userId))
      // The cookies, and the JWT's user id when the verified record holds it.
      const startedAt = RememberedSessions.now()
      const found = this.#native.cookieSession(header)
      ;[jwt, refreshToken, recordedUserId] = found
      this.#rememberedSessions.remember(header, found, startedAt)
    }
    if (!refreshToken) throw new CrossmintAuthenticationError('Refresh token not found', 'REFRESH_TOKEN_MISSING')

    if (typeof jwt === 'string' && jwt !== '') {
      // The common case: a token verified before (or verifiable with the key
      // set already held) answers without a trip to the check threads.
      let userId = request === undefined || recordedUserId == null ? subjectOf(this.#native, jwt) : recordedUserId
      if (userId !== null && typeof userId === 'object') userId = await userId
      if (userId != null) return described(context, 'verified', unchangedSession(jwt, refreshToken, userId))
    }
    // A response that cannot take a refresh's cookies (its headers went out,
    // or are immutable): only a JWT that verifies is a session, and no token
    // is spent. Checked here, off the verified paths, where nothing is written.
    const unwritable = response == null ? undefined : http.unwritableReason(response)
    const reply = await this.#native.session(typeof jwt === 'string' ? jwt : undefined, String(refreshToken), unwritable === undefined)
    this.#log.warnings(native.takeWarnings())
    const { failure, material, userId } = reply
    if (failure != null && failure.code === 'REFRESH_WITHHELD') {
      throw new TypeError(
        `getSession: ${unwritable}, so the refreshed session's cookies could not be written; the refresh token was not spent. ` +
          'Pass a new Response() (and copy its Set-Cookie headers onto your answer), or call getSession before writing the answer.',
      )
    }
    if (failure == null) {
      if (material == null) return described(context, 'verified', unchangedSession(jwt, refreshToken, userId))
      // Under the names the page's own client reads (the request's naming).
      if (response != null) this.#storeMaterial(response, material, header, String(refreshToken), false)
      return described(context, 'refreshed', { jwt: material.jwt, refreshToken: material.refreshToken, userId })
    }
    let fallbackRefused = false
    if (!failure.outage && header !== undefined) {
      const recovered = await this.#unscopedFallback(header, String(refreshToken), response, context)
      if (recovered === FALLBACK_REFUSED) fallbackRefused = true
      else if (recovered !== undefined) return recovered
    }
    if (!failure.outage && response != null) {
      // Cleared before the promise settles, so a handler that answers in its
      // catch block never races us for the headers. Both namings when the
      // unscoped pair was refused too: left, it would be presented again.
      this.#clearCookiesQuietly(response, header, fallbackRefused)
      if (request !== undefined) this.#revokeInBackground(header)
    }
    this.#log.rejection(failure)
    throw sessionError(failure)
  }

  /**
   * A refused scoped session beside a live unscoped one of this project (a
   * page on Crossmint's previous client spent the scoped token by its prefix
   * match and wrote its new session unscoped): the unscoped session answers,
   * the stale scoped pair is cleared, nothing is lost. Undefined when there
   * is no such pair or Crossmint cannot answer; FALLBACK_REFUSED when that
   * session was refused too.
   */
  async #unscopedFallback(header, failedToken, response, context) {
    const fallback = this.#native.unscopedFallback(header, failedToken)
    if (fallback == null) return undefined
    const { failure, material, userId } = await this.#native.session(fallback.jwt == null ? undefined : fallback.jwt, fallback.refreshToken)
    if (failure != null) return failure.outage ? undefined : FALLBACK_REFUSED
    if (response != null && !http.headersSent(response)) {
      const staleScoped = this.#native.clearedSetCookies(header, false, this.#cookieOptions)
      const fresh =
        material == null
          ? []
          : this.#native.materialSetCookies(
              header,
              fallback.refreshToken,
              false,
              String(material.jwt),
              String(material.refreshToken.secret),
              jsTimeMs(material.refreshToken.expiresAt),
              this.#cookieOptions,
            )
      http.setCookies(response, [...staleScoped, ...fresh])
    }
    if (material == null) return described(context, 'verified', unchangedSession(fallback.jwt, fallback.refreshToken, userId))
    return described(context, 'refreshed', { jwt: material.jwt, refreshToken: material.refreshToken, userId })
  }

  getUser(externalUserId) {
    if (!diagnostics.observed('user')) return this.#getUser(externalUserId)
    return diagnostics.traced('user', { userId: String(externalUserId) }, () => this.#getUser(externalUserId))
  }

  async #getUser(externalUserId) {
    const { failure, user } = await this.#native.getUser(String(externalUserId))
    if (failure != null) throw crossmintError(failure)
    return user
  }

  handleCustomRefresh(request, response) {
    if (!diagnostics.observed('refresh')) return this.#handleCustomRefresh(request, response, undefined)
    return diagnostics.traced('refresh', {}, (context) => this.#handleCustomRefresh(request, response, context))
  }

  async #handleCustomRefresh(request, response, context) {
    // Checked before anything is read or spent: a rotated refresh token
    // whose answer cannot be written would log the user out.
    if (response != null) http.assertResponse(response, 'handleCustomRefresh')
    const body = await readRefreshBody(request, this.#timeoutMs)
    const bodyRefresh = body != null && typeof body === 'object' ? body.refresh : undefined
    const header = http.cookieHeader(request)
    const cookieRefresh = header == null ? undefined : this.#native.sessionCookies(header).refreshToken
    const refreshToken = bodyRefresh != null ? bodyRefresh : cookieRefresh
    // Whether the token tried is the cookies' session: only then may its
    // failure touch that session (fall back from it, clear it, revoke it).
    const triesCookieSession = bodyRefresh == null || cookieRefresh == null || String(bodyRefresh) === String(cookieRefresh)

    let spent = refreshToken == null ? undefined : String(refreshToken)
    let fallbackRefused = false
    let { failure, material } =
      spent === undefined
        ? { failure: { code: 'REFRESH_TOKEN_MISSING', message: 'Please provide a refresh token either in the request body or cookies', outage: false } }
        : await this.#native.refreshWithCrossmint(spent)
    // The cookies' scoped session refused beside a different unscoped one of
    // this project: server code that rewrote only the unscoped names (as
    // Crossmint's guide middleware does) left the scoped copy spent. The
    // unscoped session answers instead, as in getSession.
    if (failure != null && !failure.outage && spent !== undefined && header != null && triesCookieSession) {
      const fallback = this.#native.unscopedFallback(header, spent)
      const retried = fallback == null ? undefined : await this.#native.refreshWithCrossmint(fallback.refreshToken)
      if (retried !== undefined && retried.failure == null) {
        ;({ failure, material } = retried)
        spent = fallback.refreshToken
      }
      fallbackRefused = retried !== undefined && retried.failure != null && !retried.failure.outage
    }

    if (failure == null) {
      described(context, 'refreshed', { userId: material.user && material.user.id })
      return this.#refreshAnswer(response, {
        json: JSON.stringify(material),
        fetchInit: { headers: { 'Content-Type': 'application/json' } },
        // Cookies first: once the body is written the headers are gone.
        setCookies: (target) => this.#storeMaterial(target, material, header, spent, true),
      })
    }
    // An outage (5xx, unreachable, timeout) says nothing about the session:
    // the cookies stay, the token is not revoked, and the answer is a 503 so
    // a caller (or getSession with refreshRoute) retries instead of signing out.
    const endSession = !failure.outage
    if (context !== undefined) Object.assign(context, { outcome: endSession ? 'refused' : 'outage', code: failure.code })
    const statusText = endSession ? 'Unauthorized' : 'Service Unavailable'
    const status = endSession ? 401 : 503
    const headers = endSession ? {} : { 'Retry-After': String(http.RETRY_AFTER_SECONDS) }
    // A body token that failed says nothing about another session in the
    // cookies, which was never tried: it is neither revoked nor cleared (a
    // cross-site form posting junk would otherwise log the user out).
    const endCookieSession = endSession && triesCookieSession
    if (endCookieSession) this.#revokeInBackground(header)
    return this.#refreshAnswer(response, {
      status,
      statusText,
      headers,
      json: JSON.stringify({ error: statusText, message: failure.message }),
      fetchInit: { status, statusText, headers },
      setCookies: endCookieSession
        ? (target, quietly) => (quietly ? this.#clearCookiesQuietly(target, header, fallbackRefused) : this.#storeCleared(target, header, fallbackRefused))
        : undefined,
    })
  }

  /**
   * handleCustomRefresh's answer: written on a server-side response (the
   * cookies, quietly for a failure, then the JSON), else a Fetch Response.
   */
  #refreshAnswer(response, { status = 200, statusText, headers, json, fetchInit, setCookies }) {
    if (response != null && http.responseKind(response) !== 'fetch') {
      if (setCookies !== undefined) setCookies(response, status !== 200)
      return http.settledValue(http.writeJsonAnswer(response, { status, statusText, json, headers }))
    }
    const fetchResponse = new Response(json, fetchInit)
    if (setCookies !== undefined) setCookies(fetchResponse, false)
    return fetchResponse
  }

  /** Verifies with this instance's options (project binding, issuer, audience, clock tolerance). */
  async verifyCrossmintJwt(token, jwks) {
    // A URI string is accepted, as the reference's free function accepts
    // it, and verified with this instance's options all the same.
    if (typeof jwks === 'string') checkJwksUri(jwks)
    const text = tokenText(token)
    if (jwks == null) {
      // As in getSession: a token verified before is answered from the
      // record (its expiry checked again), without waiting on anything.
      const payload = recordedPayload(text, (allowCheck) => this.#native.isVerified(text, allowCheck))
      if (payload !== undefined) return payload
    }
    const reply = await this.#native.verify(text, jwks == null ? undefined : jwks)
    this.#log.warnings(native.takeWarnings())
    return payloadOf(reply)
  }

  /** With no request to go on, the material goes under the project-scoped names. */
  storeAuthMaterial(response, authMaterial) {
    this.#storeMaterial(response, authMaterial, undefined, undefined, false)
  }

  /**
   * Writes material for the request whose Cookie header was `header`, which
   * spent `spent`; `forRefreshRoute` for a client in refresh-route mode.
   * Which names it goes under is the native half's rule (session_cookies.rs).
   */
  #storeMaterial(response, authMaterial, header, spent, forRefreshRoute) {
    if (response == null) throw new Error('Response not found')
    const refresh = authMaterial == null ? undefined : authMaterial.refreshToken
    if (refresh == null) throw new TypeError('authMaterial.refreshToken is required')
    const lines = this.#native.materialSetCookies(
      header == null ? undefined : header,
      spent,
      forRefreshRoute,
      String(authMaterial.jwt),
      String(refresh.secret),
      jsTimeMs(refresh.expiresAt),
      this.#cookieOptions,
    )
    http.setCookies(response, lines)
  }

  logout(request, response) {
    if (!diagnostics.observed('logout')) return this.#logout(request, response, undefined)
    return diagnostics.traced('logout', {}, (context) => this.#logout(request, response, context))
  }

  async #logout(request, response, context) {
    if (response != null) http.assertResponse(response, 'logout')
    const header = request != null ? http.cookieHeader(request) : undefined
    if (context !== undefined) context.withCookies = header != null
    if (request != null) {
      if (header == null) {
        this.#log.error(noCookies())
      } else {
        // The request's JWT is refused as a session too: it would verify
        // until its exp whatever happens to the refresh token.
        const { failure } = await this.#native.logout(header)
        if (failure != null) this.#log.error(crossmintError(failure))
        if (context !== undefined && failure != null) context.code = failure.code
      }
    }
    // The session ends whatever the response: a user who asked to log out is
    // logged out at Crossmint and here even when the cookies cannot be cleared.
    const unwritable = response == null ? undefined : http.unwritableReason(response)
    if (unwritable !== undefined) {
      throw new TypeError(`logout: the session was ended, but ${unwritable}, so its cookies could not be cleared. Pass a new Response(), or omit it.`)
    }
    const target = response != null ? response : new Response()
    this.#storeCleared(target, header, true)
    if (response != null) http.markSuccess(response)
    return http.settledValue(target)
  }

  /** Clears the session of `header`'s request: every naming (a logout), or the one it came in with. */
  #storeCleared(response, header, everyNaming) {
    if (response == null) throw new Error('Response not found')
    http.setCookies(response, this.#native.clearedSetCookies(header == null ? undefined : header, everyNaming, this.#cookieOptions))
  }

  #clearCookiesQuietly(response, header, everyNaming = false) {
    if (http.headersSent(response)) return
    try {
      this.#storeCleared(response, header, everyNaming)
    } catch (error) {
      this.#log.error('Failed to clear the session cookies', error)
    }
  }

  /**
   * Revokes the request's refresh token at Crossmint without holding up the
   * answer, after the session failed. Not a logout: a late request carrying
   * a replaced token must not end the newer session its chain led to.
   */
  #revokeInBackground(header) {
    if (header == null) {
      this.#log.error(noCookies())
      return
    }
    this.#native.revokeRefreshToken(this.#native.sessionCookies(header).refreshToken).then(
      ({ failure }) => failure != null && this.#log.error(crossmintError(failure)),
      (error) => this.#log.error(error),
    )
  }
}

module.exports = { CrossmintAuth }
