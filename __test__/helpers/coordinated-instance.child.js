'use strict'
// One app process of the coordination tests: the Express helpers with the
// options the test passes as JSON in CROSSMINT_AUTH_OPTIONS (Redis URL, grace).
// Warnings are printed as "WARN <line>" so the test can count them.
const express = require('express')
const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')
const { crossmintMiddleware, refreshRoute, logoutRoute } = require('crossmint-server-native/express')

const crossmint = createCrossmint({
  apiKey: process.env.SERVER_CROSSMINT_API_KEY,
  overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
})
const crossmintAuth = CrossmintAuth.from(crossmint, {
  ...JSON.parse(process.env.CROSSMINT_AUTH_OPTIONS || '{}'),
  logRejections: false,
  logger: {
    error: (...args) => console.log('ERROR', ...args),
    warn: (line) => console.log(`WARN ${line}`),
    info: () => {},
    debug: () => {},
  },
})

const app = express()
app.use(express.json())
app.post('/refresh', refreshRoute(crossmintAuth))
app.post('/logout', logoutRoute(crossmintAuth))
app.get('/me', crossmintMiddleware(crossmintAuth), (req, res) => res.json({ userId: req.crossmint.userId, pid: process.pid }))
const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => console.log(`Listening on http://127.0.0.1:${server.address().port}`))
