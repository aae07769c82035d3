'use strict'
// Where the reference SDK is wrong and we deliberately differ. Each test runs
// both SDKs, asserts the reference's faulty behaviour (so the README's
// "Differences" section stays true) and our fixed behaviour. Keep the test
// names in sync with the README.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const {
  runBoth,
  withEmulator,
  serve,
  exchange,
  describeFetchResponse,
  cookieHeaderFor,
  ours,
  authFor,
  now,
  vanillaRefreshRoute,
  expressRefreshRoute,
} = require('../helpers/harness.js')

const HEADERS_SENT = 'Cannot set headers after they are sent to the client'

async function refreshThrough(makeServer, emulator, env, path = '') {
  const server = await makeServer(env.auth())
  try {
    const session = emulator.createSession(`user-${env.name}`)
    return await exchange(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh: session.refreshToken.secret }),
    })
  } finally {
    await server.close()
  }
}

function assertRefreshedWithCookies(record) {
  assert.equal(record.value.status, 200)
  assert.deepEqual(Object.keys(record.value.body), ['jwt', 'refreshToken', 'user'])
  assert.deepEqual(record.value.setCookie, [
    `crossmint-jwt=${record.value.body.jwt}; path=/; SameSite=lax;`,
    `crossmint-refresh-token=${record.value.body.refreshToken.secret}; path=/; SameSite=lax; expires=<http-date>;`,
  ])
  assert.deepEqual(record.logged, [])
  assert.deepEqual(record.unhandledRejections, [])
}

function assertReferenceLostCookies(record) {
  // The body went out before the cookies, so the browser never gets the
  // rotated refresh token and the handler sees an exception.
  assert.equal(record.value.status, 200)
  assert.deepEqual(record.value.setCookie, [])
  assert.ok(record.logged.includes('Error refreshing token'))
}

test('fix: handleCustomRefresh on a node:http response sets the cookies before writing the body', async (t) => {
  const emulator = await withEmulator(t)
  const { reference, ours: mine } = await runBoth(emulator, (sdk, env) => refreshThrough(vanillaRefreshRoute, emulator, env))
  assertReferenceLostCookies(reference)
  assertRefreshedWithCookies(mine)
})

test('fix: handleCustomRefresh with Express and express.json() sets the cookies', async (t) => {
  const emulator = await withEmulator(t)
  const make = (auth) => expressRefreshRoute(auth, { json: true })
  const { reference, ours: mine } = await runBoth(emulator, (sdk, env) => refreshThrough(make, emulator, env, '/refresh'))
  assertReferenceLostCookies(reference)
  assertRefreshedWithCookies(mine)
})

test('fix: handleCustomRefresh with Express reading the raw body sets the cookies', async (t) => {
  const emulator = await withEmulator(t)
  const make = (auth) => expressRefreshRoute(auth, { json: false })
  const { reference, ours: mine } = await runBoth(emulator, (sdk, env) => refreshThrough(make, emulator, env, '/refresh'))
  assertReferenceLostCookies(reference)
  assertRefreshedWithCookies(mine)
})

test('fix: a failed refresh on a node:http response clears the cookies and raises no unhandled rejection', async (t) => {
  const emulator = await withEmulator(t)
  const { reference, ours: mine } = await runBoth(emulator, async (sdk, env) => {
    const server = await vanillaRefreshRoute(env.auth())
    try {
      const session = emulator.createSession(`user-revoked-${env.name}`)
      emulator.revokeRefreshToken(session.refreshToken.secret)
      return await exchange(server.url, { method: 'POST', cookie: cookieHeaderFor(session) })
    } finally {
      await server.close()
    }
  })
  for (const record of [reference, mine]) {
    assert.equal(record.value.status, 401)
    assert.deepEqual(record.value.body, { error: 'Unauthorized', message: 'Unauthorized' })
    assert.equal(record.crossmint.at(-1).path, '/api/2024-09-26/session/sdk/auth/logout')
  }
  assert.deepEqual(reference.value.setCookie, [])
  assert.deepEqual(reference.unhandledRejections, [HEADERS_SENT])
  assert.equal(mine.value.setCookie.length, 2)
  assert.match(mine.value.setCookie[1], /^crossmint-refresh-token=; .*expires=Thu, 01 Jan 1970 00:00:00 UTC;$/)
  assert.deepEqual(mine.unhandledRejections, [])
})

