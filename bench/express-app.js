'use strict'
// Child process for section 5: the Express app from Crossmint's guide with
// its auth middleware, in one of three variants:
//   none       no auth middleware (the ceiling)
//   reference  @crossmint/server-sdk
//   ours       crossmint-server-native
// Listens on 127.0.0.1 on a free port and prints {"port": N} on stdout.
// Environment: CROSSMINT_URL, CROSSMINT_API_KEY.

const express = require('express')

const SDKS = { reference: '@crossmint/server-sdk', ours: '..' }

const variant = process.argv[2]
if (variant !== 'none' && !SDKS[variant]) {
  console.error('usage: express-app.js none|reference|ours')
  process.exit(2)
}

const app = express()

if (variant !== 'none') {
  const { createCrossmint, CrossmintAuth } = require(SDKS[variant])
  const crossmint = createCrossmint({ apiKey: process.env.CROSSMINT_API_KEY, overrideBaseUrl: process.env.CROSSMINT_URL })
  const crossmintAuth = CrossmintAuth.from(crossmint)
  app.use(async (req, res, next) => {
    try {
      const { jwt, userId } = await crossmintAuth.getSession(req, res)
      req.user = { userId, jwt }
      next()
    } catch {
      res.status(401).json({ error: 'Authentication failed' })
    }
  })
}

// The ceiling has no middleware, hence no req.user.
app.get('/protected', (req, res) => res.json({ message: 'Protected route', userId: req.user ? req.user.userId : null }))

const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`)
})

process.on('SIGTERM', () => server.close(() => process.exit(0)))
