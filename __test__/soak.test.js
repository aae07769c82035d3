'use strict'
// The chaos soak (testing/soak/, issue 24) for one minute with this package:
// the emulator switching faults on and off, the Express app in its own
// process, 80 browser-like users with logouts racing their page loads, and
// attackers. Every invariant must hold; the summary line is printed either
// way, and on failure the violations found (each with the tokens involved).
// `npm run soak` runs the long version.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { runSoak } = require('../testing/soak/driver.js')

test('chaos soak: a minute of faults, logout races and attacks breaks no invariant', { timeout: 240_000 }, async (t) => {
  const children = []
  t.after(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const lines = []
  const result = await runSoak({
    sdk: 'ours',
    users: 80,
    durationMs: 60_000,
    maxPrinted: 3,
    track: (child) => children.push(child),
    log: (line) => lines.push(line),
  })
  console.log(result.summary)
  const kinds = Object.entries(result.byKind).map(([kind, count]) => `${kind}: ${count}`)
  assert.equal(result.violations, 0, [result.summary, ...kinds, ...lines.filter((line) => line.startsWith('VIOLATION'))].join('\n'))
})
