'use strict'
// createCrossmint, exports, getJwksUri, storeAuthMaterial, getUser and
// verifyCrossmintJwt through both SDKs.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { assertSame, asReferenceNaming, withEmulator, reference, ours, describeError, serve, now, jwksUriOf, base58Encode } = require('../helpers/harness.js')
const { TEST_API_KEY, TEST_PROJECT_ID } = require('../../testing/emulator.js')

test('exports: same names and constants (plus the error class)', () => {
  const referenceNames = Object.keys(reference).sort()
  const ourNames = Object.keys(ours).sort()
  assert.deepEqual(
    // Ours adds the error class and Crossmint's current getAuthCookieNames.
    ourNames.filter((n) => n !== 'CrossmintAuthenticationError' && n !== 'getAuthCookieNames'),
    referenceNames,
  )
  for (const name of ['CROSSMINT_API_VERSION', 'SDK_NAME', 'SDK_VERSION']) assert.equal(ours[name], reference[name], name)
  const error = new ours.CrossmintAuthenticationError('x', 'TIMEOUT')
  assert.ok(error instanceof Error)
  assert.equal(error.code, 'TIMEOUT')
})

test('exports: ESM named imports work', async () => {
  const esm = await import('../../index.mjs')
  assert.equal(esm.CrossmintAuth, ours.CrossmintAuth)
  assert.equal(esm.createCrossmint, ours.createCrossmint)
  assert.equal(esm.CrossmintAuthenticationError, ours.CrossmintAuthenticationError)
})

test('createCrossmint: valid key returns the same shape', () => {
  const describe = (c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === 'function' ? 'function' : v]))
  const config = { apiKey: TEST_API_KEY, overrideBaseUrl: 'http://127.0.0.1:1', appId: 'a' }
  assert.deepEqual(describe(ours.createCrossmint(config)), describe(reference.createCrossmint(config)))
  const withJwt = (sdk) => describe(sdk.createCrossmint(config).setJwt('j'))
  assert.deepEqual(withJwt(ours), withJwt(reference))
})

test('createCrossmint: refused keys get the same errors', () => {
  const unsigned = `ck_development_${base58Encode(Buffer.from('project.abc'))}`
  const forged = `ck_development_${base58Encode(Buffer.from(`incorrect_data:${base58Encode(Buffer.alloc(64, 7))}`))}`
  const badKeys = [
    '',
    'sk_live_abc',
    'sk_test_abc',
    'bk_development_x',
    'ck_foo_x',
    'sk_development',
    'sk_development_0OIl',
    unsigned,
    forged,
    TEST_API_KEY.replace('ck_', 'sk_'),
  ]
  const originalError = console.error
  console.error = () => {}
  try {
    for (const apiKey of badKeys) {
      const outcome = (sdk) => {
        try {
          sdk.createCrossmint({ apiKey })
          return 'accepted'
        } catch (error) {
          return describeError(error, Error)
        }
      }
      assert.deepEqual(outcome(ours), outcome(reference), apiKey)
      assert.notEqual(outcome(ours), 'accepted', apiKey)
    }
  } finally {
    console.error = originalError
  }
})

test('getJwksUri follows overrideBaseUrl and the key environment', () => {
  for (const overrideBaseUrl of [undefined, 'http://127.0.0.1:1234', 'http://127.0.0.1:1234/', 'https://example.com/base/']) {
    const uri = (sdk) => sdk.CrossmintAuth.from(sdk.createCrossmint({ apiKey: TEST_API_KEY, overrideBaseUrl })).getJwksUri()
    assert.equal(uri(ours), uri(reference), String(overrideBaseUrl))
  }
})

