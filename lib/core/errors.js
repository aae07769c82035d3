'use strict'
// Every error the package throws, and how a failure the Rust core reported
// (`{ code, message, name, outage }`) becomes one.

class CrossmintAuthenticationError extends Error {
  constructor(message, code) {
    super(message)
    this.name = 'CrossmintAuthenticationError'
    if (code !== undefined) this.code = code
  }
}

/**
 * Marks a session error as an outage: Crossmint could not answer, so the
 * session may still be good (the framework helpers answer 503 and keep the
 * cookies). The class is the Rust core's decision; it is kept off the
 * enumerable properties, so the error looks as the reference's does.
 */
const OUTAGE = Symbol.for('crossmint-server-native.outage')

/** getSession's error for a failure the core reported. */
function sessionError(failure) {
  const error = new CrossmintAuthenticationError('Failed to get session', failure.code)
  if (failure.outage) Object.defineProperty(error, OUTAGE, { value: true })
  return error
}

/** Whether a getSession error means Crossmint could not answer. */
function isOutage(error) {
  return error[OUTAGE] === true
}

/** An error from a Crossmint call that is not about authentication (getUser), marked when it is an outage. */
function crossmintError({ code, message, outage }) {
  const error = new Error(message)
  error.code = code
  if (outage) Object.defineProperty(error, OUTAGE, { value: true })
  return error
}

/** An Error named and coded as the jose error the reference would throw. */
function verificationError({ name, code, message }) {
  const error = new Error(message)
  if (name !== undefined && name !== 'Error') error.name = name
  error.code = code
  return error
}

/**
 * Runs a synchronous native call. napi errors carry a `code` such as
 * "InvalidArg"; the reference throws a plain Error there, so the message is
 * thrown again as one. A TypeError (an unusable option) is thrown as it is.
 */
function rethrowPlain(action) {
  try {
    return action()
  } catch (error) {
    if (error instanceof TypeError) throw error
    throw new Error(error.message)
  }
}

module.exports = { CrossmintAuthenticationError, sessionError, isOutage, crossmintError, verificationError, rethrowPlain }
