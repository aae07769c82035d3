'use strict'
// Run by remembered-sessions.test.js with CROSSMINT_NATIVE_KEY_SET_TTL_MS set,
// so the key set goes stale within the test. Prints one JSON line of results.
const { startCrossmintEmulator } = require('../../testing/emulator.js')
const { authFor, now, sleep, cookieRequest, jwksFetches } = require('./common.js')

;(async () => {
  const emulator = await startCrossmintEmulator()
  const auth = authFor(emulator)
  const jwt = emulator.signJwt({ sub: 'fresh-user', exp: now() + 600 })
  const request = () => cookieRequest(`crossmint-jwt=${jwt}; crossmint-refresh-token=unknown`)
  const fetches = () => jwksFetches(emulator)
  const result = {}
  for (let i = 0; i < 3; i++) result.whileFresh = (await auth.getSession(request())).userId
  result.fetchesWhileFresh = fetches()
  // The key is withdrawn; nothing refetches until the held set is stale.
  emulator.rotateKeys({ dropOld: true })
  await sleep(1200)
  const outcome = (session) => `answered:${session.userId}`
  const refusal = (error) => `${error.name}:${error.code}`
  // Stale: the held set still answers while a refetch runs in the background
  // (as it would without the remembered header), and that refetch drops the key.
  result.afterFreshness = await auth.getSession(request()).then(outcome, refusal)
  await sleep(300)
  result.fetchesAfterFreshness = fetches()
  result.afterRefetch = await auth.getSession(request()).then(outcome, refusal)
  await emulator.close()
  console.log(JSON.stringify(result))
})().catch((error) => {
  console.error(error)
  process.exit(1)
})
