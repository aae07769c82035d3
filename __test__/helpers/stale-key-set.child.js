'use strict'
// Run by key-set-cache.test.js with CROSSMINT_NATIVE_KEY_SET_TTL_MS set, so
// the key set goes stale within the test. Prints one JSON line of results.
const { startCrossmintEmulator } = require('../../testing/emulator.js')
const { ours, now, sleep, jwksUriOf, jwksFetches } = require('./common.js')

/**
 * `keySetStaleIfErrorSeconds`: with the key set unreachable, an instance
 * trusting held keys for 1 s verifies a new token with them only while they
 * are younger than that; the default instance (a day) still does afterwards.
 */
async function staleWindow() {
  const emulator = await startCrossmintEmulator()
  const crossmint = ours.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url })
  const strict = ours.CrossmintAuth.from(crossmint, { logger: false, keySetStaleIfErrorSeconds: 1 })
  const lenient = ours.CrossmintAuth.from(crossmint, { logger: false })
  const token = () => emulator.signJwt({ sub: 'stale-user', exp: now() + 600, jti: String(Math.random()) })
  const outcome = (promise) =>
    promise.then(
      (payload) => payload.sub,
      (error) => error.code,
    )
  const fetchedAt = Date.now()
  await strict.verifyCrossmintJwt(token())
  emulator.faults.jwks = { status: 500 }
  await sleep(500 - (Date.now() - fetchedAt))
  const result = { young: await outcome(strict.verifyCrossmintJwt(token())) }
  await sleep(1300 - (Date.now() - fetchedAt))
  result.old = await outcome(strict.verifyCrossmintJwt(token()))
  // The instance's window holds whatever form its key set is named in.
  result.oldByUri = await outcome(strict.verifyCrossmintJwt(token(), strict.getJwksUri()))
  result.oldDefault = await outcome(lenient.verifyCrossmintJwt(token()))
  await emulator.close()
  return result
}

/**
 * A key set endpoint that hangs once the held set is past freshness and the
 * revalidation window: the first callers get the held keys when their
 * deadline passes, and once the fetch has failed, at once, until it succeeds
 * again. getSession answers valid JWTs without spending refresh tokens.
 */
async function hangingEndpoint() {
  const emulator = await startCrossmintEmulator()
  const crossmint = ours.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url })
  const auth = ours.CrossmintAuth.from(crossmint, { logger: false, timeoutMs: 400 })
  const token = () => emulator.signJwt({ sub: 'stale-user', exp: now() + 600, jti: String(Math.random()) })
  const timed = async (call) => {
    const started = Date.now()
    const sub = await call().then(
      (answer) => answer.sub || answer.userId,
      (error) => error.code,
    )
    return { sub, ms: Date.now() - started }
  }
  await auth.verifyCrossmintJwt(token())
  emulator.faults.jwks = { hang: true }
  await sleep(700) // past the shortened freshness and revalidation window
  const result = { first: await timed(() => auth.verifyCrossmintJwt(token())) }
  await sleep(5200) // the hanging fetch gives up (5 s) and is recorded as failed
  result.during = []
  for (let i = 0; i < 10; i++) {
    const session = emulator.createSession(`hang-${i}`)
    result.during.push(await timed(() => auth.verifyCrossmintJwt(token())))
    result.during.push(await timed(() => auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })))
  }
  result.refreshCalls = emulator.requests.filter((request) => request.path.endsWith('/refresh')).length
  emulator.resetFaults()
  await emulator.close()
  return result
}

;(async () => {
  if (process.argv[2] === 'window') {
    console.log(JSON.stringify(await staleWindow()))
    return
  }
  if (process.argv[2] === 'hang') {
    console.log(JSON.stringify(await hangingEndpoint()))
    return
  }
  const emulator = await startCrossmintEmulator()
  const uri = jwksUriOf(emulator)
  const token = emulator.signJwt({ sub: 'stale-user', exp: now() + 600 })
  const fetches = () => jwksFetches(emulator)
  const result = {}
  await ours.verifyCrossmintJwt(token, uri)
  emulator.faults.jwks = { status: 500 }
  await sleep(400) // past the shortened freshness
  const started = Date.now()
  result.staleSub = (await ours.verifyCrossmintJwt(token, uri)).sub
  result.staleMs = Date.now() - started
  await sleep(100) // the background refetch runs and fails
  result.fetchesDuringOutage = fetches()
  result.secondStaleSub = (await ours.verifyCrossmintJwt(token, uri)).sub
  emulator.resetFaults()
  await sleep(5200) // past the failure backoff
  await ours.verifyCrossmintJwt(token, uri)
  await sleep(100)
  result.fetchesAfterRecovery = fetches()
  await emulator.close()
  console.log(JSON.stringify(result))
})().catch((error) => {
  console.error(error)
  process.exit(1)
})
