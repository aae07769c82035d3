'use strict'
// handleCustomRefresh and logout through both SDKs, where the reference
// behaves correctly: Fetch requests and responses, and the Node failure paths.
// The Node success paths, where the reference is broken, are in fixes.test.js.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const {
  assertSame,
  runBoth,
  withEmulator,
  serve,
  serveExpress,
  exchange,
  describeFetchResponse,
  cookieHeaderFor,
  expressRefreshRoute,
} = require('../helpers/harness.js')

function refreshRequest(body, cookie) {
  return new Request('http://app.test/api/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
}

test('handleCustomRefresh (Fetch): refresh token in the body', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-fetch-body')
    const response = await env.auth().handleCustomRefresh(refreshRequest({ refresh: session.refreshToken.secret }))
    return describeFetchResponse(response)
  })
  assert.equal(record.value.status, 200)
  assert.equal(record.value.contentType, 'application/json')
  assert.deepEqual(Object.keys(record.value.body), ['jwt', 'refreshToken', 'user'])
  assert.equal(record.value.body.user.id, 'user-fetch-body')
  assert.equal(record.value.setCookie.length, 2)
})

test('handleCustomRefresh (Fetch): refresh token from the cookie', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-fetch-cookie')
    const response = await env.auth({ cookieOptions: { httpOnly: true } }).handleCustomRefresh(refreshRequest({}, cookieHeaderFor(session)))
    return describeFetchResponse(response)
  })
  assert.equal(record.value.status, 200)
  assert.match(record.value.setCookie[1], /HttpOnly; expires=<http-date>;$/)
})

test('handleCustomRefresh (Fetch): no refresh token anywhere', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    return describeFetchResponse(await env.auth().handleCustomRefresh(refreshRequest({})))
  })
  assert.equal(record.value.status, 401)
  assert.equal(record.value.statusText, 'Unauthorized')
  assert.deepEqual(record.value.body, {
    error: 'Unauthorized',
    message: 'Please provide a refresh token either in the request body or cookies',
  })
  assert.equal(record.value.setCookie.length, 2)
  assert.deepEqual(record.crossmint, [])
})

test('handleCustomRefresh (Fetch): revoked token in the body', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-fetch-revoked')
    emulator.revokeRefreshToken(session.refreshToken.secret)
    return describeFetchResponse(await env.auth().handleCustomRefresh(refreshRequest({ refresh: session.refreshToken.secret })))
  })
  assert.equal(record.value.status, 401)
  assert.deepEqual(record.value.body, { error: 'Unauthorized', message: 'Unauthorized' })
})

test('handleCustomRefresh (Fetch): a refresh token is single-use (without the rotation grace); ours does not present it twice', async (t) => {
  const emulator = await withEmulator(t)
  const records = await runBoth(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-fetch-twice')
    const auth = env.auth({ refreshGraceSeconds: 0 })
    const first = await describeFetchResponse(await auth.handleCustomRefresh(refreshRequest({ refresh: session.refreshToken.secret })))
    const second = await describeFetchResponse(await auth.handleCustomRefresh(refreshRequest({ refresh: session.refreshToken.secret })))
    return [first.status, second.status]
  })
  for (const record of [records.reference, records.ours]) assert.deepEqual(record.value, [200, 401])
  const refreshes = (record) => record.crossmint.filter((call) => call.path.endsWith('/refresh')).map((call) => call.body.refresh)
  // The reference presents the rotated token again and Crossmint refuses it;
  // ours knows it exchanged that token and answers without asking.
  assert.deepEqual(refreshes(records.reference), ['<secret#1>', '<secret#1>'])
  assert.deepEqual(refreshes(records.ours), ['<secret#1>'])
})

test('handleCustomRefresh: Node request without a response answers with a Fetch Response', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const auth = env.auth()
    let seen
    const server = await serve(async (req, res) => {
      const answer = await auth.handleCustomRefresh(req)
      seen = { isFetchResponse: answer instanceof Response, ...(await describeFetchResponse(answer)) }
      res.end()
    })
    try {
      const session = emulator.createSession('user-node-nores')
      await exchange(server.url, { method: 'POST', body: JSON.stringify({ refresh: session.refreshToken.secret }) })
      return seen
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.isFetchResponse, true)
  assert.equal(record.value.status, 200)
})

// The seeds' vanilla /refresh and /logout routes.
function vanillaRoutes(auth) {
  return serve(async (req, res) => {
    if (req.method === 'POST' && req.url === '/refresh') {
      try {
        await auth.handleCustomRefresh(req, res)
      } catch (error) {
        console.error('Error refreshing token', error)
      }
      res.end()
      return
    }
    if (req.method === 'POST' && req.url === '/logout') {
      try {
        await auth.logout(req, res)
      } catch (error) {
        console.error('Error logging out', error)
      }
      res.end()
      return
    }
    res.writeHead(404)
    res.end()
  })
}

