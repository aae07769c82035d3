'use strict'
// The shared key set cache: one fetch for many verifications, new keys picked
// up without a restart, unknown key ids unable to flood Crossmint, and keys
// already held surviving a key set outage.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, ours, now, jwksUriOf, jwksFetches, childScript } = require('../helpers/harness.js')

test('concurrent verifications share one key set fetch', async (t) => {
  const emulator = await withEmulator(t)
  const uri = jwksUriOf(emulator)
  const token = emulator.signJwt({ sub: 'u', exp: now() + 600 })
  const results = await Promise.all(Array.from({ length: 50 }, () => ours.verifyCrossmintJwt(token, uri)))
  assert.equal(results.length, 50)
  assert.equal(jwksFetches(emulator), 1)
})

test('a key published after the first fetch is accepted without a restart', async (t) => {
  const emulator = await withEmulator(t)
  const uri = jwksUriOf(emulator)
  await ours.verifyCrossmintJwt(emulator.signJwt({ sub: 'before', exp: now() + 600 }), uri)
  const newKid = emulator.rotateKeys()
  const rotated = emulator.signJwt({ sub: 'after', exp: now() + 600 })
  const payload = await ours.verifyCrossmintJwt(rotated, uri)
  assert.equal(payload.sub, 'after')
  assert.equal(jwksFetches(emulator), 2, `the unknown kid ${newKid} triggers exactly one refetch`)
})

test('random key ids cannot turn into a flood of key set requests', async (t) => {
  const emulator = await withEmulator(t)
  const uri = jwksUriOf(emulator)
  await ours.verifyCrossmintJwt(emulator.signJwt({ sub: 'warm', exp: now() + 600 }), uri)
  const forged = Array.from({ length: 100 }, (_, i) => emulator.signJwt({ sub: 'x', exp: now() + 600 }, { kid: `random-${i}`, key: 'unpublished' }))
  const outcomes = await Promise.allSettled(forged.map((token) => ours.verifyCrossmintJwt(token, uri)))
  assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason.code === 'ERR_JWKS_NO_MATCHING_KEY'))
  // One warm-up fetch plus at most one refetch inside the cooldown.
  assert.ok(jwksFetches(emulator) <= 2, `${jwksFetches(emulator)} fetches`)
})

test('callers waiting on a hanging key set endpoint share one fetch and one timeout', async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.jwks = { hang: true }
  const uri = jwksUriOf(emulator)
  const started = Date.now()
  const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => ours.verifyCrossmintJwt(emulator.signJwt({ sub: `u${n}`, exp: now() + 600 }), uri)))
  assert.ok(outcomes.every((o) => o.status === 'rejected' && o.reason.code === 'ERR_JWKS_TIMEOUT'))
  assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`)
  assert.equal(jwksFetches(emulator), 1)
})

test('a fresh key set answers without a fetch even while the endpoint is down', async (t) => {
  const emulator = await withEmulator(t)
  const uri = jwksUriOf(emulator)
  const token = emulator.signJwt({ sub: 'steady', exp: now() + 600 })
  await ours.verifyCrossmintJwt(token, uri)
  emulator.faults.jwks = { status: 500 }
  assert.equal((await ours.verifyCrossmintJwt(token, uri)).sub, 'steady')
})

test('a key set endpoint that never answers fails within its deadline', async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.jwks = { hang: true }
  const started = Date.now()
  await assert.rejects(ours.verifyCrossmintJwt(emulator.signJwt({ sub: 'u', exp: now() + 600 }), jwksUriOf(emulator)), {
    name: 'JWKSTimeout',
    code: 'ERR_JWKS_TIMEOUT',
    message: 'request timed out',
  })
  assert.ok(Date.now() - started < 15000)
})

/**
 * Runs helpers/stale-key-set.child.js (`mode`: none, 'window' or 'hang') with
 * the key set's freshness shortened to 300 ms; the JSON line it prints last.
 */
function staleKeySetChild(...mode) {
  const { execFileSync } = require('node:child_process')
  const out = execFileSync(process.execPath, [childScript('stale-key-set'), ...mode], {
    env: { ...process.env, CROSSMINT_NATIVE_KEY_SET_TTL_MS: '300' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return JSON.parse(out.trim().split('\n').at(-1))
}

test('a stale key set keeps verifying while refetches fail, and refetches in the background', async () => {
  const result = staleKeySetChild()
  assert.equal(result.staleSub, 'stale-user')
  assert.ok(result.staleMs < 1000, 'the stale set answered at once, without waiting for the fetch')
  assert.equal(result.fetchesDuringOutage, 2, 'one initial fetch, one failed background refetch')
  assert.equal(result.secondStaleSub, 'stale-user')
  assert.equal(result.fetchesAfterRecovery, 3)
})

test('keySetStaleIfErrorSeconds bounds how old held keys may be and still verify while the key set is unreachable', async () => {
  const result = staleKeySetChild('window')
  assert.deepEqual(result, {
    young: 'stale-user',
    old: 'ERR_JOSE_GENERIC',
    oldByUri: 'ERR_JOSE_GENERIC',
    oldDefault: 'stale-user',
  })
})

test('a hanging key set endpoint: held keys answer when the deadline passes, then at once while the outage lasts', async () => {
  const result = staleKeySetChild('hang')
  assert.equal(result.first.sub, 'stale-user', 'the held keys, not ERR_JWKS_TIMEOUT')
  assert.ok(result.first.ms >= 350 && result.first.ms < 2000, `waited its own deadline (400 ms): ${result.first.ms}`)
  for (const [index, { sub, ms }] of result.during.entries()) {
    assert.ok(sub === 'stale-user' || sub === `hang-${index >> 1}`, sub)
    assert.ok(ms < 300, `answered at once during the outage: ${ms} ms`)
  }
  assert.equal(result.refreshCalls, 0, 'no refresh token spent for a valid JWT')
})
