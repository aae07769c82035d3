'use strict'
// Express glue: a session middleware and the two routes every app needs.
// Thin wrappers over CrossmintAuth; all decisions stay in the SDK.

const { sessionFailureAnswer } = require('../core/framework-helpers.js')

/**
 * Runs getSession(req, res) and sets `req.crossmint = { userId, jwt, refreshToken }`.
 * When `required` (the default) and there is no valid session, answers 401
 * `{ error: "Unauthorized", code, message }`; when Crossmint cannot be
 * reached (`CROSSMINT_UNAVAILABLE`, `TIMEOUT`) answers 503 with
 * `Retry-After`, as `refreshRoute` does; when optional, a refused session sets
 * `req.crossmint = null` and continues. Errors that are not about
 * authentication go to `next(err)`.
 */
function crossmintMiddleware(crossmintAuth, { required = true } = {}) {
  return async function crossmintSession(req, res, next) {
    try {
      const { userId, jwt, refreshToken } = await crossmintAuth.getSession(req, res)
      req.crossmint = { userId, jwt, refreshToken }
    } catch (error) {
      const answer = sessionFailureAnswer(error)
      if (answer === null) return next(error)
      if (required || answer.status === 503) {
        res.status(answer.status).set(answer.headers).json(answer.body)
        return
      }
      req.crossmint = null
    }
    next()
  }
}

/** POST handler: the refresh route (`handleCustomRefresh`), ended for you. */
function refreshRoute(crossmintAuth) {
  return async function crossmintRefresh(req, res, next) {
    try {
      await crossmintAuth.handleCustomRefresh(req, res)
      res.end()
    } catch (error) {
      next(error)
    }
  }
}

/** POST handler: revokes the session at Crossmint and clears the cookies. */
function logoutRoute(crossmintAuth) {
  return async function crossmintLogout(req, res, next) {
    try {
      await crossmintAuth.logout(req, res)
      res.end()
    } catch (error) {
      next(error)
    }
  }
}

module.exports = { crossmintMiddleware, refreshRoute, logoutRoute }