test('node:http /refresh: no token and no cookies answers 401 with cleared cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaRoutes(env.auth())
    try {
      return await exchange(`${server.url}/refresh`, { method: 'POST', body: '{}' })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 401)
  assert.equal(record.value.statusText, 'Unauthorized')
  assert.equal(record.value.setCookie.length, 2)
  assert.deepEqual(record.unhandledRejections, [])
})

test('node:http /refresh: revoked token in the body, no cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaRoutes(env.auth())
    try {
      const session = emulator.createSession('user-node-revoked')
      emulator.revokeRefreshToken(session.refreshToken.secret)
      return await exchange(`${server.url}/refresh`, { method: 'POST', body: JSON.stringify({ refresh: session.refreshToken.secret }) })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 401)
  assert.deepEqual(record.value.body, { error: 'Unauthorized', message: 'Unauthorized' })
})

test('node:http /refresh: body that is not JSON, no cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaRoutes(env.auth())
    try {
      return await exchange(`${server.url}/refresh`, { method: 'POST', body: 'refresh=abc' })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 401)
})

test('Express /refresh with express.json(): no token answers 401', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await expressRefreshRoute(env.auth(), { json: true })
    try {
      return await exchange(`${server.url}/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"refresh":null}' })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.status, 401)
})

test('node:http /logout: revokes the refresh token and clears both cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaRoutes(env.auth({ cookieOptions: { domain: 'example.com' } }))
    try {
      const session = emulator.createSession('user-logout')
      const answer = await exchange(`${server.url}/logout`, { method: 'POST', cookie: cookieHeaderFor(session) })
      const refreshAfter = await fetch(`${emulator.url}/api/2024-09-26/session/sdk/auth/refresh`, {
        method: 'POST',
        headers: { 'x-api-key': emulator.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ refresh: session.refreshToken.secret }),
      })
      return { answer, refreshAfterLogout: refreshAfter.status }
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.answer.status, 200)
  assert.deepEqual(record.value.answer.setCookie, [
    'crossmint-jwt=; path=/; SameSite=lax; Domain=example.com; expires=Thu, 01 Jan 1970 00:00:00 UTC;',
    'crossmint-refresh-token=; path=/; SameSite=lax; Domain=example.com; expires=Thu, 01 Jan 1970 00:00:00 UTC;',
  ])
  assert.equal(record.value.refreshAfterLogout, 401)
  assert.equal(record.crossmint[0].path, '/api/2024-09-26/session/sdk/auth/logout')
})

test('node:http /logout without cookies: no Crossmint call, cookies cleared', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const server = await vanillaRoutes(env.auth())
    try {
      return await exchange(`${server.url}/logout`, { method: 'POST' })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.setCookie.length, 2)
  assert.deepEqual(record.crossmint, [])
  assert.deepEqual(record.logged, ['Error: No cookies found in request'])
})

test('logout (Fetch): request with cookies returns a new Response with cleared cookies', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const session = emulator.createSession('user-fetch-logout')
    const request = new Request('http://app.test/api/logout', { method: 'POST', headers: { cookie: cookieHeaderFor(session) } })
    const response = await env.auth().logout(request)
    return { isResponse: response instanceof Response, ...(await describeFetchResponse(response)) }
  })
  assert.equal(record.value.isResponse, true)
  assert.equal(record.value.status, 200)
  assert.equal(record.crossmint.length, 1)
})

test('logout (no arguments): a new Response with cleared cookies, no Crossmint call', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => describeFetchResponse(await env.auth().logout()))
  assert.equal(record.value.setCookie.length, 2)
  assert.deepEqual(record.crossmint, [])
})

test('logout: given Fetch Response is the one returned', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const response = new Response('bye', { status: 202 })
    const returned = await env.auth().logout(undefined, response)
    return { same: returned === response, ...(await describeFetchResponse(returned)) }
  })
  assert.equal(record.value.same, true)
  assert.equal(record.value.status, 202)
})

test('Express /logout: cookies cleared on the Express response', async (t) => {
  const emulator = await withEmulator(t)
  const record = await assertSame(emulator, async (sdk, env) => {
    const auth = env.auth()
    const server = await serveExpress((app, express) => {
      app.use(express.json())
      app.post('/logout', async (req, res) => {
        try {
          await auth.logout(req, res)
        } catch (error) {
          console.error('Error logging out', error)
        }
        res.end()
      })
    })
    try {
      return await exchange(`${server.url}/logout`, { method: 'POST', cookie: cookieHeaderFor(emulator.createSession('user-express-logout')) })
    } finally {
      await server.close()
    }
  })
  assert.equal(record.value.setCookie.length, 2)
  assert.equal(record.crossmint.length, 1)
})
