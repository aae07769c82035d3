// Koa 2, the recipe: no helper is needed. Hand the SDK Koa's `ctx`; it
// writes cookies and status through Koa (which presets 404, so success says
// 200 itself) and reads `{ refresh }` from `ctx.request.body` when a body
// parser ran first, as here.
const Koa = require('koa')
const { bodyParser } = require('@koa/bodyparser')
const { createCrossmint, CrossmintAuth, CrossmintAuthenticationError } = require('crossmint-server-native')

// Crossmint could not answer: the session is not known to be bad.
const OUTAGE_CODES = new Set(['CROSSMINT_UNAVAILABLE', 'TIMEOUT', 'REDIRECT_REFUSED'])

/** Sets `ctx.state.crossmint`, or answers 401 (503 when Crossmint is unreachable). */
function crossmintSession(crossmintAuth, { required = true } = {}) {
  return async (ctx, next) => {
    try {
      const { userId, jwt, refreshToken } = await crossmintAuth.getSession(ctx, ctx)
      ctx.state.crossmint = { userId, jwt, refreshToken }
    } catch (error) {
      if (!(error instanceof CrossmintAuthenticationError)) throw error // Koa's error handling
      if (OUTAGE_CODES.has(error.code)) {
        ctx.set('Retry-After', '5')
        ctx.status = 503
        ctx.body = { error: 'Service Unavailable', code: error.code, message: error.message }
        return
      }
      if (required) {
        ctx.status = 401
        ctx.body = { error: 'Unauthorized', code: error.code, message: error.message }
        return
      }
      ctx.state.crossmint = null
    }
    // Koa's own error answer removes every header but `error.headers`: a
    // route that throws would drop a just-rotated refresh token, and the
    // user would be signed out. Keep the cookies on the error.
    const cookies = ctx.response.get('Set-Cookie')
    try {
      await next()
    } catch (error) {
      if (cookies && error instanceof Error) error.headers = { ...error.headers, 'Set-Cookie': cookies }
      throw error
    }
  }
}

function createApp({ apiKey, baseUrl } = {}) {
  const crossmint = createCrossmint({
    apiKey: apiKey || process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: baseUrl || process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint, { cookieOptions: { httpOnly: true } })
  const requireSession = crossmintSession(crossmintAuth)
  const optionalSession = crossmintSession(crossmintAuth, { required: false })

  const app = new Koa()
  app.use(bodyParser())
  app.use(async (ctx, next) => {
    if (ctx.method === 'POST' && ctx.path === '/refresh') {
      await crossmintAuth.handleCustomRefresh(ctx, ctx) // status, cookies and JSON body set on ctx
      return
    }
    if (ctx.method === 'POST' && ctx.path === '/logout') {
      await crossmintAuth.logout(ctx, ctx) // 200, cookies cleared
      return
    }
    if (ctx.method === 'GET' && ctx.path === '/me') {
      return requireSession(ctx, async () => {
        ctx.body = { userId: ctx.state.crossmint.userId }
      })
    }
    if (ctx.method === 'GET' && ctx.path === '/fails') {
      return requireSession(ctx, async () => {
        throw new Error('the route failed after the session was refreshed')
      })
    }
    if (ctx.method === 'GET' && ctx.path === '/home') {
      return optionalSession(ctx, async () => {
        const { crossmint } = ctx.state
        ctx.body = { greeting: crossmint ? `Welcome back, ${crossmint.userId}` : 'Hello, guest' }
      })
    }
    await next()
  })
  return app
}

module.exports = { createApp, crossmintSession }

if (require.main === module) {
  const server = createApp().listen(Number(process.env.PORT || 3001), '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${server.address().port}`))
}
