'use strict'
// getSession through both SDKs: plain objects, Fetch requests, node:http and
// Express servers built as in Crossmint's docs. Each test asserts that ours
// and the reference produce the same record (see harness.js).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { assertSame, withEmulator, serve, serveExpress, exchange, cookieHeaderFor } = require('../helpers/harness.js')

test('getSession: plain object with a valid JWT', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-valid')
    return env.auth().getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  })
  assert.equal(record.value.userId, 'user-valid')
  assert.equal(record.value.refreshToken.expiresAt, '')
  assert.deepEqual(record.crossmint, [])
})

test('getSession: plain object with an expired JWT refreshes', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-expired', { jwtTtlSeconds: -60 })
    return env.auth().getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  })
  assert.equal(record.value.userId, 'user-expired')
  assert.equal(record.value.refreshToken.expiresAt, '<iso-date>')
  assert.equal(record.crossmint.length, 1)
  assert.equal(record.crossmint[0].path, '/api/2024-09-26/session/sdk/auth/refresh')
  assert.equal(record.crossmint[0].headers['x-client-name'], '@crossmint/common-sdk-auth')
})

test('getSession: no JWT, only a refresh token, refreshes', async (t) => {
  const emulator = await withEmulator(t)
  await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-nojwt')
    return env.auth().getSession({ refreshToken: session.refreshToken.secret })
  })
})

test('getSession: garbage JWT falls back to refresh', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-garbage')
    return env.auth().getSession({ jwt: 'not.a.jwt', refreshToken: session.refreshToken.secret })
  })
  assert.equal(record.value.userId, 'user-garbage')
})

test('getSession: JWT signed by an unpublished key is not trusted', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-forged')
    const now = Math.floor(Date.now() / 1000)
    const forged = emulator.signJwt({ sub: 'admin', iat: now, exp: now + 3600 }, { key: 'unpublished' })
    return env.auth().getSession({ jwt: forged, refreshToken: session.refreshToken.secret })
  })
  // The forged subject never wins: the refresh token decides who this is.
  assert.equal(record.value.userId, 'user-forged')
  assert.equal(record.crossmint.length, 1)
})

test('getSession: missing refresh token', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    return env.auth().getSession({ jwt: 'x', refreshToken: '' })
  })
  assert.deepEqual(record.error, { kind: 'CrossmintAuthenticationError', message: 'Refresh token not found' })
})

test('getSession: revoked refresh token and expired JWT fails and clears cookies on a Fetch Response', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-revoked', { jwtTtlSeconds: -10 })
    emulator.revokeRefreshToken(session.refreshToken.secret)
    const response = new Response()
    const outcome = {}
    try {
      await env.auth().getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }, response)
    } catch (error) {
      outcome.error = { message: error.message, isAuthError: error instanceof env.AuthError }
    }
    outcome.setCookie = response.headers.getSetCookie()
    return outcome
  })
  assert.deepEqual(record.value.error, { message: 'Failed to get session', isAuthError: true })
  assert.equal(record.value.setCookie.length, 2)
  assert.match(record.value.setCookie[0], /^crossmint-jwt=; path=\/; SameSite=lax; expires=Thu, 01 Jan 1970 00:00:00 UTC;$/)
  assert.deepEqual(record.logged, ['Failed to get session'])
})

test('getSession: refresh stores new cookies on a Fetch Response with custom cookie options', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-cookies', { jwtTtlSeconds: -10 })
    const response = new Response()
    const auth = env.auth({ cookieOptions: { httpOnly: true, secure: true, sameSite: 'Strict', domain: 'example.com' } })
    const result = await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }, response)
    return { result, setCookie: response.headers.getSetCookie() }
  })
  assert.match(record.value.setCookie[1], /HttpOnly; Secure; Domain=example.com; expires=<http-date>;$/)
})

test('getSession: Fetch Request with session cookies', async (t) => {
  const emulator = await withEmulator(t)
  await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-fetch')
    const request = new Request('http://app.test/dashboard', { headers: { cookie: cookieHeaderFor(session) } })
    return env.auth().getSession(request)
  })
})

test('getSession: Fetch Request without cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    return env.auth().getSession(new Request('http://app.test/'))
  })
  assert.deepEqual(record.error, { kind: 'CrossmintAuthenticationError', message: 'No cookies found in request' })
})

test('getSession: Fetch Request with only a JWT cookie', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-jwt-only')
    const request = new Request('http://app.test/', { headers: { cookie: `crossmint-jwt=${session.jwt}; theme=dark` } })
    return env.auth().getSession(request)
  })
  assert.equal(record.error.message, 'Refresh token not found')
})

test('getSession: Fetch Request with an expired JWT stores refreshed cookies on a Fetch Response', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-fetch-refresh', { jwtTtlSeconds: -5 })
    const request = new Request('http://app.test/', { headers: { cookie: cookieHeaderFor(session) } })
    const response = new Response(null)
    const result = await env.auth().getSession(request, response)
    return { result, setCookie: response.headers.getSetCookie() }
  })
  assert.equal(record.value.setCookie.length, 2)
})

// The seeds' vanilla node:http server, unchanged but for the SDK it is given.
function vanillaServer(auth) {
  return serve(async (req, res) => {
    try {
      const { jwt, refreshToken, userId } = await auth.getSession(req, res)
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ jwt, refreshToken, userId }))
    } catch (error) {
      res.writeHead(500, { 'Content-Type': 'application/json' })
      res.end(JSON.stringify({ error: error.message }))
    }
  })
}

test('node:http: valid session cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaServer(env.auth())
    try {
      return await exchange(server.url, { cookie: cookieHeaderFor(emulator.createSession('user-http')) })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 200)
  assert.equal(record.value.body.userId, 'user-http')
  assert.deepEqual(record.value.setCookie, [])
})

