'use strict'
// Runs the local Crossmint emulator in its own process and answers the bench
// over IPC. Keeping it out of the measuring process matters for the
// reference SDK, which fetches the key set on every call: serving that fetch
// would otherwise be billed to the reference's own event loop, and on a real
// deployment Crossmint is another machine anyway.

const { startCrossmintEmulator } = require('../testing/emulator.js')

const REQUEST_LOG_DRAIN_MS = 500

async function main() {
  const emulator = await startCrossmintEmulator()

  // The emulator logs every request forever; the bench makes hundreds of
  // thousands, so the log is folded into counters and emptied regularly.
  const requestCounts = {}
  const drainRequestLog = () => {
    for (const { path } of emulator.requests) {
      const pathname = path.split('?')[0]
      requestCounts[pathname] = (requestCounts[pathname] || 0) + 1
    }
    emulator.clearRequests()
  }
  const drainTimer = setInterval(drainRequestLog, REQUEST_LOG_DRAIN_MS)

  const methods = {
    info: () => ({ url: emulator.url, apiKey: emulator.apiKey, jwks: emulator.jwks }),
    createSession: (userId, options) => emulator.createSession(userId, options),
    signJwt: (claims, options) => emulator.signJwt(claims, options),
    keyPems: (kid) => {
      const { publicKey, privateKey } = emulator.getKey(kid)
      return {
        publicPem: publicKey.export({ type: 'spki', format: 'pem' }),
        privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }),
      }
    },
    requestCounts: () => {
      drainRequestLog()
      return { ...requestCounts }
    },
  }

  process.on('message', async ({ id, method, args }) => {
    try {
      // IPC carries JSON: an undefined argument arrives as null.
      const result = await methods[method](...args.map((arg) => (arg === null ? undefined : arg)))
      process.send({ id, result })
    } catch (error) {
      process.send({ id, error: String(error && error.stack ? error.stack : error) })
    }
  })
  // The parent going away (normally or not) ends the emulator too.
  process.on('disconnect', async () => {
    clearInterval(drainTimer)
    await emulator.close()
    process.exit(0)
  })
  process.send({ ready: true })
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
