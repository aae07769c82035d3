'use strict'
// verifyCrossmintJwt, the free function, and what the instance method
// shares with it: a token verified before is answered from the native
// record (its expiry and key set checked again) with a fresh payload copy.

const native = require('./native-addon.js')
const { verificationError } = require('./errors.js')
const { mayCheckHere, timedCheckHere } = require('./check-scheduler.js')
const { payloadCopy } = require('./payload-copies.js')
const { BoundedMap } = require('./bounded-map.js')

function tokenText(token) {
  if (token instanceof Uint8Array) return new TextDecoder().decode(token)
  if (typeof token !== 'string') {
    throw verificationError({ name: 'JWSInvalid', code: 'ERR_JWS_INVALID', message: 'Compact JWS must be a string or Uint8Array' })
  }
  return token
}

/**
 * A fresh copy of the payload when the token is in the verified record, or
 * when a check may run on this thread now (check-scheduler.js) and it
 * passes; undefined otherwise (the caller then verifies asynchronously).
 * `isVerified(allowCheck)` asks the native record.
 */
function recordedPayload(text, isVerified) {
  const verified = isVerified(false) || (mayCheckHere() && timedCheckHere(() => isVerified(true)))
  return verified ? payloadCopy(text, native.jwtPayloadText) : undefined
}

/** A native verification's reply as the reference answers: the payload, or jose's error. */
function payloadOf(reply) {
  if (reply.failure) throw verificationError(reply.failure)
  return JSON.parse(reply.payloadJson)
}

/**
 * Key set URIs already accepted by `new URL` with an http(s) scheme, so the
 * per-call cost of `verifyCrossmintJwt(token, uri)` on a verified token is a
 * lookup, not a URL parse.
 */
const acceptedJwksUris = new BoundedMap(256)

function checkJwksUri(jwksUri) {
  if (acceptedJwksUris.has(jwksUri)) return
  let url
  try {
    url = new URL(jwksUri)
  } catch (error) {
    console.error('Error creating JWKS client', error)
    throw new Error('Unable to create JWKS client')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('Unsupported URL protocol.')
  acceptedJwksUris.set(jwksUri, true)
}

/**
 * With a key set URI, a verification is remembered (per URI, default
 * options) like getSession's, and a repeated token is answered from the
 * record with its expiry checked again. An inline key set is verified on
 * every call: the caller's object can change between calls, so a record
 * would have to be keyed by a digest of the whole set, serialised on every
 * call, for a path used mostly in tests and offline tools.
 */
async function verifyCrossmintJwt(token, jwks, options) {
  const audience = audienceOption(options)
  if (typeof jwks === 'string') {
    checkJwksUri(jwks)
    const text = tokenText(token)
    const payload = recordedPayload(text, (allowCheck) => native.jwtVerifiedFor(text, jwks, allowCheck, audience))
    if (payload !== undefined) return payload
    return payloadOf(await native.verifyJwt(text, jwks, undefined, audience))
  }
  return payloadOf(await native.verifyJwt(tokenText(token), undefined, jwks == null ? null : jwks, audience))
}

/** `{ audience }`: the project id (or ids) the JWT's `aud` must name, as the native half checks it. */
function audienceOption(options) {
  const audience = options == null ? undefined : options.audience
  return audience == null ? undefined : native.checkedAudience(audience)
}

module.exports = { verifyCrossmintJwt, checkJwksUri, tokenText, recordedPayload, payloadOf }
