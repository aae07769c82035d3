'use strict'
// Fastify glue: a plugin that declares `request.crossmint`, a preHandler that
// requires (or optionally reads) a session, and the refresh and logout
// routes. The preHandler hands the SDK Fastify's own request and reply, so
// refreshed cookies travel with whatever Fastify answers.

const { checkAuth, sessionFailureAnswer } = require('../core/framework-helpers.js')

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
    } catch (error) {
      const answer = sessionFailureAnswer(error)
      if (answer === null) throw error
      if (required || answer.status === 503) return reply.code(answer.status).headers(answer.headers).send(answer.body)
      request.crossmint = null
    }
  }
}

// The two routes ask the SDK for a Fetch Response and let Fastify send it
// (status, each Set-Cookie, Retry-After, through its onSend hooks). Not
// `await logout(request, reply)`: a reply is a thenable that settles once it
// is sent, so awaiting a promise resolved with it waits for a send that
// would only come after the await.

/**
 * POST handler for the refresh route: `{ refresh }` from the body Fastify
 * parsed, or the cookie; 200 with the new material and cookies, 401 with the
 * cookies cleared, or 503 with Retry-After.
 */
function refreshRoute(crossmintAuth) {
  checkAuth(crossmintAuth, 'refreshRoute')
  return async function crossmintRefresh(request, reply) {
    return reply.send(await crossmintAuth.handleCustomRefresh(request))
  }
}

/** POST handler for the logout route: revokes the session and clears the cookies (200, empty). */
function logoutRoute(crossmintAuth) {
  checkAuth(crossmintAuth, 'logoutRoute')
  return async function crossmintLogout(request, reply) {
    return reply.send(await crossmintAuth.logout(request))
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
