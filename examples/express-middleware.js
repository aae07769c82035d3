// Express with the package's own middleware and routes
// (`crossmint-server-native/express`): protected, optional and public routes.
const express = require('express')
const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')
const { crossmintMiddleware, refreshRoute, logoutRoute } = require('crossmint-server-native/express')

function createApp({ apiKey, baseUrl } = {}) {
  const crossmint = createCrossmint({
    apiKey: apiKey || process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: baseUrl || process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint, {
    cookieOptions: { httpOnly: true },
    // Several processes behind a load balancer: share refreshes through Redis
    // (README, "Running several instances"). Without it, within this process.
    refreshCoordination: process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : undefined,
  })

  const app = express()
  app.use(express.json())
  app.post('/refresh', refreshRoute(crossmintAuth))
  app.post('/logout', logoutRoute(crossmintAuth))
  app.get('/me', crossmintMiddleware(crossmintAuth), (req, res) => {
    res.json({ userId: req.crossmint.userId })
  })
  app.get('/home', crossmintMiddleware(crossmintAuth, { required: false }), (req, res) => {
    res.json({ greeting: req.crossmint ? `Welcome back, ${req.crossmint.userId}` : 'Hello, guest' })
  })
  return app
}

module.exports = { createApp }

if (require.main === module) {
  const port = Number(process.env.PORT || 3001)
  const server = createApp().listen(port, '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${server.address().port}`))
}