// Attribute for attribute the reference's strings; ours go under the
// project-scoped names (nothing to go on: no request).
test('storeAuthMaterial: identical Set-Cookie strings for every option and date form', () => {
  const optionSets = [
    undefined,
    { httpOnly: true },
    { secure: true, sameSite: 'Strict', domain: 'example.com' },
    { sameSite: 'None', secure: true },
    { expiresAt: '2031-05-06T07:08:09.000Z', httpOnly: true },
  ]
  const expiries = ['2030-01-02T03:04:05.000Z', '2030-01-02', 'Tue, 01 Jan 2030 00:00:00 GMT', 'garbage', '', undefined]
  for (const cookieOptions of optionSets) {
    for (const expiresAt of expiries) {
      for (const jwt of ['a.b.c', '']) {
        const material = { jwt, refreshToken: { secret: jwt ? 'secret' : '', expiresAt } }
        const cookiesFrom = (sdk, response) => {
          sdk.CrossmintAuth.from(sdk.createCrossmint({ apiKey: TEST_API_KEY }), { cookieOptions }).storeAuthMaterial(response, material)
          return response
        }
        const label = JSON.stringify({ cookieOptions, expiresAt, jwt })
        const ourLines = cookiesFrom(ours, new Response()).headers.getSetCookie()
        assert.ok(
          ourLines.every((line) => line.includes(`-${TEST_PROJECT_ID}=`)),
          label,
        )
        assert.deepEqual(asReferenceNaming(ourLines), cookiesFrom(reference, new Response()).headers.getSetCookie(), label)
        const nodeLike = () => ({
          headers: {},
          setHeader(name, value) {
            this.headers[name] = value
          },
        })
        assert.deepEqual(asReferenceNaming(cookiesFrom(ours, nodeLike()).headers), cookiesFrom(reference, nodeLike()).headers, label)
      }
    }
  }
})

test('getUser: known and unknown users, Crossmint headers', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    emulator.createSession('user-lookup', { email: 'lookup@example.com' })
    const auth = env.auth()
    return [await auth.getUser('user-lookup'), await auth.getUser('nobody')]
  })
  assert.deepEqual(record.value[0], { id: 'user-lookup', email: 'lookup@example.com' })
  assert.equal(record.value[1].error, 'Not Found')
  assert.deepEqual(
    record.crossmint.map((c) => [c.method, c.path]),
    [
      ['GET', '/api/2024-09-26/sdk/auth/user/user-lookup'],
      ['GET', '/api/2024-09-26/sdk/auth/user/nobody'],
    ],
  )
})

test('verifyCrossmintJwt: every supported algorithm, remote and inline key sets', async (t) => {
  const emulator = await withEmulator(t)
  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']) {
    // rsa-1's JWK pins RS256; rsa-ps publishes no alg, so any RSA alg may use it.
    const kid = alg === 'RS384' || alg === 'RS512' ? 'rsa-ps' : undefined
    const token = emulator.signJwt({ sub: `u-${alg}`, exp: now() + 600, custom: { a: [1] } }, { alg, kid })
    const record = await assertSame(emulator, async (sdk) => {
      return [await sdk.verifyCrossmintJwt(token, jwksUriOf(emulator)), await sdk.verifyCrossmintJwt(token, emulator.jwks)]
    })
    assert.equal(record.value[0].sub, `u-${alg}`, alg)
    assert.deepEqual(record.value[0], record.value[1])
  }
})

test('verifyCrossmintJwt: rejected tokens get the reference messages', async (t) => {
  const emulator = await withEmulator(t)
  const jwks = emulator.jwks
  const valid = emulator.signJwt({ sub: 'u', exp: now() + 600 })
  const [h, p, s] = valid.split('.')
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const cases = {
    expired: emulator.signJwt({ sub: 'u', exp: 1700000000 }),
    expiredWithIat: emulator.signJwt({ sub: 'u', iat: 1699990000, exp: 1700000000 }),
    notYetValid: emulator.signJwt({ sub: 'u', nbf: now() + 3600, exp: now() + 7200 }),
    tampered: `${h}.${b64({ sub: 'admin', exp: now() + 600 })}.${s}`,
    otherKeySameKid: emulator.signJwt({ sub: 'u', exp: now() + 600 }, { key: 'unpublished' }),
    unknownKid: emulator.signJwt({ sub: 'u', exp: now() + 600 }, { kid: 'rsa-unpublished', key: 'unpublished' }),
    algNone: emulator.signJwt({ sub: 'u', exp: now() + 600 }, { alg: 'none' }),
    hs256: emulator.signJwt({ sub: 'u', exp: now() + 600 }, { alg: 'HS256', secret: 'secret', kid: 'rsa-1' }),
    wrongAlgForKey: emulator.signJwt({ sub: 'u', exp: now() + 600 }, { alg: 'RS384', kid: 'rsa-1' }),
    expAsString: emulator.signJwt({ sub: 'u', exp: String(now() + 600) }),
    iatAsString: emulator.signJwt({ sub: 'u', iat: 'yesterday', exp: now() + 600 }),
    payloadArray: `${h}.${Buffer.from('[1]').toString('base64url')}.${s}`,
    empty: '',
    oneWord: 'abc',
    twoParts: 'a.b',
    fourParts: `${valid}.x`,
    headerNotJson: `${Buffer.from('nope').toString('base64url')}.${p}.${s}`,
    noAlg: `${b64({ kid: 'rsa-1' })}.${p}.${s}`,
  }
  for (const [name, token] of Object.entries(cases)) {
    const record = await assertSame(emulator, (sdk) => sdk.verifyCrossmintJwt(token, jwks))
    assert.ok(record.error, `${name} must be rejected`)
  }
  await assert.rejects(ours.verifyCrossmintJwt(cases.expired, jwks), {
    message: 'JWT provided expired at timestamp 2023-11-14T22:13:20.000Z',
    code: 'ERR_JWT_EXPIRED',
  })
})

