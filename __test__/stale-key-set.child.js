'use strict'
// Run by key-set-cache.test.js with CROSSMINT_NATIVE_KEY_SET_TTL_MS set, so
// the key set goes stale within the test. Prints one JSON line of results.
const { startCrossmintEmulator } = require('../testing/emulator.js')
const ours = require('..')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

;(async () => {
  const emulator = await startCrossmintEmulator()
  const uri = `${emulator.url}/.well-known/jwks.json`
  const token = emulator.signJwt({ sub: 'stale-user', exp: Math.floor(Date.now() / 1000) + 600 })
  const fetches = () => emulator.requests.filter((r) => r.path === '/.well-known/jwks.json').length
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
