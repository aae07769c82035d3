'use strict'
// getSession(request) remembers its answer for a Cookie header it answered
// from the verification record (lib/core/remembered-sessions.js). A remembered
// answer must never outlive the record: each test first makes the header
// remembered (three requests: the first verifies, the second finds the
// record, the third is answered from memory) and then changes one thing the
// record depends on.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { withEmulator, ours, authFor, cookieHeaderFor, cookieRequest, now, untilSecond, jwksUriOf, childScript, root } = require('../helpers/harness.js')
const { Worker } = require('node:worker_threads')
const native = require('../../native.js')
const { RememberedSessions, REMEMBERED_SESSIONS_LIMIT, REMEMBERED_CHARS, LONGEST_REMEMBERED_HEADER } = require('../../lib/core/remembered-sessions.js')

const { verifyCrossmintJwt } = ours

function cookieHeader(jwt, refreshToken, extra = '') {
  return cookieHeaderFor({ jwt, refreshToken: { secret: refreshToken } }) + extra
}

/**
 * How many times `run` made getSession cross into the native cookie lookup
 * (`NativeAuth.cookieSession`, counted on its way through, unchanged).
 */
async function cookieLookups(run) {
  const lookup = native.NativeAuth.prototype.cookieSession
  let calls = 0
  native.NativeAuth.prototype.cookieSession = function countedCookieSession(header) {
    calls++
    return lookup.call(this, header)
  }
  try {
    await run()
  } finally {
    native.NativeAuth.prototype.cookieSession = lookup
  }
  return calls
}

/** Three requests: the first verifies, the second finds the record, the third is answered from memory. */
async function rememberHeader(auth, header, userId) {
  for (let i = 0; i < 2; i++) assert.equal((await auth.getSession(cookieRequest(header))).userId, userId)
  const calls = await cookieLookups(async () => assert.equal((await auth.getSession(cookieRequest(header))).userId, userId))
  assert.equal(calls, 0, 'the third request was answered from memory')
}

test('a remembered header answers with its own tokens, in a fresh object each time', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const jwt = emulator.signJwt({ sub: 'remembered', exp: now() + 600 })
  const first = cookieHeader(jwt, 'refresh-one')
  const second = cookieHeader(jwt, 'refresh-two', '; theme=dark')
  await rememberHeader(auth, first, 'remembered')
  await rememberHeader(auth, second, 'remembered')

  const a = await auth.getSession(cookieRequest(first))
  assert.deepEqual(a, { jwt, refreshToken: { secret: 'refresh-one', expiresAt: '' }, userId: 'remembered' })
  a.refreshToken.secret = 'changed by the caller'
  a.userId = 'changed by the caller'
  const b = await auth.getSession(cookieRequest(first))
  assert.deepEqual(b, { jwt, refreshToken: { secret: 'refresh-one', expiresAt: '' }, userId: 'remembered' })
  assert.notEqual(a, b)
  assert.equal((await auth.getSession(cookieRequest(second))).refreshToken.secret, 'refresh-two')
})

test('a remembered header past its exp is refused: getSession refreshes', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const exp = now() + 4
  const jwt = emulator.signJwt({ sub: 'short-lived', exp })
  const header = cookieHeader(jwt, emulator.issueRefreshToken('after-expiry').secret)
  await rememberHeader(auth, header, 'short-lived')

  await untilSecond(exp)
  let session
  assert.equal(await cookieLookups(async () => (session = await auth.getSession(cookieRequest(header)))), 1)
  assert.equal(session.userId, 'after-expiry')
  assert.notEqual(session.jwt, jwt)
})

test('a refetched key set without the key ends every remembered header it signed', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const uri = jwksUriOf(emulator)
  const header = cookieHeader(emulator.signJwt({ sub: 'old-key', exp: now() + 600 }), 'unknown-refresh-token')
  await rememberHeader(auth, header, 'old-key')

  emulator.rotateKeys({ dropOld: true })
  // Another caller meets a token under the new key and refetches the set.
  assert.equal((await verifyCrossmintJwt(emulator.signJwt({ sub: 'new-key', exp: now() + 600 }), uri)).sub, 'new-key')
  await assert.rejects(auth.getSession(cookieRequest(header)), { code: 'SESSION_EXPIRED' })
})

