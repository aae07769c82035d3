'use strict'
// Production behaviour of the session engine against the emulator's fault
// switches: shared refreshes, the rotation grace window, outages, timeouts and
// forged tokens.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, ours, authFor, serve, exchange, cookieHeaderFor, refreshCalls, now, sleep, jwksUriOf } = require('../helpers/harness.js')

test('20 concurrent getSession calls with one expired session make one refresh and all succeed', async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 100 }
  const session = emulator.createSession('burst-user', { jwtTtlSeconds: -1 })
  // A new CrossmintAuth per request, as Next.js middleware builds it.
  const results = await Promise.all(
    Array.from({ length: 20 }, () => authFor(emulator).getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })),
  )
  assert.equal(refreshCalls(emulator), 1)
  assert.equal(new Set(results.map((r) => r.refreshToken.secret)).size, 1)
  assert.ok(results.every((r) => r.userId === 'burst-user'))
})

test('a request still carrying the old refresh token within the grace window gets the new session', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const session = emulator.createSession('late-request', { jwtTtlSeconds: -1 })
  const first = await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  const response = new Response()
  const late = await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }, response)
  assert.equal(late.refreshToken.secret, first.refreshToken.secret)
  assert.equal(refreshCalls(emulator), 1)
  // The late request's browser receives the rotated cookies too (scoped names: no request to go on).
  assert.match(response.headers.getSetCookie()[1], new RegExp(`^crossmint-refresh-token-${emulator.projectId}=${first.refreshToken.secret};`))
  // Without the grace window the old token is dead at Crossmint.
  await assert.rejects(authFor(emulator, { refreshGraceSeconds: 0 }).getSession({ refreshToken: session.refreshToken.secret }), {
    code: 'SESSION_EXPIRED',
  })
})

test('concurrent refresh-route calls with one token make one Crossmint call', async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.refresh = { delayMs: 100 }
  const auth = authFor(emulator)
  const server = await serve(async (req, res) => {
    await auth.handleCustomRefresh(req, res)
    res.end()
  })
  t.after(() => server.close())
  const session = emulator.createSession('two-tabs')
  const answers = await Promise.all(
    Array.from({ length: 5 }, () => exchange(server.url, { method: 'POST', body: JSON.stringify({ refresh: session.refreshToken.secret }) })),
  )
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200, 200],
  )
  assert.equal(refreshCalls(emulator), 1)
  assert.ok(
    answers.every((a) => a.setCookie.length === 4),
    'one session under both namings',
  )
})

test('a Crossmint outage fails the session but keeps the cookies and the refresh token', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  for (const fault of [{ status: 500 }, { html: 502 }, { status: 503 }]) {
    emulator.faults.refresh = fault
    emulator.clearRequests()
    const session = emulator.createSession('outage-user', { jwtTtlSeconds: -1 })
    const response = new Response()
    await assert.rejects(auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }, response), (error) => {
      assert.equal(error.message, 'Failed to get session')
      assert.ok(['CROSSMINT_UNAVAILABLE', 'INVALID_RESPONSE'].includes(error.code), error.code)
      return true
    })
    assert.deepEqual(response.headers.getSetCookie(), [], JSON.stringify(fault))
    assert.equal(emulator.requests.filter((r) => r.path.endsWith('/logout')).length, 0)
    // Once Crossmint is back, the same refresh token still works.
    emulator.resetFaults()
    const recovered = await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
    assert.equal(recovered.userId, 'outage-user')
  }
})

test('a refused refresh token clears the cookies and carries SESSION_EXPIRED', async (t) => {
  const emulator = await withEmulator(t)
  const response = new Response()
  await assert.rejects(authFor(emulator).getSession({ refreshToken: 'never-issued' }, response), {
    name: 'CrossmintAuthenticationError',
    message: 'Failed to get session',
    code: 'SESSION_EXPIRED',
  })
  assert.equal(response.headers.getSetCookie().length, 2)
})

test('timeouts apply to every Crossmint call: key set, refresh, logout, user lookup', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { timeoutMs: 200 })
  emulator.faults.jwks = { hang: true }
  const keySetStarted = Date.now()
  await assert.rejects(auth.verifyCrossmintJwt(emulator.createSession('slow').jwt), { code: 'ERR_JWKS_TIMEOUT' })
  assert.ok(Date.now() - keySetStarted < 2000, 'the key set fetch used the instance deadline')
  emulator.faults.refresh = { hang: true }
  emulator.faults.logout = { hang: true }
  emulator.faults.user = { hang: true }
  const session = emulator.createSession('slow', { jwtTtlSeconds: -1 })
  await assert.rejects(auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }), { code: 'TIMEOUT' })
  const refreshAnswer = await auth.handleCustomRefresh(new Request('http://app.test/', { method: 'POST', body: JSON.stringify({ refresh: 'x' }) }))
  assert.equal(refreshAnswer.status, 503)
  await assert.rejects(auth.getUser('slow'), { code: 'TIMEOUT' })
  const started = Date.now()
  const loggedOut = await auth.logout(new Request('http://app.test/', { headers: { cookie: cookieHeaderFor(session) } }))
  assert.ok(Date.now() - started < 5000)
  assert.equal(loggedOut.headers.getSetCookie().length, 4, 'both namings cleared')
})

