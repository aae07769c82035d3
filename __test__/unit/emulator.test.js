'use strict'

// Checks the emulator itself over real HTTP, so that a failure in the SDK's
// tests can be trusted to be about the SDK and not about its stand-in.

const { describe, it, before, after, beforeEach } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const emulatorModule = require('../../testing/emulator.js')
const { startCrossmintEmulator, TEST_API_KEY } = emulatorModule

const REFRESH_PATH = '/api/2024-09-26/session/sdk/auth/refresh'
const LOGOUT_PATH = '/api/2024-09-26/session/sdk/auth/logout'
const USER_PATH = '/api/2024-09-26/sdk/auth/user/'

const VERIFY_PARAMS = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  PS256: { hash: 'sha256', pss: 32 },
  PS512: { hash: 'sha512', pss: 64 },
  ES256: { hash: 'sha256', ec: true },
  ES384: { hash: 'sha384', ec: true },
  EdDSA: { hash: null },
}

function decodeSegment(segment) {
  return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'))
}

// An independent JWS check: only the published JWK document is trusted, so a
// token signed with the wrong key or wrong encoding fails here.
function verifyAgainstJwks(token, jwks) {
  const [headerPart, payloadPart, signaturePart] = token.split('.')
  const header = decodeSegment(headerPart)
  const jwk = jwks.keys.find((key) => key.kid === header.kid)
  if (!jwk) return false
  if (jwk.alg && jwk.alg !== header.alg) return false
  const params = VERIFY_PARAMS[header.alg]
  const publicKey = crypto.createPublicKey({ key: jwk, format: 'jwk' })
  let keyInput = publicKey
  if (params.pss) {
    keyInput = { key: publicKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: params.pss }
  } else if (params.ec) {
    keyInput = { key: publicKey, dsaEncoding: 'ieee-p1363' }
  }
  return crypto.verify(params.hash, Buffer.from(`${headerPart}.${payloadPart}`), keyInput, Buffer.from(signaturePart, 'base64url'))
}