test('instances with other options never take a header another remembered', async (t) => {
  const emulator = await withEmulator(t)
  const plain = authFor(emulator)
  const otherAudience = authFor(emulator, { audience: 'someone-else' })
  const sameAsPlain = authFor(emulator)
  const header = cookieHeader(emulator.signJwt({ sub: 'u', aud: emulator.projectId, exp: now() + 600 }), 'unknown-refresh-token')
  await rememberHeader(plain, header, 'u')

  await assert.rejects(otherAudience.getSession(cookieRequest(header)))
  assert.equal(await cookieLookups(async () => assert.equal((await sameAsPlain.getSession(cookieRequest(header))).userId, 'u')), 0)

  // Expired a minute ago: remembered by an instance with two minutes'
  // tolerance, refused by one without.
  const tolerant = authFor(emulator, { clockToleranceSeconds: 120 })
  const late = cookieHeader(emulator.signJwt({ sub: 'late', exp: now() - 60 }), 'unknown-refresh-token')
  await rememberHeader(tolerant, late, 'late')
  await assert.rejects(plain.getSession(cookieRequest(late)), { code: 'SESSION_EXPIRED' })
})

test('a key set refetched from a worker thread ends a header remembered on the main thread', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const header = cookieHeader(emulator.signJwt({ sub: 'old-key', exp: now() + 600 }), 'unknown-refresh-token')
  await rememberHeader(auth, header, 'old-key')

  emulator.rotateKeys({ dropOld: true })
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads')
     require(workerData.pkg).verifyCrossmintJwt(workerData.token, workerData.uri).then(
       (payload) => parentPort.postMessage(payload.sub),
       (error) => parentPort.postMessage(\`failed: \${error.message}\`),
     )`,
    {
      eval: true,
      workerData: {
        pkg: root,
        token: emulator.signJwt({ sub: 'new-key', exp: now() + 600 }),
        uri: jwksUriOf(emulator),
      },
    },
  )
  const sub = await new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  await worker.terminate()
  assert.equal(sub, 'new-key')
  await assert.rejects(auth.getSession(cookieRequest(header)), { code: 'SESSION_EXPIRED' })
})

test('more headers than the table holds, and longer ones, are all still answered right', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const jwts = ['a', 'b', 'c'].map((sub) => emulator.signJwt({ sub, exp: now() + 600 }))
  const headers = []
  for (let i = 0; i < REMEMBERED_SESSIONS_LIMIT + 100; i++) {
    headers.push([cookieHeader(jwts[i % 3], `refresh-${i}`, `; n=${i}`), ['a', 'b', 'c'][i % 3], `refresh-${i}`])
  }
  // Padded past what is remembered: answered by the native lookup each time.
  const padding = `; padding=${'x'.repeat(LONGEST_REMEMBERED_HEADER)}`
  headers.push([cookieHeader(jwts[0], 'refresh-padded', padding), 'a', 'refresh-padded'])
  for (let round = 0; round < 3; round++) {
    for (const [header, userId, refreshToken] of headers) {
      const session = await auth.getSession(cookieRequest(header))
      assert.equal(session.userId, userId)
      assert.equal(session.refreshToken.secret, refreshToken)
    }
  }
})

