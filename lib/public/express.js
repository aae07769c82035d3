'use strict'
// Express glue: a session middleware and the two routes every app needs.
// Thin wrappers over CrossmintAuth; all decisions stay in the SDK.

const { checkAuth, sessionFailureAnswer } = require('../core/framework-helpers.js')

/**
 * Runs getSession(req, res) and sets `req.crossmint = { userId, jwt, refreshToken }`.
 * When `required` (the default) and there is no valid session, answers 401
 * `{ error: "Unauthorized", code, message }`; when Crossmint cannot be
 * reached (`CROSSMINT_UNAVAILABLE`, `TIMEOUT`, `REDIRECT_REFUSED`) answers 503 with
 * `Retry-After`, as `refreshRoute` does; when optional, a refused session sets
 * `req.crossmint = null` and continues. Errors that are not about
 * authentication go to `next(err)`.
 */
function crossmintMiddleware(crossmintAuth, { required = true } = {}) {
  checkAuth(crossmintAuth, 'crossmintMiddleware')
  return async function crossmintSession(req, res, next) {
    try {
      const { userId, jwt, refreshToken } = await crossmintAuth.getSession(req, res)
      req.crossmint = { userId, jwt, refreshToken }
    } catch (error) {
      const answer = sessionFailureAnswer(error)
      if (answer === null) return next(error)
      if (required || answer.status === 503) {
        // Another middleware (a request timeout) may have answered while the
        // session was checked: writing again would throw out of this async
        // function, which Express 4 leaves unhandled.
        if (!res.headersSent) res.status(answer.status).set(answer.headers).json(answer.body)
        return
      }
      req.crossmint = null
    }
    next()
  }
}

/** POST handler: the refresh route (`handleCustomRefresh`), ended for you. */
function refreshRoute(crossmintAuth) {
  checkAuth(crossmintAuth, 'refreshRoute')
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
  checkAuth(crossmintAuth, 'logoutRoute')
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
