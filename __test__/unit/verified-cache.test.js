'use strict'
// The verified-token record behind getSession and verifyCrossmintJwt, and the
// native state instances built from one configuration share: a remembered
// verification must never answer for something it did not check (a later
// time, other options, a key set that dropped the key), every call gets its
// own payload object, and instances stay independent and collectable.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const v8 = require('node:v8')
const vm = require('node:vm')
const { withEmulator, ours, authFor, cookieHeaderFor, cookieRequest, now, sleep, untilSecond, jwksUriOf, jwksFetches } = require('../helpers/harness.js')

const { createCrossmint, CrossmintAuth, verifyCrossmintJwt } = ours

/** A Fetch Request carrying the two session cookies (getSession's cookie path). */
function requestWith(jwt, refreshToken) {
  return cookieRequest(cookieHeaderFor({ jwt, refreshToken: { secret: refreshToken } }))
}

test('a remembered token past its exp is refused, by every entry point', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const exp = now() + 2
  const token = emulator.signJwt({ sub: 'short-lived', exp })
  const other = emulator.signJwt({ sub: 'short-lived-2', exp })
  // Remembered through each path, and answered from the record once.
  assert.equal((await auth.verifyCrossmintJwt(token)).sub, 'short-lived')
  assert.equal((await auth.verifyCrossmintJwt(token)).sub, 'short-lived')
  assert.equal((await verifyCrossmintJwt(other, jwksUriOf(emulator))).sub, 'short-lived-2')
  assert.equal((await verifyCrossmintJwt(other, jwksUriOf(emulator))).sub, 'short-lived-2')
  const refreshToken = emulator.issueRefreshToken('someone-else').secret
  const cookieRefreshToken = emulator.issueRefreshToken('someone-else-by-cookie').secret
  assert.equal((await auth.getSession({ jwt: token, refreshToken })).userId, 'short-lived')
  assert.equal((await auth.getSession(requestWith(token, cookieRefreshToken))).userId, 'short-lived')

  await untilSecond(exp)
  await assert.rejects(auth.verifyCrossmintJwt(token), { code: 'ERR_JWT_EXPIRED' })
  await assert.rejects(verifyCrossmintJwt(other, jwksUriOf(emulator)), { code: 'ERR_JWT_EXPIRED' })
  // getSession no longer takes the token: it refreshes, and the session is someone else's.
  const session = await auth.getSession({ jwt: token, refreshToken })
  assert.equal(session.userId, 'someone-else')
  assert.notEqual(session.jwt, token)
  // The same from a request's cookies (looked up in one native call).
  const fromCookies = await auth.getSession(requestWith(token, cookieRefreshToken))
  assert.equal(fromCookies.userId, 'someone-else-by-cookie')
  assert.notEqual(fromCookies.jwt, token)
})