describe('crossmint emulator', () => {
  let emulator

  const post = (path, payload, { apiKey = emulator.apiKey, rawBody, signal } = {}) =>
    fetch(emulator.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
      body: rawBody !== undefined ? rawBody : JSON.stringify(payload),
      signal,
    })

  const getUser = (id, { apiKey = emulator.apiKey } = {}) =>
    fetch(emulator.url + USER_PATH + encodeURIComponent(id), {
      headers: apiKey ? { 'x-api-key': apiKey } : {},
    })

  const fetchJwks = async () => {
    const res = await fetch(`${emulator.url}/.well-known/jwks.json`)
    assert.equal(res.status, 200)
    return res.json()
  }

  before(async () => {
    emulator = await startCrossmintEmulator()
  })

  after(() => emulator.close())

  beforeEach(() => {
    emulator.resetFaults()
    emulator.clearRequests()
  })

  it('listens on 127.0.0.1 and exposes the test API key', () => {
    assert.match(emulator.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(emulator.apiKey, TEST_API_KEY)
    assert.ok(TEST_API_KEY.startsWith('ck_development_'))
  })

  it('serves the JWKS with public parts only', async () => {
    const res = await fetch(`${emulator.url}/.well-known/jwks.json`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type'), /application\/json/)
    const jwks = await res.json()
    assert.deepEqual(jwks, emulator.jwks)
    const kids = jwks.keys.map((key) => key.kid).sort()
    assert.deepEqual(kids, ['ec-1', 'ec-384', 'ed-1', 'rsa-1', 'rsa-ps'])
    for (const key of jwks.keys) {
      assert.equal(key.use, 'sig')
      assert.ok(key.kty)
      assert.equal(key.d, undefined, `${key.kid} leaks a private part`)
    }
    assert.equal(jwks.keys.find((key) => key.kid === 'rsa-ps').alg, undefined)
    assert.equal(jwks.keys.find((key) => key.kid === 'rsa-1').alg, 'RS256')
    assert.equal(jwks.keys.find((key) => key.kid === 'ec-384').crv, 'P-384')
  })

  for (const [alg, expectedKid] of [
    ['RS256', 'rsa-1'],
    ['PS256', 'rsa-ps'],
    ['ES256', 'ec-1'],
    ['ES384', 'ec-384'],
    ['EdDSA', 'ed-1'],
  ]) {
    it(`signs ${alg} tokens that verify against the published JWK`, async () => {
      const jwks = await fetchJwks()
      const token = emulator.signJwt({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 60 }, { alg })
      const header = decodeSegment(token.split('.')[0])
      assert.equal(header.alg, alg)
      assert.equal(header.kid, expectedKid)
      assert.equal(verifyAgainstJwks(token, jwks), true)
    })
  }

  it('signs other RSA algs against the alg-less rsa-ps key', async () => {
    const jwks = await fetchJwks()
    for (const alg of ['RS384', 'PS512']) {
      const token = emulator.signJwt({ sub: 'u1' }, { alg, kid: 'rsa-ps' })
      assert.equal(verifyAgainstJwks(token, jwks), true, alg)
    }
  })

  it('produces forged, kid-less, none and HS256 tokens for attack tests', async () => {
    const jwks = await fetchJwks()
    const forged = emulator.signJwt({ sub: 'u1' }, { key: 'unpublished' })
    assert.equal(decodeSegment(forged.split('.')[0]).kid, 'rsa-1')
    assert.equal(verifyAgainstJwks(forged, jwks), false)

    const unknownKid = emulator.signJwt({ sub: 'u1' }, { kid: 'rsa-unpublished', key: 'unpublished' })
    assert.equal(decodeSegment(unknownKid.split('.')[0]).kid, 'rsa-unpublished')
    assert.equal(verifyAgainstJwks(unknownKid, jwks), false)

    const noKid = emulator.signJwt({ sub: 'u1' }, { kid: null, header: { typ: 'JWT' } })
    assert.deepEqual(decodeSegment(noKid.split('.')[0]), { alg: 'RS256', typ: 'JWT' })

    const unsigned = emulator.signJwt({ sub: 'u1' }, { alg: 'none' })
    assert.ok(unsigned.endsWith('.'))
    assert.equal(unsigned.split('.').length, 3)

    const hmac = emulator.signJwt({ sub: 'u1' }, { alg: 'HS256', secret: Buffer.from('s3cret') })
    const [h, p, s] = hmac.split('.')
    const expected = crypto.createHmac('sha256', 's3cret').update(`${h}.${p}`).digest('base64url')
    assert.equal(s, expected)
  })

  it('creates sessions with the documented claims', async () => {
    const session = emulator.createSession('user-claims', { email: 'c@example.com' })
    assert.equal(session.userId, 'user-claims')
    const claims = decodeSegment(session.jwt.split('.')[1])
    assert.equal(claims.sub, 'user-claims')
    assert.equal(claims.iss, emulator.url)
    assert.equal(claims.aud, emulator.projectId)
    assert.equal(claims.email, 'c@example.com')
    assert.equal(claims.exp - claims.iat, 3600)
    assert.equal(verifyAgainstJwks(session.jwt, await fetchJwks()), true)
    assert.equal(Buffer.from(session.refreshToken.secret, 'base64url').length, 32)
    assert.equal(new Date(session.refreshToken.expiresAt).toISOString(), session.refreshToken.expiresAt)

    const expired = emulator.createSession(undefined, { jwtTtlSeconds: -10, alg: 'ES256' })
    const expiredClaims = decodeSegment(expired.jwt.split('.')[1])
    assert.ok(expiredClaims.exp < Date.now() / 1000)
    assert.equal(expiredClaims.email, `${expired.userId}@example.com`)
    assert.equal(decodeSegment(expired.jwt.split('.')[0]).alg, 'ES256')
  })

  it('rotates refresh tokens and rejects their reuse', async () => {
    const session = emulator.createSession('user-refresh', { alg: 'EdDSA', refreshedJwtTtlSeconds: 120 })
    const first = await post(REFRESH_PATH, { refresh: session.refreshToken.secret })
    assert.equal(first.status, 200)
    const body = await first.json()
    assert.deepEqual(body.user, { id: 'user-refresh', email: 'user-refresh@example.com' })
    assert.notEqual(body.refresh.secret, session.refreshToken.secret)
    assert.equal(decodeSegment(body.jwt.split('.')[0]).alg, 'EdDSA')
    const claims = decodeSegment(body.jwt.split('.')[1])
    assert.equal(claims.exp - claims.iat, 120)
    assert.equal(verifyAgainstJwks(body.jwt, await fetchJwks()), true)

    const reuse = await post(REFRESH_PATH, { refresh: session.refreshToken.secret })
    assert.equal(reuse.status, 401)
    assert.equal(reuse.statusText, 'Unauthorized')
    assert.deepEqual(await reuse.json(), { error: 'Unauthorized', message: 'Invalid refresh token' })

    const next = await post(REFRESH_PATH, { refresh: body.refresh.secret })
    assert.equal(next.status, 200)
    await next.arrayBuffer()
  })

  it('an expired session refreshes into a JWT with the normal lifetime, and every JWT is distinct', async () => {
    const expired = emulator.createSession('user-expired-once', { jwtTtlSeconds: -60 })
    assert.ok(decodeSegment(expired.jwt.split('.')[1]).exp < Date.now() / 1000)
    const answer = await post(REFRESH_PATH, { refresh: expired.refreshToken.secret })
    const body = await answer.json()
    const claims = decodeSegment(body.jwt.split('.')[1])
    assert.equal(claims.exp - claims.iat, 3600, 'the refreshed JWT is not expired too')
    // Issued within the same second for the same user, yet distinct.
    const again = emulator.createSession('user-expired-once')
    const twin = emulator.createSession('user-expired-once')
    assert.notEqual(again.jwt, twin.jwt)
    assert.notEqual(decodeSegment(again.jwt.split('.')[1]).jti, decodeSegment(twin.jwt.split('.')[1]).jti)
  })

  it('answers 400 for a missing or malformed refresh body and 401 without an API key', async () => {
    const malformed = await post(REFRESH_PATH, undefined, { rawBody: '{nope' })
    assert.equal(malformed.status, 400)
    assert.equal((await malformed.json()).error, 'Bad Request')

    const empty = await post(REFRESH_PATH, undefined, { rawBody: '' })
    assert.equal(empty.status, 400)
    await empty.arrayBuffer()

    const noKey = await post(REFRESH_PATH, { refresh: 'x' }, { apiKey: null })
    assert.equal(noKey.status, 401)
    assert.deepEqual(await noKey.json(), { error: 'Unauthorized', message: 'Missing API key' })

    const unknown = await fetch(`${emulator.url}/api/nothing-here`, { headers: { 'x-api-key': emulator.apiKey } })
    assert.equal(unknown.status, 404)
    await unknown.arrayBuffer()
  })

  it('rejects expired and explicitly revoked refresh tokens', async () => {
    const expiring = emulator.createSession('user-expiring', { refreshTtlSeconds: -1 })
    const expiredRes = await post(REFRESH_PATH, { refresh: expiring.refreshToken.secret })
    assert.equal(expiredRes.status, 401)
    await expiredRes.arrayBuffer()

    const extra = emulator.issueRefreshToken('user-expiring')
    emulator.revokeRefreshToken(extra.secret)
    const revokedRes = await post(REFRESH_PATH, { refresh: extra.secret })
    assert.equal(revokedRes.status, 401)
    await revokedRes.arrayBuffer()
  })

  it('revokes the refresh token on logout', async () => {
    const session = emulator.createSession('user-logout')
    const logout = await post(LOGOUT_PATH, { refresh: session.refreshToken.secret })
    assert.equal(logout.status, 200)
    assert.deepEqual(await logout.json(), {})

    const afterLogout = await post(REFRESH_PATH, { refresh: session.refreshToken.secret })
    assert.equal(afterLogout.status, 401)
    await afterLogout.arrayBuffer()

    const unknownLogout = await post(LOGOUT_PATH, { refresh: 'never-issued' })
    assert.equal(unknownLogout.status, 200)
    await unknownLogout.arrayBuffer()
  })

  it('looks users up by decoded id', async () => {
    emulator.createSession('email:someone@example.com', { email: 'someone@example.com' })
    const found = await getUser('email:someone@example.com')
    assert.equal(found.status, 200)
    assert.deepEqual(await found.json(), { id: 'email:someone@example.com', email: 'someone@example.com' })

    const missing = await getUser('nobody')
    assert.equal(missing.status, 404)
    assert.deepEqual(await missing.json(), { error: 'Not Found', message: 'User not found' })
  })

  it('logs requests and waits for past and future ones', async () => {
    const session = emulator.createSession('user-log')
    await (await post(REFRESH_PATH, { refresh: session.refreshToken.secret })).arrayBuffer()

    assert.equal(emulator.requests.length, 1)
    const [logged] = emulator.requests
    assert.equal(logged.method, 'POST')
    assert.equal(logged.path, REFRESH_PATH)
    assert.equal(logged.headers['x-api-key'], emulator.apiKey)
    assert.equal(logged.body, JSON.stringify({ refresh: session.refreshToken.secret }))
    assert.deepEqual(logged.json, { refresh: session.refreshToken.secret })

    const past = await emulator.waitForRequest((request) => request.path === REFRESH_PATH)
    assert.equal(past, logged)

    const future = emulator.waitForRequest((request) => request.path.startsWith(USER_PATH))
    await (await getUser('user-log')).arrayBuffer()
    assert.equal((await future).method, 'GET')

    await assert.rejects(
      emulator.waitForRequest(() => false, 50),
      /no matching request/,
    )

    emulator.clearRequests()
    assert.equal(emulator.requests.length, 0)
  })

  it('injects a JSON status fault', async () => {
    emulator.faults.refresh = { status: 500 }
    const res = await post(REFRESH_PATH, { refresh: 'anything' })
    assert.equal(res.status, 500)
    assert.match(res.headers.get('content-type'), /application\/json/)
    assert.equal((await res.json()).error, 'Internal Server Error')
    assert.equal(emulator.requests.length, 1, 'faulted requests are still logged')
  })

  it('injects an HTML error page', async () => {
    emulator.faults.user = { html: 502 }
    const res = await getUser('whoever')
    assert.equal(res.status, 502)
    assert.match(res.headers.get('content-type'), /text\/html/)
    assert.match(await res.text(), /<html>/)
  })

  it('injects a raw body with a chosen content type', async () => {
    emulator.faults.jwks = { status: 200, body: '{"keys": [', contentType: 'application/json' }
    const res = await fetch(`${emulator.url}/.well-known/jwks.json`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.equal(await res.text(), '{"keys": [')
  })

  it('injects a delay before the normal answer', async () => {
    emulator.faults.logout = { delayMs: 150 }
    const started = Date.now()
    const res = await post(LOGOUT_PATH, { refresh: 'x' })
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.ok(Date.now() - started >= 140, 'answer arrived too early')
  })

  it('can limit a fault to the first N calls', async () => {
    emulator.faults.jwks = { status: 503, times: 1 }
    const first = await fetch(`${emulator.url}/.well-known/jwks.json`)
    assert.equal(first.status, 503)
    await first.arrayBuffer()
    assert.equal(emulator.faults.jwks, null)
    await fetchJwks()
  })

  it('hangs when asked, and the client timeout fires', async () => {
    emulator.faults.refresh = { hang: true }
    await assert.rejects(post(REFRESH_PATH, { refresh: 'x' }, { signal: AbortSignal.timeout(200) }), (error) => error.name === 'TimeoutError')
    assert.equal(emulator.requests.length, 1)
  })

  it('rotates signing keys', async () => {
    const newKid = emulator.rotateKeys()
    assert.equal(newKid, 'rsa-2')
    let jwks = await fetchJwks()
    assert.ok(jwks.keys.some((key) => key.kid === 'rsa-1'))
    const token = emulator.signJwt({ sub: 'u' })
    assert.equal(decodeSegment(token.split('.')[0]).kid, 'rsa-2')
    assert.equal(verifyAgainstJwks(token, jwks), true)

    const third = emulator.rotateKeys({ dropOld: true })
    jwks = await fetchJwks()
    assert.ok(jwks.keys.some((key) => key.kid === third))
    assert.ok(!jwks.keys.some((key) => key.kid === 'rsa-2'))
    assert.ok(jwks.keys.some((key) => key.kid === 'rsa-1'))
  })
})

describe('crossmint emulator: token families, presentations and chaos faults', () => {
  let emulator

  const refresh = (secret, { signal } = {}) =>
    fetch(emulator.url + REFRESH_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
      body: JSON.stringify({ refresh: secret }),
      signal,
    })

  const logout = async (secret) => {
    const res = await fetch(emulator.url + LOGOUT_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey },
      body: JSON.stringify({ refresh: secret }),
    })
    await res.arrayBuffer()
    return res.status
  }

  const results = (secret) => emulator.refreshTokenState(secret).presentations.map((p) => p.result)

  before(async () => {
    emulator = await startCrossmintEmulator()
  })

  after(() => emulator.close())

  beforeEach(() => {
    emulator.resetFaults()
    emulator.clearRequests()
  })

  it('exports the endpoint paths', () => {
    assert.equal(emulatorModule.REFRESH_PATH, REFRESH_PATH)
    assert.equal(emulatorModule.LOGOUT_PATH, LOGOUT_PATH)
    assert.equal(emulatorModule.JWKS_PATH, '/.well-known/jwks.json')
    assert.equal(emulatorModule.USER_PATH_PREFIX, USER_PATH)
  })

  it('a session starts a family that its refreshes carry on', async () => {
    const session = emulator.createSession('user-family')
    const other = emulator.createSession('user-family')
    assert.equal(typeof session.family, 'string')
    assert.notEqual(session.family, other.family, 'every sign-in is a family of its own')
    assert.deepEqual(Object.keys(session.refreshToken).sort(), ['expiresAt', 'secret'])
    assert.equal(emulator.familyOf(session.refreshToken.secret), session.family)
    assert.equal(emulator.familyOf('never-issued'), undefined)
    assert.equal(emulator.refreshTokenState('never-issued'), undefined)

    const first = emulator.refreshTokenState(session.refreshToken.secret)
    assert.equal(first.userId, 'user-family')
    assert.equal(first.family, session.family)
    assert.equal(first.generation, 0)
    assert.equal(first.live, true)
    assert.equal(first.used, false)
    assert.equal(first.revoked, false)
    assert.equal(first.expired, false)
    assert.deepEqual(first.presentations, [])
    assert.deepEqual(emulator.liveRefreshTokens(session.family), [session.refreshToken.secret])

    const res = await refresh(session.refreshToken.secret)
    const body = await res.json()
    const spent = emulator.refreshTokenState(session.refreshToken.secret)
    assert.equal(spent.live, false)
    assert.equal(spent.used, true)
    assert.equal(spent.successor, body.refresh.secret)
    assert.equal(spent.presentations.length, 1)
    assert.equal(spent.presentations[0].result, 'rotated')
    assert.equal(spent.presentations[0].delivered, undefined)
    assert.ok(Math.abs(spent.presentations[0].at - Date.now()) < 5000)
    assert.equal(emulator.familyOf(body.refresh.secret), session.family)
    assert.equal(emulator.refreshTokenState(body.refresh.secret).generation, 1)
    assert.deepEqual(emulator.liveRefreshTokens(session.family), [body.refresh.secret])

    const reuse = await refresh(session.refreshToken.secret)
    assert.equal(reuse.status, 401)
    await reuse.arrayBuffer()
    assert.deepEqual(results(session.refreshToken.secret), ['rotated', 'refused'])
    assert.equal(emulator.refreshTokenState(session.refreshToken.secret).presentations[1].reason, 'used')

    assert.equal(await logout(body.refresh.secret), 200)
    const revoked = emulator.refreshTokenState(body.refresh.secret)
    assert.deepEqual(
      revoked.logoutCalls.map((call) => call.result),
      ['revoked'],
    )
    assert.equal(revoked.revoked, true)
    assert.equal(revoked.live, false)
    assert.ok(revoked.revokedAt >= revoked.issuedAt)
    assert.deepEqual(emulator.liveRefreshTokens(session.family), [])
    const afterLogout = await refresh(body.refresh.secret)
    assert.equal(afterLogout.status, 401)
    await afterLogout.arrayBuffer()
    assert.equal(emulator.refreshTokenState(body.refresh.secret).presentations[0].reason, 'revoked')

    // The returned state is a copy: changing it changes nothing.
    revoked.presentations.push({ at: 0, result: 'rotated' })
    assert.equal(emulator.refreshTokenState(body.refresh.secret).presentations.length, 1)
    assert.deepEqual(emulator.liveRefreshTokens(other.family), [other.refreshToken.secret])
    assert.deepEqual(emulator.liveRefreshTokens('no-such-family'), [])
  })

  it('issueRefreshToken starts a family, or joins the one it is given', () => {
    const session = emulator.createSession('user-issue')
    const alone = emulator.issueRefreshToken('user-issue')
    const joined = emulator.issueRefreshToken('user-issue', { family: session.family })
    assert.notEqual(emulator.familyOf(alone.secret), session.family)
    assert.equal(emulator.familyOf(joined.secret), session.family)
    assert.deepEqual(emulator.liveRefreshTokens(session.family).sort(), [session.refreshToken.secret, joined.secret].sort())
    const expired = emulator.createSession('user-issue-expired', { refreshTtlSeconds: -1 })
    const state = emulator.refreshTokenState(expired.refreshToken.secret)
    assert.equal(state.expired, true)
    assert.equal(state.live, false)
    assert.deepEqual(emulator.liveRefreshTokens(expired.family), [])
  })

  it('faults that answer before the token is read leave it unspent and say so', async () => {
    const session = emulator.createSession('user-fault-before')
    const secret = session.refreshToken.secret

    emulator.faults.refresh = { html: 502 }
    const html = await refresh(secret)
    assert.equal(html.status, 502)
    await html.arrayBuffer()

    emulator.faults.refresh = { status: 503 }
    const status = await refresh(secret)
    assert.equal(status.status, 503)
    await status.arrayBuffer()

    emulator.faults.refresh = { reset: true }
    await assert.rejects(refresh(secret), TypeError)

    emulator.faults.refresh = { hang: true }
    await assert.rejects(refresh(secret, { signal: AbortSignal.timeout(150) }), (error) => error.name === 'TimeoutError')

    assert.deepEqual(results(secret), ['fault-before', 'fault-before', 'fault-before', 'fault-before'])
    assert.equal(emulator.refreshTokenState(secret).live, true)

    emulator.resetFaults()
    const good = await refresh(secret)
    assert.equal(good.status, 200)
    await good.arrayBuffer()
    assert.deepEqual(results(secret), ['fault-before', 'fault-before', 'fault-before', 'fault-before', 'rotated'])
  })

  it('resets the connection on any endpoint', async () => {
    emulator.faults.jwks = { reset: true }
    await assert.rejects(fetch(`${emulator.url}/.well-known/jwks.json`), TypeError)
    emulator.faults.logout = { reset: true }
    const session = emulator.createSession('user-reset-logout')
    await assert.rejects(logout(session.refreshToken.secret), TypeError)
    const state = emulator.refreshTokenState(session.refreshToken.secret)
    assert.equal(state.revoked, false, 'a reset logout revokes nothing')
    assert.deepEqual(
      state.logoutCalls.map((call) => call.result),
      ['fault-before'],
    )
  })

  it('a truncated refresh spends the token and sends half of a good answer', async () => {
    const session = emulator.createSession('user-truncate')
    emulator.faults.refresh = { truncate: true }
    const res = await refresh(session.refreshToken.secret)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type'), /application\/json/)
    const text = await res.text()
    assert.ok(text.startsWith('{"jwt":"'), text)
    assert.throws(() => JSON.parse(text), SyntaxError)

    const spent = emulator.refreshTokenState(session.refreshToken.secret)
    assert.equal(spent.used, true)
    assert.deepEqual(results(session.refreshToken.secret), ['rotated-unusable'])
    // The new token exists and is live, though its holder never learnt it.
    assert.deepEqual(emulator.liveRefreshTokens(session.family), [spent.successor])

    // A refused token under truncate: 401, cut short, recorded as refused.
    const again = await refresh(session.refreshToken.secret)
    assert.equal(again.status, 401)
    const refusal = await again.text()
    assert.ok(refusal.startsWith('{"error":"Unauthorized"'), refusal)
    assert.throws(() => JSON.parse(refusal), SyntaxError)
    assert.deepEqual(results(session.refreshToken.secret), ['rotated-unusable', 'refused'])
  })

  it('truncates the answers of the other endpoints', async () => {
    emulator.faults.jwks = { truncate: true }
    const res = await fetch(`${emulator.url}/.well-known/jwks.json`)
    assert.equal(res.status, 200)
    const text = await res.text()
    const full = JSON.stringify(emulator.jwks)
    assert.equal(text, full.slice(0, Math.floor(full.length / 2)))

    emulator.faults.logout = { truncate: true }
    const session = emulator.createSession('user-truncate-logout')
    assert.equal(await logout(session.refreshToken.secret), 200)
    assert.equal(emulator.refreshTokenState(session.refreshToken.secret).revoked, true, 'the logout itself happened')
  })

  it("a refresh delayed past its caller's deadline still spends the token, marked undelivered", async () => {
    const session = emulator.createSession('user-late')
    emulator.faults.refresh = { delayMs: 300 }
    await assert.rejects(refresh(session.refreshToken.secret, { signal: AbortSignal.timeout(100) }), (error) => error.name === 'TimeoutError')
    const deadline = Date.now() + 3000
    while (emulator.refreshTokenState(session.refreshToken.secret).presentations.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const [presentation] = emulator.refreshTokenState(session.refreshToken.secret).presentations
    assert.equal(presentation.result, 'rotated')
    assert.equal(presentation.delivered, false)
    assert.equal(emulator.refreshTokenState(session.refreshToken.secret).used, true)

    // Within the deadline: a normal rotation, late.
    const next = emulator.refreshTokenState(session.refreshToken.secret).successor
    const started = Date.now()
    const res = await refresh(next)
    assert.equal(res.status, 200)
    await res.arrayBuffer()
    assert.ok(Date.now() - started >= 290)
    assert.deepEqual(
      emulator.refreshTokenState(next).presentations.map((p) => [p.result, p.delivered]),
      [['rotated', undefined]],
    )
  })

  it('a delay can precede another fault', async () => {
    emulator.faults.jwks = { delayMs: 100, html: 503 }
    const started = Date.now()
    const res = await fetch(`${emulator.url}/.well-known/jwks.json`)
    assert.equal(res.status, 503)
    await res.arrayBuffer()
    assert.ok(Date.now() - started >= 90)
  })

  it('applies a fault to the given share of calls', async () => {
    const statuses = async (count) => {
      const seen = []
      for (let i = 0; i < count; i++) {
        const res = await fetch(`${emulator.url}/.well-known/jwks.json`)
        await res.arrayBuffer()
        seen.push(res.status)
      }
      return seen
    }
    emulator.faults.jwks = { status: 503, probability: 0 }
    assert.ok((await statuses(20)).every((status) => status === 200))
    emulator.faults.jwks = { status: 503, probability: 1 }
    assert.ok((await statuses(20)).every((status) => status === 503))
    emulator.faults.jwks = { status: 503, probability: 0.5 }
    const failed = (await statuses(200)).filter((status) => status === 503).length
    assert.ok(failed > 50 && failed < 150, `${failed} of 200 failed`)
    assert.notEqual(emulator.faults.jwks, null)

    // `times` counts only the calls the fault applied to.
    emulator.faults.jwks = { status: 503, probability: 0.5, times: 3 }
    const limited = await statuses(60)
    assert.equal(limited.filter((status) => status === 503).length, 3)
    assert.equal(emulator.faults.jwks, null)
  })

  it('spared calls of an intermittent refresh fault are normal rotations', async () => {
    const session = emulator.createSession('user-intermittent')
    emulator.faults.refresh = { html: 502, probability: 0.5 }
    let secret = session.refreshToken.secret
    let rotations = 0
    for (let i = 0; i < 40; i++) {
      const res = await refresh(secret)
      if (res.status === 200) {
        secret = (await res.json()).refresh.secret
        rotations += 1
      } else {
        assert.equal(res.status, 502)
        await res.arrayBuffer()
      }
    }
    assert.ok(rotations > 5 && rotations < 35, `${rotations} rotations`)
    assert.deepEqual(emulator.liveRefreshTokens(session.family), [secret])
    assert.equal(emulator.refreshTokenState(secret).generation, rotations)
  })
})

describe('crossmint emulator shutdown', () => {
  it('close() resolves while a request is hung', async () => {
    const emulator = await startCrossmintEmulator()
    emulator.faults.refresh = { hang: true }
    const pending = fetch(emulator.url + REFRESH_PATH, {
      method: 'POST',
      headers: { 'x-api-key': emulator.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ refresh: 'x' }),
    })
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    )
    await emulator.waitForRequest((request) => request.path === REFRESH_PATH)
    await emulator.close()
    assert.equal(await outcome, 'failed')
    await emulator.close()
  })

  it('close() resolves while a delayed answer is pending, and honours options.port', async () => {
    const probe = await startCrossmintEmulator()
    const port = Number(new URL(probe.url).port)
    await probe.close()

    const emulator = await startCrossmintEmulator({ port })
    assert.equal(emulator.url, `http://127.0.0.1:${port}`)
    emulator.faults.jwks = { delayMs: 60_000 }
    const outcome = fetch(`${emulator.url}/.well-known/jwks.json`).then(
      () => 'answered',
      () => 'failed',
    )
    await emulator.waitForRequest('/.well-known/jwks.json')
    await emulator.close()
    assert.equal(await outcome, 'failed')
  })
})
