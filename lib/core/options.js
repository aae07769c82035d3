'use strict'
// CrossmintAuth.from's arguments as the native half takes them: JavaScript
// values reduced to strings, numbers and booleans (truthiness and Date
// parsing as the reference applies them). What each value means, and which
// are refused, is the Rust core's decision.

const { optionalString } = require('./create-crossmint.js')

function jsTimeMs(value) {
  return value ? new Date(value).getTime() : undefined
}

/** `cookieOptions` as the native cookie functions take them. */
function nativeCookieOptions(options = {}) {
  return {
    httpOnly: Boolean(options.httpOnly),
    secure: Boolean(options.secure),
    sameSite: options.sameSite === undefined ? undefined : String(options.sameSite),
    domain: options.domain ? String(options.domain) : undefined,
    expiresMs: jsTimeMs(options.expiresAt),
  }
}

/** The `crossmint` object's configuration. */
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

/** `localCoordination`: false, true, or `{ file }` (which turns it on). */
function localCoordinationOptions(value) {
  if (value === undefined || value === null) return { localCoordination: undefined, localCoordinationFile: undefined }
  if (typeof value === 'object') {
    const file = value.file == null ? undefined : String(value.file)
    return { localCoordination: value.enabled !== false, localCoordinationFile: file }
  }
  return { localCoordination: Boolean(value), localCoordinationFile: undefined }
}

/**
 * Whether this process is a worker of Node's `cluster` (PM2's cluster mode
 * runs its instances as such workers): the processes of one app on one
 * machine then share refreshes through the local store by default.
 */
function isClusterWorker() {
  return require('node:cluster').isWorker === true
}

/** The options the native half depends on (all of it is shared per configuration). */
function nativeAuthOptions(options, refreshRoute) {
  const coordination = options.refreshCoordination
  const requested = coordination !== undefined && coordination !== null && coordination !== false
  const redisUrl = requested && typeof coordination === 'object' ? coordination.redisUrl : undefined
  const redisUrls =
    requested && typeof coordination === 'object' && Array.isArray(coordination.redisUrls)
      ? coordination.redisUrls.filter((url) => typeof url === 'string')
      : undefined
  return {
    refreshRoute: refreshRoute == null ? undefined : String(refreshRoute),
    timeoutMs: options.timeoutMs,
    clockToleranceSeconds: options.clockToleranceSeconds,
    issuer: stringList(options.issuer),
    audience: stringList(options.audience),
    // Only an explicit false turns the project binding off.
    projectAudience: options.projectAudience === false ? false : undefined,
    requireAudience: Boolean(options.requireAudience),
    refreshGraceSeconds: options.refreshGraceSeconds,
    requireExpiration: Boolean(options.requireExpiration),
    keySetStaleIfErrorSeconds: options.keySetStaleIfErrorSeconds,
    refreshCoordination: requested,
    redisUrl: typeof redisUrl === 'string' ? redisUrl : undefined,
    redisUrls,
    ...localCoordinationOptions(options.localCoordination),
    clusterWorker: isClusterWorker(),
  }
}

module.exports = { jsTimeMs, nativeCookieOptions, nativeConfig, nativeAuthOptions }
