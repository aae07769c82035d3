// Fastify 5 with the package's plugin (`crossmint-server-native/fastify`):
// the refresh and logout routes, a route that requires a session and one
// where it is optional. Fastify parses the JSON body itself; the refresh
// route reads `{ refresh }` from `request.body`.
const Fastify = require('fastify')
const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')
const { crossmintPlugin, crossmintPreHandler } = require('crossmint-server-native/fastify')

function buildApp({ apiKey, baseUrl } = {}) {
  const crossmint = createCrossmint({
    apiKey: apiKey || process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: baseUrl || process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint, { cookieOptions: { httpOnly: true } })

  const app = Fastify()
  app.register(crossmintPlugin, { crossmintAuth, refreshPath: '/refresh', logoutPath: '/logout' })
  app.get('/me', { preHandler: crossmintPreHandler(crossmintAuth) }, async (request) => {
    return { userId: request.crossmint.userId }
  })
  app.get('/home', { preHandler: crossmintPreHandler(crossmintAuth, { required: false }) }, async (request) => {
    return { greeting: request.crossmint ? `Welcome back, ${request.crossmint.userId}` : 'Hello, guest' }
  })
  return app
}

module.exports = { buildApp }

if (require.main === module) {
  const app = buildApp()
  app.listen({ port: Number(process.env.PORT || 3001), host: '127.0.0.1' }).then(
    () => console.log(`Listening on http://127.0.0.1:${app.server.address().port}`),
    (error) => {
      console.error(error)
      process.exit(1)
    },
  )
}