test('instances with other issuer, audience or clock tolerance never share a verdict', async (t) => {
  const emulator = await withEmulator(t)
  const plain = authFor(emulator)
  const otherIssuer = authFor(emulator, { issuer: 'https://not-crossmint.example' })
  const otherAudience = authFor(emulator, { audience: 'someone-else' })
  const tolerant = authFor(emulator, { clockToleranceSeconds: 120 })

  const token = emulator.signJwt({ sub: 'u', iss: emulator.url, aud: emulator.projectId, exp: now() + 600 })
  assert.equal((await plain.verifyCrossmintJwt(token)).sub, 'u')
  assert.equal((await verifyCrossmintJwt(token, jwksUriOf(emulator))).sub, 'u')
  await assert.rejects(otherIssuer.verifyCrossmintJwt(token), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  await assert.rejects(otherAudience.verifyCrossmintJwt(token), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED' })
  const refreshToken = emulator.issueRefreshToken('refreshed-user').secret
  assert.equal((await plain.getSession({ jwt: token, refreshToken })).userId, 'u')
  assert.equal((await plain.getSession(requestWith(token, 'unused'))).userId, 'u')
  await assert.rejects(otherAudience.getSession(requestWith(token, 'unknown-refresh-token')))
  const refreshed = await otherIssuer.getSession({ jwt: token, refreshToken })
  assert.equal(refreshed.userId, 'refreshed-user', 'the issuer-checking instance refused the token and refreshed')

  // Expired a minute ago: the tolerant instance accepts and remembers it;
  // instances without tolerance (and the free function) still refuse it.
  const late = emulator.signJwt({ sub: 'late', exp: now() - 60 })
  assert.equal((await tolerant.verifyCrossmintJwt(late)).sub, 'late')
  assert.equal((await tolerant.verifyCrossmintJwt(late)).sub, 'late')
  await assert.rejects(plain.verifyCrossmintJwt(late), { code: 'ERR_JWT_EXPIRED' })
  await assert.rejects(verifyCrossmintJwt(late, jwksUriOf(emulator)), { code: 'ERR_JWT_EXPIRED' })
  await assert.rejects(plain.getSession({ jwt: late, refreshToken: 'unknown-refresh-token' }))
})

test('a refetched key set without the key invalidates remembered verifications', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const uri = jwksUriOf(emulator)
  const oldToken = emulator.signJwt({ sub: 'old-key', exp: now() + 600 })
  assert.equal((await auth.verifyCrossmintJwt(oldToken)).sub, 'old-key')
  assert.equal((await verifyCrossmintJwt(oldToken, uri)).sub, 'old-key')
  assert.equal((await auth.getSession({ jwt: oldToken, refreshToken: 'unused' })).userId, 'old-key')
  assert.equal((await auth.getSession(requestWith(oldToken, 'unused'))).userId, 'old-key')

  // The old key is withdrawn; a token under the new key makes us refetch.
  emulator.rotateKeys({ dropOld: true })
  assert.equal((await verifyCrossmintJwt(emulator.signJwt({ sub: 'new-key', exp: now() + 600 }), uri)).sub, 'new-key')

  await assert.rejects(auth.verifyCrossmintJwt(oldToken), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
  await assert.rejects(verifyCrossmintJwt(oldToken, uri), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
  await assert.rejects(auth.getSession({ jwt: oldToken, refreshToken: 'unknown-refresh-token' }))
  await assert.rejects(auth.getSession(requestWith(oldToken, 'unknown-refresh-token')))
})

test('every call returns its own payload object, parsed as jose parses it', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const uri = jwksUriOf(emulator)
  const claims = { sub: 'fresh', exp: now() + 600, nested: { roles: ['a', { level: 1 }] }, list: [{ id: 1 }] }
  const token = emulator.signJwt(claims)
  // The first call verifies, the second parses the remembered token's
  // payload, later ones copy it: each must come back pristine after the
  // caller mutated the previous answer at every depth.
  for (const verify of [() => auth.verifyCrossmintJwt(token), () => verifyCrossmintJwt(token, uri)]) {
    let previous
    for (let call = 0; call < 4; call++) {
      const payload = await verify()
      assert.notEqual(payload, previous)
      assert.deepEqual(payload, claims)
      payload.sub = 'mutated'
      payload.nested.roles.push('b')
      payload.nested.roles[1].level = 2
      payload.list[0].id = 2
      payload.added = true
      previous = payload
    }
  }
  // A `__proto__` member is data, never the object's prototype (JSON.parse
  // semantics), at the top and nested, on every call.
  const tricky = emulator.signJwt({ sub: 'proto', exp: now() + 600, ['__proto__']: { polluted: true }, inner: JSON.parse('{"__proto__": {"deep": true}}') })
  for (let i = 0; i < 3; i++) {
    const payload = await auth.verifyCrossmintJwt(tricky)
    assert.equal(Object.getPrototypeOf(payload), Object.prototype)
    assert.equal(payload.polluted, undefined)
    assert.deepEqual(Object.getOwnPropertyDescriptor(payload, '__proto__').value, { polluted: true })
    assert.equal(Object.getPrototypeOf(payload.inner), Object.prototype)
    assert.equal(payload.inner.deep, undefined)
    assert.deepEqual(Object.getOwnPropertyDescriptor(payload.inner, '__proto__').value, { deep: true })
  }
})

test('an inline key set is verified on every call, so a changed set is honoured at once', async (t) => {
  const emulator = await withEmulator(t)
  const token = emulator.signJwt({ sub: 'inline', exp: now() + 600 })
  const set = { keys: emulator.jwks.keys.map((key) => ({ ...key })) }
  assert.equal((await verifyCrossmintJwt(token, set)).sub, 'inline')
  set.keys = set.keys.filter((key) => key.kty !== 'RSA')
  await assert.rejects(verifyCrossmintJwt(token, set), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
})

test('instances from one configuration keep their own cookie options and logger', async (t) => {
  const emulator = await withEmulator(t)
  const crossmint = createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url })
  const logged = { a: [], b: [] }
  const a = CrossmintAuth.from(crossmint, {
    cookieOptions: { domain: 'a.example', httpOnly: true },
    logger: { error: (...args) => logged.a.push(args), warn() {} },
  })
  const b = CrossmintAuth.from(createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }), {
    cookieOptions: { domain: 'b.example', secure: true },
    logger: { error: (...args) => logged.b.push(args), warn() {} },
  })
  const cookiesOf = (auth) => {
    const response = new Response()
    auth.storeAuthMaterial(response, { jwt: 'j', refreshToken: { secret: 's', expiresAt: '2030-01-01T00:00:00Z' } })
    return response.headers.getSetCookie().join('\n')
  }
  assert.match(cookiesOf(a), /Domain=a\.example/)
  assert.doesNotMatch(cookiesOf(a), /Secure/)
  assert.match(cookiesOf(b), /Domain=b\.example/)
  assert.match(cookiesOf(b), /Secure/)
  assert.doesNotMatch(cookiesOf(b), /HttpOnly/)

  await assert.rejects(a.getSession({ jwt: 'garbage', refreshToken: 'unknown' }))
  assert.equal(logged.a.length, 1)
  assert.equal(logged.b.length, 0, "a's failure is not logged through b's logger")
  await assert.rejects(b.getSession({ jwt: 'garbage', refreshToken: 'unknown' }))
  assert.equal(logged.a.length, 1)
  assert.equal(logged.b.length, 1)

  // Same key set, same options: a verification by one is reused by the other.
  const session = await emulator.createSession('shared-user')
  assert.equal((await a.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })).userId, 'shared-user')
  const fetchesBefore = jwksFetches(emulator)
  assert.equal((await b.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })).userId, 'shared-user')
  assert.equal(jwksFetches(emulator), fetchesBefore)
})