test('fix: getSession failing on a node:http response clears the cookies before it rejects', async (t) => {
  const emulator = await withEmulator(t)
  const { reference, ours: mine } = await runBoth(emulator, async (sdk, env) => {
    const auth = env.auth()
    const server = await serve(async (req, res) => {
      try {
        await auth.getSession(req, res)
        res.end('ok')
      } catch (error) {
        res.statusCode = 401
        res.end(error.message)
      }
    })
    try {
      const session = emulator.createSession(`user-gone-${env.name}`, { jwtTtlSeconds: -5 })
      emulator.revokeRefreshToken(session.refreshToken.secret)
      return await exchange(server.url, { cookie: cookieHeaderFor(session) })
    } finally {
      await server.close()
    }
  })
  for (const record of [reference, mine]) {
    assert.equal(record.value.status, 401)
    assert.equal(record.value.body, 'Failed to get session')
    // Both revoke the dead refresh token at Crossmint.
    assert.deepEqual(
      record.crossmint.map((c) => c.path.split('/').at(-1)),
      ['refresh', 'logout'],
    )
  }
  assert.deepEqual(reference.value.setCookie, [])
  assert.deepEqual(reference.unhandledRejections, [HEADERS_SENT])
  assert.equal(mine.value.setCookie.length, 2)
  assert.deepEqual(mine.unhandledRejections, [])
})

test('fix: handleCustomRefresh with a Fetch body that is not JSON answers 401 instead of throwing', async (t) => {
  const emulator = await withEmulator(t)
  const { reference, ours: mine } = await runBoth(emulator, async (sdk, env) => {
    const request = new Request('http://app.test/api/refresh', { method: 'POST', body: 'refresh=abc' })
    return describeFetchResponse(await env.auth().handleCustomRefresh(request))
  })
  assert.equal(reference.error.kind, 'SyntaxError')
  assert.equal(mine.value.status, 401)
  assert.deepEqual(mine.value.body, {
    error: 'Unauthorized',
    message: 'Please provide a refresh token either in the request body or cookies',
  })
})

test('fix: a Fetch body that is not JSON still falls back to the refresh cookie', async (t) => {
  const emulator = await withEmulator(t)
  const session = emulator.createSession('user-cookie-fallback')
  const request = new Request('http://app.test/api/refresh', {
    method: 'POST',
    headers: { cookie: cookieHeaderFor(session) },
    body: '',
  })
  const auth = ours.CrossmintAuth.from(ours.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }))
  const response = await auth.handleCustomRefresh(request)
  assert.equal(response.status, 200)
  assert.equal((await response.json()).user.id, 'user-cookie-fallback')
})

test('fix: cookie values keep "=" padding and the first of two duplicates wins', async (t) => {
  const emulator = await withEmulator(t)
  const secret = emulator.issueRefreshToken('user-padding').secret
  // Crossmint's secrets are unpadded today; a padded one must still arrive intact.
  const padded = `${secret}==`
  const { reference, ours: mine } = await runBoth(emulator, async (sdk, env) => {
    const request = new Request('http://app.test/', {
      headers: { cookie: `crossmint-refresh-token=${padded}; crossmint-refresh-token=stale` },
    })
    return env.auth().getSession(request)
  })
  assert.equal(reference.crossmint[0].body.refresh, 'stale')
  assert.equal(mine.crossmint[0].body.refresh.endsWith('=='), true)
})

test('fix: getUser cannot be steered to another Crossmint path by the user id', async (t) => {
  const emulator = await withEmulator(t)
  const { reference, ours: mine } = await runBoth(emulator, async (sdk, env) => {
    return env.auth().getUser('../../session/sdk/auth/logout')
  })
  assert.equal(reference.crossmint[0].path, '/api/2024-09-26/sdk/session/sdk/auth/logout')
  assert.equal(mine.crossmint[0].path, '/api/2024-09-26/sdk/auth/user/..%2F..%2Fsession%2Fsdk%2Fauth%2Flogout')
})

test('fix: the key set is fetched once and reused, not once per verification', async (t) => {
  const emulator = await withEmulator(t)
  const sessions = [1, 2, 3].map((n) => emulator.createSession(`user-cache-${n}`))
  const jwksFetches = {}
  for (const [name, sdk] of [
    ['reference', require('@crossmint/server-sdk')],
    ['ours', ours],
  ]) {
    emulator.clearRequests()
    const auth = sdk.CrossmintAuth.from(sdk.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }))
    for (const s of sessions) await auth.getSession({ jwt: s.jwt, refreshToken: s.refreshToken.secret })
    jwksFetches[name] = emulator.requests.filter((r) => r.path === '/.well-known/jwks.json').length
  }
  assert.deepEqual(jwksFetches, { reference: 3, ours: 1 })
})

