'use strict'
// Child process for section 4 (run with --expose-gc): RSS before and after
// 1,000,000 sequential getSession calls on one valid session, after as many
// requests that each build their own createCrossmint + CrossmintAuth.from
// (the guide's Next.js pattern), then after failing calls whose refresh
// Crossmint refuses. Prints one JSON line.
// Environment: CROSSMINT_URL, CROSSMINT_API_KEY, SESSION_JWT,
// SESSION_REFRESH, SESSION_USER_ID, VALID_CALLS, PER_REQUEST_CALLS,
// FAILING_TARGET, FAILING_BUDGET_MS.

const { performance } = require('node:perf_hooks')
const ours = require('..')

const WARMUP_CALLS = 20_000
// The failing calls are measured on a first slice; when that slice shows the
// full target would not fit the budget, the run stops at the slice.
const FAILING_FIRST_SLICE = 10_000

const mb = (bytes) => bytes / (1024 * 1024)

/**
 * RSS after collection, with V8's share of it: heapTotal is what V8 keeps
 * committed (it does not hand pages back right after a gc), heapUsed is what
 * is live. RSS growing while heapUsed stays flat is V8 sizing, not a leak.
 */
function settledMemory() {
  // Two passes: the first can leave finalizers that free more on the second.
  if (typeof global.gc === 'function') {
    global.gc()
    global.gc()
  }
  const { rss, heapTotal, heapUsed } = process.memoryUsage()
  return { rssMb: mb(rss), heapTotalMb: mb(heapTotal), heapUsedMb: mb(heapUsed) }
}

async function main() {
  const env = process.env
  const validCalls = Number(env.VALID_CALLS || 1_000_000)
  const failingTarget = Number(env.FAILING_TARGET || 100_000)
  const failingBudgetMs = Number(env.FAILING_BUDGET_MS || 60_000)
  const auth = ours.CrossmintAuth.from(ours.createCrossmint({ apiKey: env.CROSSMINT_API_KEY, overrideBaseUrl: env.CROSSMINT_URL }), { logger: false })
  const material = { jwt: env.SESSION_JWT, refreshToken: env.SESSION_REFRESH }
  const validCall = async () => {
    const session = await auth.getSession(material)
    if (session.userId !== env.SESSION_USER_ID) throw new Error(`wrong session: ${JSON.stringify(session)}`)
  }

  // Key set fetched, code paths compiled, before the baseline.
  for (let i = 0; i < WARMUP_CALLS; i++) await validCall()
  const before = settledMemory()

  const validStart = performance.now()
  for (let i = 0; i < validCalls; i++) await validCall()
  const validMs = performance.now() - validStart
  const afterValid = settledMemory()

  // An instance per request, each with its own cookie options object, as
  // a handler that builds them inline would: none may be kept alive.
  const perRequestCalls = Number(env.PER_REQUEST_CALLS || validCalls)
  const perRequestCall = async (index) => {
    const perRequest = ours.CrossmintAuth.from(ours.createCrossmint({ apiKey: env.CROSSMINT_API_KEY, overrideBaseUrl: env.CROSSMINT_URL }), {
      logger: false,
      cookieOptions: { domain: `tenant-${index % 1000}.example` },
    })
    const session = await perRequest.getSession(material)
    if (session.userId !== env.SESSION_USER_ID) throw new Error(`wrong session: ${JSON.stringify(session)}`)
  }
  const perRequestStart = performance.now()
  for (let i = 0; i < perRequestCalls; i++) await perRequestCall(i)
  const perRequestMs = performance.now() - perRequestStart
  const afterPerRequest = settledMemory()

  // Each failing call carries a different refresh token, so none is served
  // from the shared-refresh table: every one is an HTTP refresh that
  // Crossmint answers 401. Sequential, like the valid calls.
  let failingCalls = 0
  const failingCall = async () => {
    const index = failingCalls++
    try {
      await auth.getSession({ jwt: 'garbage', refreshToken: `invalid-${index}` })
    } catch (error) {
      if (error.message !== 'Failed to get session') throw error
      return
    }
    throw new Error('a garbage session was accepted')
  }
  const failingStart = performance.now()
  const firstSlice = Math.min(FAILING_FIRST_SLICE, failingTarget)
  while (failingCalls < firstSlice) await failingCall()
  const projectedMs = ((performance.now() - failingStart) * failingTarget) / firstSlice
  const failingCapped = projectedMs > failingBudgetMs
  if (!failingCapped) while (failingCalls < failingTarget) await failingCall()
  const failingMs = performance.now() - failingStart
  const afterFailing = settledMemory()

  const result = {
    gcExposed: typeof global.gc === 'function',
    validCalls,
    validMs,
    perRequestCalls,
    perRequestMs,
    afterPerRequest,
    rssAfterPerRequestMb: afterPerRequest.rssMb,
    failingCalls,
    failingTarget,
    failingCapped,
    projectedFailingMs: projectedMs,
    failingMs,
    before,
    afterValid,
    afterFailing,
    rssBeforeMb: before.rssMb,
    rssAfterValidMb: afterValid.rssMb,
    rssAfterFailingMb: afterFailing.rssMb,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