test('a remembered header is not answered once its key set is no longer fresh', () => {
  // In a child process with the key set's freshness shortened to one second.
  const out = execFileSync(process.execPath, [childScript('remembered-sessions')], {
    env: { ...process.env, CROSSMINT_NATIVE_KEY_SET_TTL_MS: '1000' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const result = JSON.parse(out.trim().split('\n').at(-1))
  assert.equal(result.whileFresh, 'fresh-user')
  assert.equal(result.fetchesWhileFresh, 1)
  // Answered from memory, the stale request would start no refetch and the
  // withdrawn key would go on working.
  assert.equal(result.afterFreshness, 'answered:fresh-user')
  assert.equal(result.fetchesAfterFreshness, 2)
  assert.equal(result.afterRefetch, 'CrossmintAuthenticationError:SESSION_EXPIRED')
})

/**
 * NativeAuth.cookieSession's answer for a record with this `exp` bound
 * (whole seconds) and key set freshness, as the native side computes its
 * `reusableForMs`: the sooner of the two, from now; none without an exp.
 */
function nativeAnswer(jwt, refreshToken, userId, goodBeforeSecs, freshForMs, invalidations) {
  const reusableForMs = goodBeforeSecs === undefined ? undefined : Math.max(0, Math.min(goodBeforeSecs * 1000 - Date.now(), freshForMs))
  return [jwt, refreshToken, userId, reusableForMs, invalidations]
}

test('the table: what it remembers, for how long, within what bounds', () => {
  let changes = 7
  const table = new RememberedSessions(() => changes)
  const nowSecs = Math.floor(Date.now() / 1000)
  const found = (goodBeforeSecs = nowSecs + 60, freshForMs = 60_000) => nativeAnswer('jwt', 'refresh', 'user', goodBeforeSecs, freshForMs, 7)
  const remember = (header, answer = found(), startedAt = RememberedSessions.now()) => table.remember(header, answer, startedAt)

  remember('h')
  assert.deepEqual([table.lookup('h').jwt, table.lookup('h').refreshToken, table.lookup('h').userId], ['jwt', 'refresh', 'user'])
  // Only answers from a record that name both tokens and an exp.
  remember('no-user', nativeAnswer('jwt', 'refresh', undefined, nowSecs + 60, 60_000, 7))
  remember('no-jwt', nativeAnswer('', 'refresh', 'user', nowSecs + 60, 60_000, 7))
  remember('no-refresh', nativeAnswer('jwt', undefined, 'user', nowSecs + 60, 60_000, 7))
  remember('no-exp', nativeAnswer('jwt', 'refresh', 'user', undefined, 60_000, 7))
  for (const header of ['no-user', 'no-jwt', 'no-refresh', 'no-exp']) assert.equal(table.lookup(header), undefined, header)

  // exp: good while the current whole second is before it.
  remember('exp-now', found(nowSecs))
  assert.equal(table.lookup('exp-now'), undefined)
  // Freshness on the monotonic clock: started 100 ms ago, fresh for 50 ms.
  remember('stale', found(nowSecs + 60, 50), RememberedSessions.now() - 100)
  assert.equal(table.lookup('stale'), undefined)
  remember('fresh', found(nowSecs + 60, 500), RememberedSessions.now() - 100)
  assert.notEqual(table.lookup('fresh'), undefined)
  // A key set change ends every entry, for good.
  changes = 8
  assert.equal(table.lookup('h'), undefined)
  changes = 7
  assert.equal(table.lookup('h'), undefined, 'dropped, not merely skipped')

  // Headers up to the length limit are remembered, longer ones never.
  remember('x'.repeat(LONGEST_REMEMBERED_HEADER))
  remember('y'.repeat(LONGEST_REMEMBERED_HEADER + 1))
  assert.notEqual(table.lookup('x'.repeat(LONGEST_REMEMBERED_HEADER)), undefined)
  assert.equal(table.lookup('y'.repeat(LONGEST_REMEMBERED_HEADER + 1)), undefined)
})

test('the table empties itself at its entry limit and its character budget, and counts what it drops', () => {
  let changes = 7
  const nowSecs = Math.floor(Date.now() / 1000)
  const answer = nativeAnswer('jwt', 'refresh', 'user', nowSecs + 60, 60_000, 7)

  const byCount = new RememberedSessions(() => changes)
  for (let i = 0; i < REMEMBERED_SESSIONS_LIMIT; i++) byCount.remember(`h${i}`, answer, RememberedSessions.now())
  assert.notEqual(byCount.lookup('h0'), undefined)
  byCount.remember('one-more', answer, RememberedSessions.now())
  assert.equal(byCount.lookup('h0'), undefined)
  assert.notEqual(byCount.lookup('one-more'), undefined)

  // Long headers: the character budget binds long before the entry limit.
  const long = (prefix, i) => `${prefix}${i}:`.padEnd(LONGEST_REMEMBERED_HEADER, '.')
  const perEntry = LONGEST_REMEMBERED_HEADER + 'jwt'.length + 'refresh'.length + 'user'.length
  const fits = Math.floor(REMEMBERED_CHARS / perEntry)
  const byChars = new RememberedSessions(() => changes)
  for (let i = 0; i < fits; i++) byChars.remember(long('a', i), answer, RememberedSessions.now())
  assert.notEqual(byChars.lookup(long('a', 0)), undefined)
  byChars.remember(long('a', fits), answer, RememberedSessions.now())
  assert.equal(byChars.lookup(long('a', 0)), undefined, 'emptied when the budget would be passed')

  // Entries dropped as invalid give their characters back: half the budget
  // dropped, then a whole budget's worth fits without emptying the table.
  const returned = new RememberedSessions(() => changes)
  const half = Math.floor(fits / 2)
  for (let i = 0; i < half; i++) returned.remember(long('b', i), answer, RememberedSessions.now())
  changes = 8
  for (let i = 0; i < half; i++) assert.equal(returned.lookup(long('b', i)), undefined)
  changes = 7
  for (let i = 0; i < fits; i++) returned.remember(long('c', i), answer, RememberedSessions.now())
  assert.notEqual(returned.lookup(long('c', 0)), undefined)
})