test('fix: a plain { headers: { cookie } } object is read as a Node request', async (t) => {
  const emulator = await withEmulator(t)
  const session = emulator.createSession('user-plain-headers')
  const { reference, ours: mine } = await runBoth(emulator, (sdk, env) => env.auth().getSession({ headers: { cookie: cookieHeaderFor(session) } }))
  assert.equal(reference.error.kind, 'TypeError')
  assert.equal(mine.value.userId, 'user-plain-headers')
})

test('fix: a hanging Crossmint fails the session after the configured timeout', async (t) => {
  const emulator = await withEmulator(t)
  const session = emulator.createSession('user-hang', { jwtTtlSeconds: -1 })
  emulator.faults.refresh = { hang: true }
  const auth = authFor(emulator, { timeoutMs: 300 })
  await assert.rejects(auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }), {
    message: 'Failed to get session',
    code: 'TIMEOUT',
  })
})

test('fix: undefined or null arguments get clear errors instead of TypeErrors', async () => {
  assert.throws(() => ours.createCrossmint({ apiKey: undefined }), { message: "Malformed API key. Must start with 'ck' or 'sk'." })
  assert.throws(() => ours.createCrossmint(undefined), { name: 'TypeError', message: /expects a config object/ })
  const auth = ours.CrossmintAuth.from(ours.createCrossmint({ apiKey: require('../../testing/emulator.js').TEST_API_KEY }), { logger: false })
  for (const input of [null, undefined]) {
    await assert.rejects(auth.getSession(input), { name: 'CrossmintAuthenticationError', message: 'No auth material found' })
  }
  await assert.rejects(auth.getSession('text'), { name: 'CrossmintAuthenticationError', message: 'No cookies found in request' })
})

test('fix: a Node request whose body was already consumed does not hang handleCustomRefresh', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const server = await serve(async (req, res) => {
    for await (const chunk of req) void chunk // some other middleware read the stream
    await auth.handleCustomRefresh(req, res)
    res.end()
  })
  t.after(() => server.close())
  const session = emulator.createSession('user-consumed')
  const answer = await exchange(server.url, { method: 'POST', cookie: cookieHeaderFor(session), body: '{"refresh":"ignored"}' })
  assert.equal(answer.status, 200)
  assert.equal(answer.body.user.id, 'user-consumed')
})

test('fix: a 2xx refresh answer that is not JSON at all is a clear 503 that leaves the cookies alone', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  emulator.faults.refresh = { status: 200, body: '<html>maintenance</html>', contentType: 'text/html' }
  const response = await auth.handleCustomRefresh(new Request('http://app.test/', { method: 'POST', body: '{"refresh":"r"}' }))
  const body = await response.json()
  assert.equal(response.status, 503)
  assert.equal(body.error, 'Service Unavailable')
  assert.match(body.message, /not JSON/)
  assert.deepEqual(response.headers.getSetCookie(), [])
})

test('fix: an unusable JSON refresh answer ends the session (the token is spent), revokes what it issued, and is not retried', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  for (const [fault, issued] of [
    [{ status: 200, body: '{"jwt":"x"', contentType: 'application/json' }, undefined],
    [{ status: 200, body: '{"jwt":"x","refresh":{"secret":"issued-secret"}}', contentType: 'application/json' }, 'issued-secret'],
  ]) {
    const session = emulator.createSession('unusable-answer')
    emulator.clearRequests()
    emulator.faults.refresh = { ...fault, times: 1 }
    const refresh = () =>
      auth.handleCustomRefresh(new Request('http://app.test/', { method: 'POST', body: JSON.stringify({ refresh: session.refreshToken.secret }) }))
    const response = await refresh()
    const body = await response.json()
    assert.equal(response.status, 401, JSON.stringify(body))
    assert.match(body.message, /not JSON|Invalid refresh response/)
    assert.equal(response.headers.getSetCookie().length, 2, 'the session cookies are cleared')
    const revoked = emulator.requests.filter((r) => r.path.endsWith('/logout')).map((r) => r.json && r.json.refresh)
    assert.deepEqual(
      revoked.filter((secret) => secret === issued),
      issued === undefined ? [] : [issued],
      'what Crossmint issued is revoked',
    )
    // The same token again: answered here, never presented to Crossmint twice.
    assert.equal((await refresh()).status, 401)
    const presented = emulator.requests.filter((r) => r.path.endsWith('/refresh')).length
    assert.equal(presented, 1)
  }
})