test('forged tokens never authenticate: alg none, HS256 keyed with the public key, wrong key type', async (t) => {
  const emulator = await withEmulator(t)
  const uri = jwksUriOf(emulator)
  const claims = { sub: 'admin', exp: now() + 600 }
  const publicPem = emulator.getKey('rsa-1').publicKey.export({ type: 'spki', format: 'pem' })
  const publicJwkJson = JSON.stringify(emulator.jwks.keys.find((k) => k.kid === 'rsa-1'))
  const forgeries = {
    none: emulator.signJwt(claims, { alg: 'none' }),
    noneWithoutKid: emulator.signJwt(claims, { alg: 'none', kid: null }),
    hs256PublicPem: emulator.signJwt(claims, { alg: 'HS256', secret: publicPem, kid: 'rsa-1' }),
    hs256PublicJwk: emulator.signJwt(claims, { alg: 'HS256', secret: publicJwkJson, kid: 'rsa-1' }),
    es256WithRsaKid: emulator.signJwt(claims, { alg: 'ES256', kid: 'ec-1', header: { kid: 'rsa-1' } }),
    unpublishedKey: emulator.signJwt(claims, { key: 'unpublished' }),
  }
  const expectedCodes = {
    none: 'ERR_JOSE_NOT_SUPPORTED',
    noneWithoutKid: 'ERR_JOSE_NOT_SUPPORTED',
    hs256PublicPem: 'ERR_JOSE_NOT_SUPPORTED',
    hs256PublicJwk: 'ERR_JOSE_NOT_SUPPORTED',
    es256WithRsaKid: 'ERR_JWKS_NO_MATCHING_KEY',
    unpublishedKey: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  }
  for (const [name, token] of Object.entries(forgeries)) {
    await assert.rejects(ours.verifyCrossmintJwt(token, uri), { code: expectedCodes[name] }, name)
    // In getSession a forged JWT is never the session: the refresh token decides.
    await assert.rejects(authFor(emulator).getSession({ jwt: token, refreshToken: 'not-valid' }), { message: 'Failed to get session' }, name)
  }
})

test('verified-token cache: a token stops being accepted when it expires', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const session = emulator.createSession('short-lived', { jwtTtlSeconds: 2 })
  const material = { jwt: session.jwt, refreshToken: session.refreshToken.secret }
  assert.equal((await auth.getSession(material)).jwt, session.jwt)
  assert.equal((await auth.getSession(material)).jwt, session.jwt, 'answered from the cache')
  await sleep(2100)
  emulator.clearRequests()
  await auth.getSession(material)
  assert.equal(refreshCalls(emulator), 1, 'the expired JWT went to a refresh')
})

test('verified-token cache: dropping a key from the published set revokes cached verifications', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const old = emulator.createSession('rotated-user')
  assert.equal((await auth.getSession({ jwt: old.jwt, refreshToken: old.refreshToken.secret })).jwt, old.jwt)
  emulator.rotateKeys({ dropOld: true })
  // A token with the new kid makes the process refetch the key set.
  const fresh = emulator.createSession('new-user')
  assert.equal((await auth.getSession({ jwt: fresh.jwt, refreshToken: fresh.refreshToken.secret })).jwt, fresh.jwt)
  emulator.clearRequests()
  const again = await auth.getSession({ jwt: old.jwt, refreshToken: old.refreshToken.secret })
  assert.notEqual(again.refreshToken.secret, old.refreshToken.secret, 'the old-key JWT is no longer the session')
  assert.equal(refreshCalls(emulator), 1)
})

test('verified-token cache: instances with stricter options do not reuse laxer verifications', async (t) => {
  const emulator = await withEmulator(t)
  const session = emulator.createSession('scoped-user')
  const material = { jwt: session.jwt, refreshToken: session.refreshToken.secret }
  assert.equal((await authFor(emulator).getSession(material)).jwt, session.jwt)
  emulator.clearRequests()
  const strict = authFor(emulator, { audience: 'another-app', logger: false })
  // The refresh's JWT is refused by the same audience rule: no session.
  await assert.rejects(strict.getSession(material), { code: 'WRONG_PROJECT' })
  assert.equal(refreshCalls(emulator), 1, 'the audience check ran instead of the cached answer')
})

test('logout ends reuse along the whole rotation chain', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const refresh = async (token) => await auth.handleCustomRefresh(new Request('http://app.test/', { method: 'POST', body: JSON.stringify({ refresh: token }) }))
  const first = emulator.createSession('chain-user')
  const mid = await (await refresh(first.refreshToken.secret)).json()
  const newest = await (await refresh(mid.refreshToken.secret)).json()
  await auth.logout(new Request('http://app.test/', { headers: { cookie: `crossmint-refresh-token=${newest.refreshToken.secret}` } }))
  for (const token of [first.refreshToken.secret, mid.refreshToken.secret, newest.refreshToken.secret]) {
    await assert.rejects(auth.getSession({ jwt: 'x', refreshToken: token }), { message: 'Failed to get session' })
  }
})

test('an instance with a short timeout does not fail key set fetches for the others', async (t) => {
  const emulator = await withEmulator(t)
  emulator.faults.jwks = { delayMs: 300 }
  const session = emulator.createSession('patient-user')
  await assert.rejects(authFor(emulator, { timeoutMs: 20 }).verifyCrossmintJwt(session.jwt), { code: 'ERR_JWKS_TIMEOUT' })
  assert.equal((await authFor(emulator).verifyCrossmintJwt(session.jwt)).sub, 'patient-user')
})
