'use strict'
// The guide's Next.js code builds a CrossmintAuth on every request. Its
// native half (HTTP headers, key set handle, verification options, refresh
// coordination) depends only on the configuration, so instances built from
// the same configuration share one; what differs per instance (cookie
// options, logger) stays on the JavaScript object. Bounded: when full the
// table is emptied, and instances already built keep their native half.

const { BoundedMap } = require('./bounded-map.js')

const SHARED_NATIVE_AUTH_LIMIT = 256

/**
 * `create(config, options)` builds a native half; the returned function
 * hands out the one already built for an equal configuration.
 */
function sharedNativeAuthFor(create) {
  const byConfiguration = new BoundedMap(SHARED_NATIVE_AUTH_LIMIT)
  return function sharedNativeAuth(config, options) {
    const key = configurationKey(config, options)
    let nativeAuth = key === null ? undefined : byConfiguration.get(key)
    if (nativeAuth === undefined) {
      nativeAuth = create(config, options)
      if (key !== null) byConfiguration.set(key, nativeAuth)
    }
    return nativeAuth
  }
}

/**
 * Every member of both objects, unambiguously (types and lengths included),
 * or null when a value is of a kind that is not compared here: such a
 * configuration gets its own native state.
 */
function configurationKey(config, options) {
  let key = ''
  for (const part of [config, options]) {
    for (const name in part) {
      const encoded = keyPart(part[name])
      if (encoded === null) return null
      key += `${name}=${encoded}`
    }
    key += '|'
  }
  return key
}

function keyPart(value) {
  if (value === undefined || value === null) return 'u;'
  if (typeof value === 'string') return `s${value.length}:${value}`
  if (typeof value === 'number') return `n${value};`
  if (typeof value === 'boolean') return value ? 't;' : 'f;'
  if (Array.isArray(value)) {
    let encoded = `a${value.length}:`
    for (const item of value) {
      if (typeof item !== 'string') return null
      encoded += keyPart(item)
    }
    return encoded
  }
  return null
}

module.exports = { sharedNativeAuthFor, configurationKey }
