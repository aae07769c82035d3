'use strict'
// Child process for section 3: in a fresh Node process, times require() of
// one SDK, then its first getSession (which must fetch the key set), then a
// second one. Prints one JSON line. Usage:
//   node bench/cold-start.js ours|reference
// with CROSSMINT_URL, CROSSMINT_API_KEY, SESSION_JWT, SESSION_REFRESH,
// SESSION_USER_ID in the environment.

const { performance } = require('node:perf_hooks')

const PACKAGES = { ours: '..', reference: '@crossmint/server-sdk' }

async function main() {
  const implementation = process.argv[2]
  const packageName = PACKAGES[implementation]
  if (!packageName) throw new Error(`usage: cold-start.js ${Object.keys(PACKAGES).join('|')}`)
  const { CROSSMINT_URL, CROSSMINT_API_KEY, SESSION_JWT, SESSION_REFRESH, SESSION_USER_ID } = process.env

  const requireStart = performance.now()
  const sdk = require(packageName)
  const requireMs = performance.now() - requireStart

  const setupStart = performance.now()
  const auth = sdk.CrossmintAuth.from(sdk.createCrossmint({ apiKey: CROSSMINT_API_KEY, overrideBaseUrl: CROSSMINT_URL }))
  const setupMs = performance.now() - setupStart

  const timedGetSession = async () => {
    const start = performance.now()
    const session = await auth.getSession({ jwt: SESSION_JWT, refreshToken: SESSION_REFRESH })
    const elapsedMs = performance.now() - start
    if (session.userId !== SESSION_USER_ID || session.jwt !== SESSION_JWT) {
      throw new Error(`${implementation}: wrong session ${JSON.stringify(session)}`)
    }
    return elapsedMs
  }
  const firstGetSessionMs = await timedGetSession()
  const secondGetSessionMs = await timedGetSession()
  process.stdout.write(`${JSON.stringify({ implementation, requireMs, setupMs, firstGetSessionMs, secondGetSessionMs })}\n`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
