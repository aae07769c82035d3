'use strict'
// Child process for section 5: loads one URL with autocannon, apart from the
// server's process, and prints one JSON summary line. Arguments (JSON in
// argv[2]): { url, cookie, connections, warmupSeconds, durationSeconds }.

const autocannon = require('autocannon')

function fire({ url, cookie, connections, durationSeconds }) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections, duration: durationSeconds, headers: { cookie } }, (error, result) => {
      if (error) reject(error)
      else resolve(result)
    })
  })
}

async function main() {
  const options = JSON.parse(process.argv[2])
  // Lets both processes JIT-compile their hot paths before the sample.
  if (options.warmupSeconds > 0) await fire({ ...options, durationSeconds: options.warmupSeconds })
  const result = await fire(options)
  const summary = {
    requestsPerSec: result.requests.average,
    totalRequests: result.requests.total,
    durationSeconds: result.duration,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