test('instances built per request are garbage-collected', async (t) => {
  const emulator = await withEmulator(t)
  const session = await emulator.createSession('per-request')
  const material = { jwt: session.jwt, refreshToken: session.refreshToken.secret }
  const collected = { count: 0 }
  const registry = new FinalizationRegistry(() => collected.count++)
  const built = 500
  // In their own function, so no reference outlives the loop.
  const handleRequests = async () => {
    for (let i = 0; i < built; i++) {
      const auth = CrossmintAuth.from(createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }), {
        cookieOptions: { domain: `d${i}.example` },
        logger: false,
      })
      registry.register(auth, i)
      assert.equal((await auth.getSession(material)).userId, 'per-request')
    }
  }
  await handleRequests()
  v8.setFlagsFromString('--expose-gc')
  const gc = vm.runInNewContext('gc')
  for (let round = 0; round < 50 && collected.count < built; round++) {
    gc()
    await sleep(10)
  }
  assert.equal(collected.count, built, `${collected.count} of ${built} instances collected`)
})

test('never-seen tokens checked together each get their own verdict', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  await auth.verifyCrossmintJwt(emulator.signJwt({ sub: 'warm-up', exp: now() + 600 }))
  // Enough at once that most go to the thread pool, several per task; a
  // forged token and an expired one sit among them.
  const calls = Array.from({ length: 200 }, (_, i) => {
    if (i === 77) return { jwt: emulator.signJwt({ sub: 'forged', exp: now() + 600 }, { key: 'unpublished' }), expected: null }
    if (i === 131) return { jwt: emulator.signJwt({ sub: 'expired', exp: now() - 10 }), expected: null }
    return { jwt: emulator.signJwt({ sub: `user-${i}`, exp: now() + 600 }), expected: `user-${i}` }
  })
  const outcomes = await Promise.allSettled(calls.map(({ jwt }) => auth.getSession({ jwt, refreshToken: 'not-a-refresh-token' })))
  outcomes.forEach((outcome, i) => {
    if (calls[i].expected === null) assert.equal(outcome.status, 'rejected', `call ${i} must not authenticate`)
    else assert.equal(outcome.value && outcome.value.userId, calls[i].expected, `call ${i}`)
  })
})