test('node:http: expired JWT cookie is refreshed and new cookies are set', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaServer(env.auth({ cookieOptions: { httpOnly: true } }))
    try {
      return await exchange(server.url, { cookie: cookieHeaderFor(emulator.createSession('user-http2', { jwtTtlSeconds: -1 })) })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 200)
  const { jwt, refreshToken } = record.value.body
  assert.deepEqual(record.value.setCookie, [
    `crossmint-jwt=${jwt}; path=/; SameSite=lax;`,
    `crossmint-refresh-token=${refreshToken.secret}; path=/; SameSite=lax; HttpOnly; expires=<http-date>;`,
  ])
  // The old refresh token went to Crossmint; the browser gets the rotated one.
  assert.notEqual(record.crossmint[0].body.refresh, refreshToken.secret)
})

test('node:http: request without cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaServer(env.auth())
    try {
      return await exchange(server.url)
    } finally {
      await server.close()
    }
  })
  assert.deepEqual(record.value.body, { error: 'No cookies found in request' })
})

test('node:http: unrelated cookies only', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaServer(env.auth())
    try {
      return await exchange(server.url, { cookie: 'theme=dark; lang=en' })
    } finally {
      await server.close()
    }
  })
  assert.deepEqual(record.value.body, { error: 'Refresh token not found' })
})

// The seeds' Express middleware and protected route.
function expressApp(auth) {
  return serveExpress((app, express) => {
    app.use(express.json())
    app.use(async (req, res, next) => {
      if (req.method !== 'GET') return next()
      try {
        const { jwt, userId } = await auth.getSession(req, res)
        req.user = { userId, jwt }
        next()
      } catch {
        res.status(401).json({ error: 'Authentication failed' })
      }
    })
    app.get('/protected', (req, res) => {
      res.json({ message: 'Protected route', userId: req.user.userId })
    })
  })
}

test('Express: protected route with a valid session', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await expressApp(env.auth())
    try {
      return await exchange(`${server.url}/protected`, { cookie: cookieHeaderFor(emulator.createSession('user-express')) })
    } finally {
      await server.close()
    }
  })
  assert.deepEqual(record.value.body, { message: 'Protected route', userId: 'user-express' })
})

test('Express: protected route with an expired JWT refreshes and sets cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await expressApp(env.auth({ cookieOptions: { secure: true, sameSite: 'None' } }))
    try {
      return await exchange(`${server.url}/protected`, {
        cookie: cookieHeaderFor(emulator.createSession('user-express2', { jwtTtlSeconds: -30 })),
      })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 200)
  assert.equal(record.value.setCookie.length, 2)
  assert.match(record.value.setCookie[0], /SameSite=None; Secure;$/)
})

test('Express: protected route without cookies answers 401', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await expressApp(env.auth())
    try {
      return await exchange(`${server.url}/protected`)
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 401)
  assert.deepEqual(record.value.body, { error: 'Authentication failed' })
})

test('getSession: ES256 and EdDSA sessions verify', async (t) => {
  const emulator = await withEmulator(t)
  for (const alg of ['ES256', 'EdDSA', 'PS256', 'ES384']) {
    const record = await assertSame(emulator, async (sdk, env) => {
      const session = emulator.createSession(`user-${alg}`, { alg })
      return env.auth().getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
    })
    assert.equal(record.value.userId, `user-${alg}`, alg)
    assert.deepEqual(record.crossmint, [], `${alg} must verify without a refresh`)
  }
})

test('getSession: Crossmint headers carry appId, extensionId and the configured jwt', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-headers', { jwtTtlSeconds: -1 })
    const auth = env.auth({}, { appId: 'app-123', extensionId: 'ext-9', jwt: 'server.jwt.value' })
    return auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  })
  assert.deepEqual(record.crossmint[0].headers, {
    'x-api-key': emulator.apiKey,
    'x-client-name': '@crossmint/common-sdk-auth',
    'x-client-version': '1.0.52',
    'x-app-identifier': 'app-123',
    'x-extension-id': 'ext-9',
    authorization: 'Bearer server.jwt.value',
    'content-type': 'application/json',
  })
})

// An app's own refresh route, written Fetch-style as in the seeds' Next.js
// example, served by node:http.
function fetchStyleRefreshRoute(auth) {
  return serve(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const request = new Request(`http://app.test${req.url}`, { method: req.method, headers: req.headers, body: Buffer.concat(chunks) })
    const response = await auth.handleCustomRefresh(request)
    res.writeHead(response.status, response.statusText, [...response.headers])
    res.end(Buffer.from(await response.arrayBuffer()))
  })
}

test('getSession with refreshRoute refreshes through the app route', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const route = await fetchStyleRefreshRoute(env.auth())
    try {
      const session = emulator.createSession('user-route', { jwtTtlSeconds: -1 })
      const response = new Response()
      const auth = env.auth({ refreshRoute: `${route.url}/api/refresh` })
      const result = await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }, response)
      return { result, setCookie: response.headers.getSetCookie() }
    } finally {
      await route.close()
    }
  })
  assert.equal(record.value.result.userId, 'user-route')
  assert.equal(record.value.setCookie.length, 2)
  assert.equal(record.crossmint.length, 1)
})

test('getSession with refreshRoute: the route refuses the token', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const route = await fetchStyleRefreshRoute(env.auth())
    try {
      const auth = env.auth({ refreshRoute: `${route.url}/api/refresh` })
      return await auth.getSession({ refreshToken: 'not-a-real-token' })
    } finally {
      await route.close()
    }
  })
  assert.deepEqual(record.error, { kind: 'CrossmintAuthenticationError', message: 'Failed to get session' })
})
