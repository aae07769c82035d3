'use strict'
// Hono glue: a middleware that sets `c.var.crossmint`, and the refresh and
// logout handlers. Hono speaks Fetch, so the SDK is called with the Fetch
// Request (`c.req.raw`) and its answers are Fetch Responses.

const { checkAuth, sessionFailureAnswer } = require('../core/framework-helpers.js')

/** Adds the Set-Cookie lines the SDK stored on `jar` to the answer Hono is building. */
function passCookies(c, jar) {
  for (const cookie of jar.headers.getSetCookie()) c.header('Set-Cookie', cookie, { append: true })
}

/**
 * Runs getSession and sets `c.var.crossmint = { userId, jwt, refreshToken }`.
 * Without a valid session: 401 `{ error: "Unauthorized", code, message }`
 * when `required` (the default), else `c.var.crossmint = null`. A Crossmint
 * outage answers 503 with Retry-After in both modes. Other errors are thrown
 * to `app.onError`. Refreshed (or cleared) cookies are added to whatever
 * the route answers, an error page included: a rotated refresh token that
 * does not reach the browser would sign the user out.
 */
function crossmintMiddleware(crossmintAuth, { required = true } = {}) {
  checkAuth(crossmintAuth, 'crossmintMiddleware')
  return async function crossmintSession(c, next) {
    // The SDK stores cookies on a Response; this one only carries them.
    const jar = new Response(null)
    try {
      const { userId, jwt, refreshToken } = await crossmintAuth.getSession(c.req.raw, jar)
      c.set('crossmint', { userId, jwt, refreshToken })
    } catch (error) {
      const answer = sessionFailureAnswer(error)
      if (answer === null) throw error
      if (required || answer.status === 503) {
        passCookies(c, jar) // cleared cookies on a 401; none on a 503
        return c.json(answer.body, answer.status, answer.headers)
      }
      c.set('crossmint', null)
    }
    await next()
    // After the route: its answer exists now, however it was made
    // (c.json, or a Response it returned); c.header copies it if needed.
    passCookies(c, jar)
  }
}

/**
 * The request the SDK reads the refresh body from. When an earlier
 * middleware already read the body through Hono (`c.req.json()`), the raw
 * stream is spent; Hono keeps what it read, so it is handed on from there.
 */
async function readableRequest(c) {
  const raw = c.req.raw
  if (!raw.bodyUsed) return raw
  return new Request(raw.url, { method: raw.method, headers: raw.headers, body: await c.req.text() })
}

/** POST handler: handleCustomRefresh's Response (200, 401 or 503 with Retry-After). */
function refreshRoute(crossmintAuth) {
  checkAuth(crossmintAuth, 'refreshRoute')
  return async function crossmintRefresh(c) {
    return crossmintAuth.handleCustomRefresh(await readableRequest(c))
  }
}

/** POST handler: revokes the session and answers 200 with the cookies cleared. */
function logoutRoute(crossmintAuth) {
  checkAuth(crossmintAuth, 'logoutRoute')
  return async function crossmintLogout(c) {
    return crossmintAuth.logout(c.req.raw)
  }
}

module.exports = { crossmintMiddleware, refreshRoute, logoutRoute }
