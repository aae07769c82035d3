'use strict'
// verifyCrossmintJwt answers a token verified before from the native record
// (its expiry and key set checked again on every call), and must still
// return a fresh payload object each time, as jose does. Decoding the payload
// and JSON.parse-ing it again cost more than the record lookup itself, so the
// parsed payload of recently verified tokens is kept here, never handed out,
// and each call gets a deep copy. The payload is a pure function of the
// token's text, so a copy is exactly what JSON.parse would have built.

const { BoundedMap } = require('./bounded-map.js')

/** Tokens whose parsed payload is kept; emptied when full (a miss costs one parse). */
const parsedPayloads = new BoundedMap(2_000)

/**
 * A deep copy of a JSON value. Objects are copied by spread, which defines
 * own properties, so a `"__proto__"` member stays a plain own property as
 * JSON.parse makes it (an assignment would set the prototype instead); the
 * nested values are then replaced on those own properties.
 */
function copyOf(value) {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(copyOf)
  const copy = { ...value }
  for (const key of Object.keys(copy)) {
    const member = copy[key]
    if (typeof member === 'object' && member !== null) copy[key] = copyOf(member)
  }
  return copy
}

/**
 * A fresh payload object for `token`, which the caller has just found
 * verified. `payloadText(token)` gives the payload's JSON text (or null).
 * Undefined when there is no text to parse.
 */
function payloadCopy(token, payloadText) {
  let parsed = parsedPayloads.get(token)
  if (parsed === undefined) {
    const text = payloadText(token)
    if (text == null) return undefined
    parsed = JSON.parse(text)
    parsedPayloads.set(token, parsed)
  }
  return copyOf(parsed)
}

module.exports = { payloadCopy }
