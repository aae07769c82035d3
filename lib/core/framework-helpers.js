'use strict'
// What the framework helpers (lib/public/express.js, fastify.js, hono.js)
// share: the check of what they are given, and how a failed getSession is
// answered. Each helper turns its framework's request into one getSession
// call; the SDK decides the outcome.

const { CrossmintAuthenticationError, isOutage } = require('./errors.js')
const { RETRY_AFTER_SECONDS } = require('./request-response.js')

/** Throws at setup, not at the first request, when a helper is not given a CrossmintAuth. */
function checkAuth(crossmintAuth, where) {
  if (crossmintAuth == null || typeof crossmintAuth.getSession !== 'function') {
    throw new TypeError(`${where} expects a CrossmintAuth (CrossmintAuth.from(crossmint, options))`)
  }
}

/**
 * How a helper answers a failed getSession: 503 with Retry-After for an
 * outage (the class the Rust core gave the failure), 401 for anything else
 * that is about authentication, and null for an error that is not (the
 * helper hands that to the framework's error handling).
 */
function sessionFailureAnswer(error) {
  if (!(error instanceof CrossmintAuthenticationError)) return null
  if (isOutage(error)) {
    return {
      status: 503,
      headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
      body: { error: 'Service Unavailable', code: error.code, message: error.message },
    }
  }
  return { status: 401, headers: {}, body: { error: 'Unauthorized', code: error.code, message: error.message } }
}

module.exports = { checkAuth, sessionFailureAnswer }