test('fix: tokens with base64 padding or a trailing newline are refused', async (t) => {
  const emulator = await withEmulator(t)
  const token = emulator.signJwt({ sub: 'u', exp: now() + 600 })
  assert.equal((await ours.verifyCrossmintJwt(token, emulator.jwks)).sub, 'u')
  for (const variant of [`${token}=`, `${token}\n`]) {
    await assert.rejects(ours.verifyCrossmintJwt(variant, emulator.jwks), { message: 'signature verification failed' })
  }
})

test('fix: concurrent requests with one expired session refresh once instead of logging the user out', async (t) => {
  const emulator = await withEmulator(t)
  const { reference, ours: mine } = await runBoth(emulator, async (sdk, env) => {
    const session = emulator.createSession(`burst-${env.name}`, { jwtTtlSeconds: -1 })
    const auth = env.auth()
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })),
    )
    return outcomes.map((o) => o.status)
  })
  const refreshes = (record) => record.crossmint.filter((c) => c.path.endsWith('/refresh')).length
  assert.equal(refreshes(reference), 10)
  assert.equal(reference.value.filter((s) => s === 'rejected').length, 9)
  assert.equal(refreshes(mine), 1)
  assert.deepEqual(mine.value, Array(10).fill('fulfilled'))
})

test('fix: a Crossmint outage during handleCustomRefresh keeps the session cookies', async (t) => {
  const emulator = await withEmulator(t)
  const { reference, ours: mine } = await runBoth(emulator, async (sdk, env) => {
    emulator.faults.refresh = { status: 503 }
    const request = new Request('http://app.test/', { method: 'POST', body: JSON.stringify({ refresh: 'still-valid' }) })
    return describeFetchResponse(await env.auth().handleCustomRefresh(request))
  })
  assert.equal(reference.value.status, 401)
  assert.equal(reference.value.setCookie.length, 2)
  assert.equal(mine.value.status, 503)
  assert.deepEqual(mine.value.setCookie, [])
  assert.deepEqual(
    mine.crossmint.map((c) => c.path.split('/').at(-1)),
    ['refresh'],
    'no logout call',
  )
})

test('fix: with refreshRoute, a Crossmint outage behind the route keeps the session', async (t) => {
  const emulator = await withEmulator(t)
  const routeAuth = authFor(emulator)
  const route = await serve(async (req, res) => {
    await routeAuth.handleCustomRefresh(req, res)
    res.end()
  })
  t.after(() => route.close())
  const auth = authFor(emulator, { refreshRoute: route.url })
  emulator.faults.refresh = { status: 503 }
  const session = emulator.createSession('route-outage', { jwtTtlSeconds: -1 })
  const response = new Response()
  await assert.rejects(auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret }, response), {
    code: 'CROSSMINT_UNAVAILABLE',
  })
  assert.deepEqual(response.headers.getSetCookie(), [])
  emulator.resetFaults()
  assert.equal((await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })).userId, 'route-outage')
})

test('fix: logging out ends the rotation grace window for the replaced token', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  const first = emulator.createSession('grace-user')
  const refresh = (token) => auth.handleCustomRefresh(new Request('http://app.test/', { method: 'POST', body: JSON.stringify({ refresh: token }) }))
  const rotated = await (await refresh(first.refreshToken.secret)).json()
  // Within the window, the old token still yields the new session...
  assert.equal((await refresh(first.refreshToken.secret)).status, 200)
  // ...until the user logs out with the new one.
  await auth.logout(new Request('http://app.test/', { headers: { cookie: `crossmint-refresh-token=${rotated.refreshToken.secret}` } }))
  assert.equal((await refresh(first.refreshToken.secret)).status, 401)
})

test('fix: user ids that URL parsers would resolve as path steps are refused before any request', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  for (const id of ['', '.', '..']) {
    await assert.rejects(auth.getUser(id), { code: 'INVALID_INPUT' })
  }
  assert.deepEqual(emulator.requests, [])
  await auth.getUser('.%2E')
  assert.equal(emulator.requests[0].path, '/api/2024-09-26/sdk/auth/user/.%252E')
})

test("fix: getUser fails a Crossmint 5xx as an outage (as Crossmint's current SDK does) instead of returning the error body as the user", async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  for (const fault of [
    { status: 503, times: 1 },
    { html: 502, times: 1 },
  ]) {
    emulator.faults.user = fault
    await assert.rejects(auth.getUser('user-lookup'), (error) => {
      assert.equal(error.code, 'CROSSMINT_UNAVAILABLE')
      assert.match(error.message, /^API request failed: 50[23] /)
      return true
    })
  }
  emulator.faults.user = { status: 404, times: 1 }
  assert.equal(typeof (await auth.getUser('user-lookup')), 'object', 'a 4xx is still returned as Crossmint answered it')
})
