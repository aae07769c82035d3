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
