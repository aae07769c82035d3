'use strict'
// Options beyond the reference: logger, clock tolerance, issuer and audience.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, authFor, now } = require('../helpers/harness.js')

test("logger receives the reference's error lines; false silences them", async (t) => {
  const emulator = await withEmulator(t)
  const lines = []
  const auth = authFor(emulator, { logger: { error: (...args) => lines.push(args) } })
  await assert.rejects(auth.getSession({ refreshToken: 'unknown' }), { message: 'Failed to get session', code: 'SESSION_EXPIRED' })
  assert.equal(lines.length, 1)
  assert.equal(lines[0][0], 'Failed to get session')
  assert.equal(lines[0][1].message, 'Unauthorized')

  const original = console.error
  let printed = 0
  console.error = () => printed++
  try {
    await assert.rejects(authFor(emulator, { logger: false }).getSession({ refreshToken: 'unknown' }))
  } finally {
    console.error = original
  }
  assert.equal(printed, 0)
})

test('clockToleranceSeconds accepts a just-expired JWT without a refresh', async (t) => {
  const emulator = await withEmulator(t)
  const refreshes = () => emulator.requests.filter((r) => r.path.endsWith('/refresh')).length
  const session = emulator.createSession('skewed', { jwtTtlSeconds: -5 })
  await authFor(emulator, { logger: false }).getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  assert.equal(refreshes(), 1, 'without tolerance the expired JWT is refreshed')
  const tolerant = authFor(emulator, { clockToleranceSeconds: 60 })
  const other = emulator.createSession('skewed', { jwtTtlSeconds: -5 })
  emulator.clearRequests()
  const result = await tolerant.getSession({ jwt: other.jwt, refreshToken: other.refreshToken.secret })
  assert.equal(result.jwt, other.jwt)
  assert.equal(refreshes(), 0)
})

test('issuer and audience checks, when configured, refuse foreign tokens', async (t) => {
  const emulator = await withEmulator(t)
  const good = authFor(emulator, { issuer: emulator.url, audience: emulator.projectId })
  const session = emulator.createSession('scoped')
  assert.equal((await good.verifyCrossmintJwt(session.jwt)).sub, 'scoped')
  const wrongAudience = authFor(emulator, { audience: ['other-app'], logger: false })
  await assert.rejects(wrongAudience.verifyCrossmintJwt(session.jwt), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', message: 'unexpected "aud" claim value' })
  const wrongIssuer = authFor(emulator, { issuer: 'https://elsewhere.example', logger: false })
  await assert.rejects(wrongIssuer.verifyCrossmintJwt(session.jwt), { message: 'unexpected "iss" claim value' })
  // In getSession a JWT that fails the checks is not the session: the refresh
  // token is exchanged instead (material from Crossmint itself is trusted).
  emulator.clearRequests()
  await wrongIssuer.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  assert.equal(emulator.requests.filter((r) => r.path.endsWith('/refresh')).length, 1)
})

test('logger.warn receives the key set outage warning raised in Rust, once', async (t) => {
  const emulator = await withEmulator(t)
  const warnings = []
  const auth = authFor(emulator, { logger: { error: () => {}, warn: (line) => warnings.push(line) } })
  const session = emulator.createSession('warned')
  await auth.verifyCrossmintJwt(session.jwt)
  emulator.faults.jwks = { status: 500 }
  const stranger = emulator.signJwt({ sub: 'x', exp: now() + 600 }, { kid: 'new-kid', key: 'unpublished' })
  await assert.rejects(auth.verifyCrossmintJwt(stranger), { code: 'ERR_JWKS_NO_MATCHING_KEY' })
  assert.equal(warnings.length, 1)
  assert.match(warnings[0], /refreshing the key set at .* failed .*verifying with the keys already held/)
  // The session itself still verifies with the held keys.
  assert.equal((await auth.verifyCrossmintJwt(session.jwt)).sub, 'warned')
  assert.equal(warnings.length, 1)
})

// A plain-JavaScript caller may pass a key set URI where the types say a key
// set: the instance's checks apply whatever the key source.
test("the instance's verifyCrossmintJwt applies its options with every key source", async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { issuer: emulator.url, requireExpiration: true, requireAudience: true, logger: false })
  const claims = { sub: 'u', iss: emulator.url, aud: emulator.projectId, exp: now() + 600 }
  const good = emulator.signJwt(claims)
  const refused = [
    ['another issuer', emulator.signJwt({ ...claims, iss: 'https://elsewhere.example' }), 'unexpected "iss" claim value'],
    ['no exp', emulator.signJwt({ sub: 'u', iss: emulator.url, aud: emulator.projectId }), 'missing required "exp" claim'],
    ['another project', emulator.signJwt({ ...claims, aud: 'other-project' }), 'unexpected "aud" claim value'],
    ['no aud', emulator.signJwt({ sub: 'u', iss: emulator.url, exp: now() + 600 }), 'missing required "aud" claim'],
  ]
  for (const [source, jwks] of [
    ['its own key set', undefined],
    ['a key set URI', auth.getJwksUri()],
    ['an inline key set', emulator.jwks],
  ]) {
    assert.equal((await auth.verifyCrossmintJwt(good, jwks)).sub, 'u', source)
    for (const [what, token, message] of refused) {
      await assert.rejects(auth.verifyCrossmintJwt(token, jwks), { code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', message }, `${what} with ${source}`)
    }
  }
  // The free function checks aud only when asked.
  const { verifyCrossmintJwt } = require('../..')
  assert.equal((await verifyCrossmintJwt(refused[2][1], auth.getJwksUri())).aud, 'other-project')
  await assert.rejects(verifyCrossmintJwt(refused[2][1], auth.getJwksUri(), { audience: emulator.projectId }), { message: 'unexpected "aud" claim value' })
  assert.equal((await verifyCrossmintJwt(good, emulator.jwks, { audience: [emulator.projectId] })).sub, 'u')
  await assert.rejects(verifyCrossmintJwt(good, emulator.jwks, { audience: '' }), TypeError)
})

test('a Redis password never shows in the error of an unusable URL, whatever it holds', () => {
  const { createCrossmint, CrossmintAuth } = require('../..')
  const { TEST_API_KEY } = require('../../testing/emulator.js')
  const crossmint = createCrossmint({ apiKey: TEST_API_KEY, overrideBaseUrl: 'http://127.0.0.1:9' })
  for (const password of ['s3cr/et', 'p@ss/w0rd', 'a:b:c', 'pa%2Fss%40wd']) {
    for (const url of [`redis://:${password}@127.0.0.1:notaport`, `http://:${password}@127.0.0.1:6379`, `rediss://user:${password}@[::1`]) {
      let message = ''
      try {
        CrossmintAuth.from(crossmint, { refreshCoordination: { redisUrl: url } })
      } catch (error) {
        message = String(error.message)
      }
      assert.ok(message.length > 0, `${url} is refused`)
      for (const fragment of password.split(/[/@:%]/).filter((f) => f.length >= 3)) {
        assert.ok(!message.includes(fragment), `${url}: ${message}`)
      }
    }
  }
})