test('verifyCrossmintJwt: malformed key sets', async (t) => {
  const emulator = await withEmulator(t)
  const token = emulator.signJwt({ sub: 'u', exp: now() + 600 })
  for (const jwks of [{}, { keys: 'x' }, { keys: [1] }]) {
    const record = await assertSame(emulator, (sdk) => sdk.verifyCrossmintJwt(token, jwks))
    assert.equal(record.error.message, 'JSON Web Key Set malformed')
  }
})

test('verifyCrossmintJwt: key set URI answering an error or HTML', async (t) => {
  const emulator = await withEmulator(t)
  const token = emulator.signJwt({ sub: 'u', exp: now() + 600 })
  const server = await serve((req, res) => {
    if (req.url === '/500') {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end('{"error":"boom"}')
    } else if (req.url === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>maintenance</html>')
    } else {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"keys": 5}')
    }
  })
  t.after(() => server.close())
  for (const path of ['/500', '/html', '/shape']) {
    const record = await assertSame(emulator, (sdk) => sdk.verifyCrossmintJwt(token, `${server.url}${path}`))
    assert.ok(record.error, path)
  }
})

test('createCrossmint: the second argument (usage origin, environment) is enforced as in the reference', () => {
  const cases = [
    { usageOrigin: 'server' },
    { usageOrigin: 'client' },
    { environment: 'production' },
    { environment: 'staging' },
    { environment: 'development', usageOrigin: 'client' },
    // Names no key has (a typo) refuse the key rather than being ignored.
    { environment: 'DEVELOPMENT' },
    { environment: 'Production' },
    { usageOrigin: 'backend' },
  ]
  for (const expectations of cases) {
    const outcome = (sdk) => {
      try {
        sdk.createCrossmint({ apiKey: TEST_API_KEY }, expectations)
        return 'accepted'
      } catch (error) {
        return describeError(error, Error)
      }
    }
    assert.deepEqual(outcome(ours), outcome(reference), JSON.stringify(expectations))
  }
})

test('verifyCrossmintJwt: JWKs with a leading zero octet in n or e, or a short EC coordinate, verify as in the reference', async (t) => {
  const crypto = require('node:crypto')
  const emulator = await withEmulator(t)
  const encode = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const signed = (alg, privateKey, options) => {
    const input = `${encode({ alg, kid: 'k' })}.${encode({ sub: 'encodings', exp: now() + 600 })}`
    return `${input}.${crypto.sign('sha256', Buffer.from(input), { key: privateKey, ...options }).toString('base64url')}`
  }
  const padded = (member) => Buffer.concat([Buffer.from([0]), Buffer.from(member, 'base64url')]).toString('base64url')
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
  const rsaJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'k' }
  const rsaToken = signed('RS256', rsa.privateKey)
  // A P-256 key whose x starts with a zero octet, published without it.
  let ec
  do ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  while (Buffer.from(ec.publicKey.export({ format: 'jwk' }).x, 'base64url')[0] !== 0)
  const ecJwk = ec.publicKey.export({ format: 'jwk' })
  const ecToken = signed('ES256', ec.privateKey, { dsaEncoding: 'ieee-p1363' })
  for (const [token, key] of [
    [rsaToken, { ...rsaJwk, n: padded(rsaJwk.n) }],
    [rsaToken, { ...rsaJwk, e: padded(rsaJwk.e) }],
    [ecToken, { ...ecJwk, kid: 'k', x: Buffer.from(ecJwk.x, 'base64url').subarray(1).toString('base64url') }],
  ]) {
    const record = await assertSame(emulator, (sdk) => sdk.verifyCrossmintJwt(token, { keys: [key] }))
    assert.equal(record.value.sub, 'encodings')
  }
})
