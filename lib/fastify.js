'use strict'
// Fastify glue: a plugin that declares `request.crossmint`, a preHandler that
// requires (or optionally reads) a session, and the refresh and logout
// routes. Fastify's own request and reply are handed to the SDK as they are,
// so refreshed cookies travel with Fastify's answer (and its onSend hooks).

const { CrossmintAuthenticationError } = require('../index.js')

/** Codes that say Crossmint could not answer, not that the session is bad. */
const OUTAGE_CODES = new Set(['CROSSMINT_UNAVAILABLE', 'TIMEOUT'])
/** Seconds a client is asked to wait after a Crossmint outage. */
const RETRY_AFTER_SECONDS = 5

function checkAuth(crossmintAuth, where) {
  if (crossmintAuth == null || typeof crossmintAuth.getSession !== 'function') {
    throw new TypeError(`${where} expects a CrossmintAuth (CrossmintAuth.from(crossmint, options))`)
  }
}

/**
 * A preHandler hook: runs getSession(request, reply) and sets
 * `request.crossmint = { userId, jwt, refreshToken }`. Without a valid
 * session it answers 401 `{ error: "Unauthorized", code, message }` when
 * `required` (the default), or sets `request.crossmint = null` when not.
 * A Crossmint outage answers 503 with Retry-After in both modes: the user
 * has a session that could not be checked, which is not the same as none.
 * Any other error is thrown to Fastify's error handler.
 */
function crossmintPreHandler(crossmintAuth, { required = true } = {}) {
  checkAuth(crossmintAuth, 'crossmintPreHandler')
  return async function crossmintSession(request, reply) {
    try {
      const { userId, jwt, refreshToken } = await crossmintAuth.getSession(request, reply)
      request.crossmint = { userId, jwt, refreshToken }
      return
    } catch (error) {
      if (!(error instanceof CrossmintAuthenticationError)) throw error
      const body = { code: error.code, message: error.message }
      if (OUTAGE_CODES.has(error.code)) {
        return reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).send({ error: 'Service Unavailable', ...body })
      }
      if (required) return reply.code(401).send({ error: 'Unauthorized', ...body })
      request.crossmint = null
    }
  }
}

/**
 * A POST handler for the refresh route: handleCustomRefresh answers on the
 * reply (200 with the new material and cookies, 401, or 503 with Retry-After).
 */
function refreshRoute(crossmintAuth) {
  checkAuth(crossmintAuth, 'refreshRoute')
  return async function crossmintRefresh(request, reply) {
    await crossmintAuth.handleCustomRefresh(request, reply)
    return reply
  }
}

/** A POST handler for the logout route: revokes the session and clears the cookies (200, empty). */
function logoutRoute(crossmintAuth) {
  checkAuth(crossmintAuth, 'logoutRoute')
  return async function crossmintLogout(request, reply) {
    await crossmintAuth.logout(request, reply)
    if (!reply.sent) reply.send()
    return reply
  }
}

/**
 * The plugin. Options: `crossmintAuth` (required), `refreshPath` and
 * `logoutPath` (POST routes registered only when given).
 */
function crossmintPlugin(fastify, options, done) {
  const { crossmintAuth, refreshPath, logoutPath } = options || {}
  checkAuth(crossmintAuth, 'crossmintPlugin')
  // Declared up front (null) so every request object keeps one shape.
  fastify.decorateRequest('crossmint', null)
  if (refreshPath != null) fastify.post(refreshPath, refreshRoute(crossmintAuth))
  if (logoutPath != null) fastify.post(logoutPath, logoutRoute(crossmintAuth))
  done()
}

// What `fastify-plugin` would set, written out so the package keeps no
// runtime dependencies: Fastify itself reads these symbols. skip-override
// makes the decorator visible outside the plugin's own scope; plugin-meta
// names the plugin (for `fastify.hasPlugin` and other plugins'
// `dependencies`) and has Fastify refuse a major version it was not tested on.
crossmintPlugin[Symbol.for('skip-override')] = true
crossmintPlugin[Symbol.for('fastify.display-name')] = 'crossmint-server-native'
crossmintPlugin[Symbol.for('plugin-meta')] = {
  name: 'crossmint-server-native',
  fastify: '5.x',
}

module.exports = { crossmintPlugin, crossmintPreHandler, refreshRoute, logoutRoute }
