// Express 5 with the package's helpers (`crossmint-server-native/express`),
// the same app as express-middleware.js. In your app this is
// `require("express")` with express@5 installed; this repository keeps
// Express 4 as "express" and installs Express 5 under the alias "express5".
const express = require('express5')
const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')
const { crossmintMiddleware, refreshRoute, logoutRoute } = require('crossmint-server-native/express')

function createApp({ apiKey, baseUrl } = {}) {
  const crossmint = createCrossmint({
    apiKey: apiKey || process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: baseUrl || process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint, { cookieOptions: { httpOnly: true } })

  const app = express()
  app.use(express.json()) // the refresh route reads `{ refresh }` from req.body
  app.post('/refresh', refreshRoute(crossmintAuth))
  app.post('/logout', logoutRoute(crossmintAuth))
  // Express 5 passes a rejected async handler to the error handler itself.
  app.get('/me', crossmintMiddleware(crossmintAuth), async (req, res) => {
    res.json({ userId: req.crossmint.userId })
  })
  app.get('/home', crossmintMiddleware(crossmintAuth, { required: false }), async (req, res) => {
    res.json({ greeting: req.crossmint ? `Welcome back, ${req.crossmint.userId}` : 'Hello, guest' })
  })
  return app
}

module.exports = { createApp }

if (require.main === module) {
  const server = createApp().listen(Number(process.env.PORT || 3001), '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${server.address().port}`))
}
