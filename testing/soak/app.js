'use strict'

// The chaos soak's app (issue 24), in its own process: Express with
// `crossmint-server-native/express` (SOAK_SDK=ours, the default), or the
// reference `@crossmint/server-sdk` behind a middleware written the way
// Crossmint's guide writes it (SOAK_SDK=reference; the reference has no
// Express helpers). Prints "Listening on <url>" once it accepts connections.
//
// Environment: CROSSMINT_BASE_URL, SERVER_CROSSMINT_API_KEY, PORT (0: any),
// SOAK_SDK, SOAK_TIMEOUT_MS (ours: timeoutMs), SOAK_REDIS_URL (ours:
// refreshCoordination), SOAK_ON_UNHANDLED = 'crash' (default: record the
// event, then exit 1 as Node's default policy would) or 'record' (record it
// and keep running).
//
// Every unhandled rejection and uncaught exception is counted and written to
// stderr as one line starting "SOAK-UNHANDLED-REJECTION" or
// "SOAK-UNCAUGHT-EXCEPTION", which the driver counts across restarts.

const { monitorEventLoopDelay } = require('node:perf_hooks')
const express = require('express')

const sdk = process.env.SOAK_SDK || 'ours'
const onUnhandled = process.env.SOAK_ON_UNHANDLED || 'crash'
const counts = {
  unhandledRejections: 0,
  uncaughtExceptions: 0,
  routeErrors: 0,
  loggedErrors: 0,
  warnings: 0,
}

const describeError = (error) =>
  (error instanceof Error ? `${error.name}: ${error.message} ${(error.stack || '').split('\n')[1] || ''}` : String(error)).replace(/\s+/g, ' ').trim()

const fatal = (kind, error) => {
  process.stderr.write(`${kind} ${describeError(error)}\n`)
  // Writes to a pipe are synchronous on Linux, so the line is out before exit.
  if (onUnhandled === 'crash') process.exit(1)
}
process.on('unhandledRejection', (reason) => {
  counts.unhandledRejections += 1
  fatal('SOAK-UNHANDLED-REJECTION', reason)
})
process.on('uncaughtException', (error) => {
  counts.uncaughtExceptions += 1
  fatal('SOAK-UNCAUGHT-EXCEPTION', error)
})

const eventLoopDelay = monitorEventLoopDelay({ resolution: 10 })
eventLoopDelay.enable()

const apiKey = process.env.SERVER_CROSSMINT_API_KEY
const baseUrl = process.env.CROSSMINT_BASE_URL

// A logger that counts, so thousands of refused sessions do not flood stderr.
const countingLogger = {
  error: () => (counts.loggedErrors += 1),
  warn: () => (counts.warnings += 1),
  info: () => {},
  debug: () => {},
}

let sessionMiddleware
let logoutHandler

if (sdk === 'ours') {
  const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')
  const { crossmintMiddleware, logoutRoute } = require('crossmint-server-native/express')
  const crossmintAuth = CrossmintAuth.from(createCrossmint({ apiKey, overrideBaseUrl: baseUrl }), {
    timeoutMs: Number(process.env.SOAK_TIMEOUT_MS || 4000),
    logRejections: false,
    logger: countingLogger,
    refreshCoordination: process.env.SOAK_REDIS_URL ? { redisUrl: process.env.SOAK_REDIS_URL } : undefined,
  })
  sessionMiddleware = crossmintMiddleware(crossmintAuth)
  logoutHandler = logoutRoute(crossmintAuth)
} else if (sdk === 'reference') {
  const { createCrossmint, CrossmintAuth } = require('@crossmint/server-sdk')
  const { CrossmintAuthenticationError } = require('@crossmint/common-sdk-auth')
  // The reference logs every refused session with console.error; count instead.
  console.error = countingLogger.error
  const crossmintAuth = CrossmintAuth.from(createCrossmint({ apiKey, overrideBaseUrl: baseUrl }))
  // The guide's middleware: getSession(req, res), 401 when it throws.
  sessionMiddleware = async (req, res, next) => {
    try {
      const { userId, jwt } = await crossmintAuth.getSession(req, res)
      req.crossmint = { userId, jwt }
    } catch (error) {
      if (!(error instanceof CrossmintAuthenticationError)) return next(error)
      res.status(401).json({ error: 'Unauthorized' })
      return
    }
    next()
  }
  // The guide's logout route.
  logoutHandler = async (req, res) => {
    try {
      await crossmintAuth.logout(req, res)
    } catch (error) {
      console.error('Error logging out', error)
    }
    res.end()
  }
} else {
  throw new Error(`SOAK_SDK must be "ours" or "reference", not ${JSON.stringify(sdk)}`)
}

const app = express()
app.use(express.json())
app.post('/logout', logoutHandler)
app.get('/me', sessionMiddleware, (req, res) => res.json({ userId: req.crossmint.userId }))
app.get('/page/:n', sessionMiddleware, (req, res) => res.json({ userId: req.crossmint.userId, page: Number(req.params.n) }))

const ms = (nanoseconds) => Math.round(nanoseconds / 1e4) / 100
app.get('/__stats', (req, res) => {
  const memory = process.memoryUsage()
  const stats = {
    pid: process.pid,
    sdk,
    uptimeMs: Math.round(process.uptime() * 1000),
    rss: memory.rss,
    heapUsed: memory.heapUsed,
    eventLoopDelayMs: {
      p50: ms(eventLoopDelay.percentile(50)),
      p99: ms(eventLoopDelay.percentile(99)),
      max: ms(eventLoopDelay.max),
      samples: eventLoopDelay.count,
    },
    ...counts,
  }
  if (req.query.reset) eventLoopDelay.reset()
  res.json(stats)
})

// Express's default handler would print each stack; count and answer 500.
app.use((error, req, res, next) => {
  counts.routeErrors += 1
  process.stderr.write(`SOAK-ROUTE-ERROR ${req.method} ${req.path} ${describeError(error)}\n`)
  if (res.headersSent) return next(error)
  res.status(500).json({ error: 'Internal Server Error' })
})

const server = app.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`Listening on http://127.0.0.1:${server.address().port}`)
})
// Browsers keep connections open between page loads; a shorter server idle
// timeout than the client's would race it and reset reused connections.
server.keepAliveTimeout = 120_000
server.headersTimeout = 121_000
process.on('SIGTERM', () => process.exit(0))