test('instances built with the options CrossmintAuth.from passes share one native half; other configurations do not', () => {
  const { sharedNativeAuthFor, comparable, snapshot, sameMembers } = require('../../lib/core/shared-native-auth.js')
  const { TEST_API_KEY } = require('../../testing/emulator.js')
  const native = require('../../native.js')
  let built = 0
  const shared = sharedNativeAuthFor((config, options) => {
    built++
    return new native.NativeAuth(config, options)
  })
  const config = () => ({ apiKey: TEST_API_KEY, overrideBaseUrl: 'http://127.0.0.1:9' })
  // Every kind of value CrossmintAuth.from hands to the native side.
  const options = (overrides = {}) => ({
    refreshRoute: undefined,
    timeoutMs: 5000,
    clockToleranceSeconds: undefined,
    issuer: ['https://issuer.example'],
    audience: undefined,
    refreshGraceSeconds: 10,
    requireExpiration: false,
    redisUrl: undefined,
    ...overrides,
  })
  const first = shared(config(), options())
  assert.equal(shared(config(), options()), first, 'built from equal fresh objects')
  assert.equal(built, 1)
  for (const different of [
    { requireExpiration: true },
    { timeoutMs: 5001 },
    { issuer: ['https://other.example'] },
    { redisUrl: 'redis://127.0.0.1:1' },
    { refreshRoute: 'http://127.0.0.1:9/refresh' },
  ]) {
    assert.notEqual(shared(config(), options(different)), first, JSON.stringify(different))
  }
  assert.equal(built, 6)
  assert.notEqual(shared({ ...config(), overrideBaseUrl: 'http://127.0.0.1:10' }, options()), first)
  // The caller's array changed after the instance was built: the native half
  // built for its old items is not handed out for the new ones.
  const issuer = ['https://issuer.example']
  const built1 = shared(config(), options({ issuer }))
  issuer[0] = 'https://changed.example'
  assert.notEqual(shared(config(), options({ issuer: ['https://changed.example'] })), built1)
  assert.equal(shared(config(), options({ issuer: ['https://issuer.example'] })), built1)
  // Booleans and strings, numbers and strings never match; unset is unset.
  assert.equal(sameMembers(snapshot({ a: true }), { a: 'true' }), false)
  assert.equal(sameMembers(snapshot({ a: 1 }), { a: '1' }), false)
  assert.equal(sameMembers(snapshot({ a: ['x'] }), { a: 'x' }), false)
  assert.equal(sameMembers(snapshot({ a: 1 }), { a: 1, b: undefined }), false, 'members differ')
  assert.equal(sameMembers(snapshot({ a: null }), { a: undefined }), true)
  assert.equal(comparable({ a: {} }), false, 'an object is not compared: its own native half')
  assert.equal(comparable({ a: [1] }), false)
})
