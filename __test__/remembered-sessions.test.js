'use strict'
// getSession(request) remembers its answer for a Cookie header it answered
// from the verification record (lib/remembered-sessions.js). A remembered
// answer must never outlive the record: each test first makes the header
// remembered (three requests: the first verifies, the second finds the
// record, the third is answered from memory) and then changes one thing the
// record depends on.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { withEmulator, ours } = require('./harness.js')
const { REMEMBERED_SESSIONS_LIMIT, LONGEST_REMEMBERED_HEADER } = require('../lib/remembered-sessions.js')

const { createCrossmint, CrossmintAuth, verifyCrossmintJwt } = ours

function now() {
  return Math.floor(Date.now() / 1000)
}

function authFor(emulator, options = {}) {
  return CrossmintAuth.from(createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }), {
    logger: false,
    ...options,
  })
}

function cookieHeader(jwt, refreshToken, extra = '') {
  return `crossmint-jwt=${jwt}; crossmint-refresh-token=${refreshToken}${extra}`
}

/** A Fetch Request carrying `header` as its Cookie header. */
function requestWith(header) {
  return new Request('http://127.0.0.1/protected', { headers: { cookie: header } })
}

async function rememberHeader(auth, header, userId) {
  for (let i = 0; i < 3; i++) assert.equal((await auth.getSession(requestWith(header))).userId, userId)
}

test('a remembered header answers with its own tokens, in a fresh object each time', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const jwt = emulator.signJwt({ sub: 'remembered', exp: now() + 600 })
  const first = cookieHeader(jwt, 'refresh-one')
  const second = cookieHeader(jwt, 'refresh-two', '; theme=dark')
  await rememberHeader(auth, first, 'remembered')
  await rememberHeader(auth, second, 'remembered')

  const a = await auth.getSession(requestWith(first))
  assert.deepEqual(a, { jwt, refreshToken: { secret: 'refresh-one', expiresAt: '' }, userId: 'remembered' })
  a.refreshToken.secret = 'changed by the caller'
  a.userId = 'changed by the caller'
  const b = await auth.getSession(requestWith(first))
  assert.deepEqual(b, { jwt, refreshToken: { secret: 'refresh-one', expiresAt: '' }, userId: 'remembered' })
  assert.notEqual(a, b)
  assert.equal((await auth.getSession(requestWith(second))).refreshToken.secret, 'refresh-two')
})

test('a remembered header past its exp is refused: getSession refreshes', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const exp = now() + 2
  const jwt = emulator.signJwt({ sub: 'short-lived', exp })
  const header = cookieHeader(jwt, emulator.issueRefreshToken('after-expiry').secret)
  await rememberHeader(auth, header, 'short-lived')

  while (Date.now() / 1000 < exp + 0.05) await new Promise((resolve) => setTimeout(resolve, 50))
  const session = await auth.getSession(requestWith(header))
  assert.equal(session.userId, 'after-expiry')
  assert.notEqual(session.jwt, jwt)
})

test('a refetched key set without the key ends every remembered header it signed', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const uri = `${emulator.url}/.well-known/jwks.json`
  const header = cookieHeader(emulator.signJwt({ sub: 'old-key', exp: now() + 600 }), 'unknown-refresh-token')
  await rememberHeader(auth, header, 'old-key')

  emulator.rotateKeys({ dropOld: true })
  // Another caller meets a token under the new key and refetches the set.
  assert.equal((await verifyCrossmintJwt(emulator.signJwt({ sub: 'new-key', exp: now() + 600 }), uri)).sub, 'new-key')
  await assert.rejects(auth.getSession(requestWith(header)), { code: 'SESSION_EXPIRED' })
})

test('instances with other options never take a header another remembered', async (t) => {
  const emulator = await withEmulator(t)
  const plain = authFor(emulator)
  const otherAudience = authFor(emulator, { audience: 'someone-else' })
  const sameAsPlain = authFor(emulator)
  const header = cookieHeader(emulator.signJwt({ sub: 'u', aud: 'crossmint.com', exp: now() + 600 }), 'unknown-refresh-token')
  await rememberHeader(plain, header, 'u')

  await assert.rejects(otherAudience.getSession(requestWith(header)))
  assert.equal((await sameAsPlain.getSession(requestWith(header))).userId, 'u')
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
      const session = await auth.getSession(requestWith(header))
      assert.equal(session.userId, userId)
      assert.equal(session.refreshToken.secret, refreshToken)
    }
  }
})

test('a remembered header is not answered once its key set is no longer fresh', () => {
  // In a child process with the key set's freshness shortened to 300 ms.
  const out = execFileSync(process.execPath, [path.join(__dirname, 'remembered-sessions.child.js')], {
    env: { ...process.env, CROSSMINT_NATIVE_KEY_SET_TTL_MS: '300' },
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
