'use strict'
// The guide's Next.js code builds a CrossmintAuth on every request. Its
// native half (HTTP headers, key set handle, verification options, refresh
// coordination) depends only on the configuration, so instances built from
// the same configuration share one; what differs per instance (cookie
// options, logger) stays on the JavaScript object. Bounded: when full the
// table is emptied, and instances already built keep their native half.
//
// Found by the API key, then compared member by member. A key string built
// from every member would be a fresh string per request, hashed and compared
// whole (API key included) by the Map: 1.8 µs of a 3.7 µs `from`. The API
// key is usually the same string on every request (read once from the
// environment), whose hash V8 keeps.

const { BoundedMap } = require('./bounded-map.js')

const SHARED_NATIVE_AUTH_LIMIT = 256

/**
 * `create(config, options)` builds a native half; the returned function
 * hands out the one already built for an equal configuration.
 */
function sharedNativeAuthFor(create) {
  // apiKey -> [{ config, options, nativeAuth }], config and options as
  // `snapshot`s; bounded in configurations (each list weighs its length).
  const byApiKey = new BoundedMap(SHARED_NATIVE_AUTH_LIMIT, {
    weightLimit: SHARED_NATIVE_AUTH_LIMIT,
    weightOf: (apiKey, built) => built.length,
  })
  return function sharedNativeAuth(config, options) {
    // Only comparable configurations are kept, and no other can match one
    // (`sameValue` never equals an object or a non-string item), so the
    // lookup needs no `comparable` walk.
    const built = byApiKey.get(config.apiKey)
    if (built !== undefined) {
      for (const entry of built) {
        if (sameMembers(entry.config, config) && sameMembers(entry.options, options)) return entry.nativeAuth
      }
    }
    const nativeAuth = create(config, options)
    if (comparable(config) && comparable(options)) {
      const entry = { config: snapshot(config), options: snapshot(options), nativeAuth }
      byApiKey.set(config.apiKey, built === undefined ? [entry] : [...built, entry])
    }
    return nativeAuth
  }
}

/** Whether every member is of a kind compared here; any other configuration gets its own native half. */
function comparable(part) {
  for (const name in part) {
    const value = part[name]
    if (value === undefined || value === null) continue
    const kind = typeof value
    if (kind === 'string' || kind === 'number' || kind === 'boolean') continue
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return false
  }
  return true
}

/** `part`'s members in order, as `[name, value, ...]`, arrays copied (the caller's may change later). */
function snapshot(part) {
  const members = []
  for (const name in part) {
    const value = part[name]
    members.push(name, Array.isArray(value) ? [...value] : value)
  }
  return members
}

/** Whether `part` has exactly the members of `members` (a `snapshot`), in order, with equal values. */
function sameMembers(members, part) {
  let index = 0
  for (const name in part) {
    if (members[index] !== name || !sameValue(members[index + 1], part[name])) return false
    index += 2
  }
  return index === members.length
}

/** Equal as configuration: `undefined` and `null` alike (both unset), kinds never mixed, arrays by their items. */
function sameValue(stored, value) {
  if (stored === undefined || stored === null) return value === undefined || value === null
  if (Array.isArray(stored)) {
    if (!Array.isArray(value) || value.length !== stored.length) return false
    for (let index = 0; index < stored.length; index++) if (stored[index] !== value[index]) return false
    return true
  }
  // NaN, which `===` never matches, is one value here.
  return stored === value || (Number.isNaN(stored) && Number.isNaN(value))
}

module.exports = { sharedNativeAuthFor, comparable, snapshot, sameMembers }
