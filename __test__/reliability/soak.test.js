'use strict'
// The chaos soak (testing/soak/, issue 24) for one minute with this package:
// the emulator switching faults on and off, the Express app in its own
// process, 80 browser-like users with logouts racing their page loads, and
// attackers. Every invariant must hold; the summary line is printed either
// way, and on failure the violations found (each with the tokens involved).
// `npm run soak` runs the long version.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { runSoak, applySetCookie, cookieHeader } = require('../../testing/soak/driver.js')

test("the soak's cookie jar keeps and drops cookies as a browser does", () => {
  const jar = new Map()
  const now = Date.parse('2030-01-01T00:00:00Z')
  applySetCookie(jar, 'crossmint-jwt=a.b.c; path=/; SameSite=lax;', now)
  applySetCookie(jar, 'crossmint-refresh-token=s1; path=/; SameSite=lax; expires=Sat, 05 Jan 2030 00:00:00 GMT;', now)
  assert.equal(cookieHeader(jar), 'crossmint-jwt=a.b.c; crossmint-refresh-token=s1')
  applySetCookie(jar, 'crossmint-refresh-token=s2==; path=/; expires=Invalid Date;', now)
  assert.equal(jar.get('crossmint-refresh-token'), 's2==', 'a value keeps its "=", an unparseable date makes a session cookie')
  applySetCookie(jar, 'crossmint-jwt=x; Max-Age=0; expires=Sat, 05 Jan 2030 00:00:00 GMT', now)
  assert.equal(jar.has('crossmint-jwt'), false, 'Max-Age wins over Expires')
  applySetCookie(jar, 'crossmint-jwt=y; path=/', now)
  applySetCookie(jar, 'crossmint-jwt=; path=/; SameSite=lax; expires=Thu, 01 Jan 1970 00:00:00 UTC;', now)
  applySetCookie(jar, 'crossmint-refresh-token=s3; expires=Thu, 01 Jan 1970 00:00:00 UTC', now)
  assert.equal(jar.size, 0, 'an empty value or a past date deletes')
  applySetCookie(jar, 'nameless', now)
  assert.equal(jar.size, 0)
})

test('chaos soak: a minute of faults, logout races and attacks breaks no invariant', { timeout: 240_000 }, async (t) => {
  const children = []
  const stop = new AbortController()
  t.after(() => {
    stop.abort()
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  const lines = []
  const result = await runSoak({
    sdk: 'ours',
    users: 80,
    durationMs: 60_000,
    maxPrinted: 3,
    track: (child) => children.push(child),
    signal: stop.signal,
    log: (line) => lines.push(line),
  })
  console.log(result.summary)
  const kinds = Object.entries(result.byKind).map(([kind, count]) => `${kind}: ${count}`)
  assert.equal(result.violations, 0, [result.summary, ...kinds, ...lines.filter((line) => line.startsWith('VIOLATION'))].join('\n'))
})
