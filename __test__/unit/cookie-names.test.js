'use strict'
// Project-scoped cookie names beside the unscoped ones: the API that names
// them, and a stale scoped pair beside a live unscoped one.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { withEmulator, authFor, cookieRequest } = require('../helpers/harness.js')
const { getAuthCookieNames } = require('../..')

test('getAuthCookieNames and getProjectId name the current client cookies; bad ids are refused', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  assert.equal(auth.getProjectId(), emulator.projectId)
  assert.deepEqual(auth.getAuthCookieNames(), {
    jwt: `crossmint-jwt-${emulator.projectId}`,
    refreshToken: `crossmint-refresh-token-${emulator.projectId}`,
  })
  assert.deepEqual(getAuthCookieNames('p1'), { jwt: 'crossmint-jwt-p1', refreshToken: 'crossmint-refresh-token-p1' })
  for (const bad of ['', undefined, null, 42]) assert.throws(() => getAuthCookieNames(bad), TypeError)
})

// A page on Crossmint's previous client (1.2) without a refresh route spends
// a scoped refresh token by its prefix match and writes its new session
// unscoped, leaving the scoped pair stale: the live unscoped session answers.
test('a refused scoped session beside a live unscoped one of this project: the unscoped one answers, the stale pair is cleared', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  const names = auth.getAuthCookieNames()
  const stale = emulator.createSession('fallback-user', { jwtTtlSeconds: -60 })
  emulator.revokeRefreshToken(stale.refreshToken.secret)
  for (const [label, live] of [
    ['its JWT still valid', emulator.createSession('fallback-user')],
    ['its JWT expired too', emulator.createSession('fallback-user', { jwtTtlSeconds: -60 })],
  ]) {
    const header = `${names.jwt}=${stale.jwt}; ${names.refreshToken}=${stale.refreshToken.secret}; crossmint-jwt=${live.jwt}; crossmint-refresh-token=${live.refreshToken.secret}`
    const response = new Response()
    const session = await auth.getSession(cookieRequest(header), response)
    assert.equal(session.userId, 'fallback-user', label)
    const lines = response.headers.getSetCookie()
    assert.ok(
      lines.some((line) => line.startsWith(`${names.refreshToken}=;`)),
      `${label}: the stale scoped pair is cleared`,
    )
    assert.ok(!lines.some((line) => line.startsWith('crossmint-refresh-token=;')), `${label}: the live unscoped pair is kept`)
    if (label === 'its JWT expired too') {
      const written = lines.find((line) => line.startsWith('crossmint-refresh-token='))
      assert.ok(
        written && written.startsWith(`crossmint-refresh-token=${session.refreshToken.secret};`),
        `${label}: the new session goes where the page reads it`,
      )
    }
  }
  // Another project's unscoped pair is never used that way.
  const foreign = emulator.createSession('foreign-user', { aud: 'other-project' })
  const header = `${names.jwt}=${stale.jwt}; ${names.refreshToken}=${stale.refreshToken.secret}; crossmint-jwt=${foreign.jwt}; crossmint-refresh-token=${foreign.refreshToken.secret}`
  await assert.rejects(auth.getSession(cookieRequest(header), new Response()), { code: 'SESSION_EXPIRED' })
})

// A lone unscoped refresh token (its JWT cookie gone) may be another
// project's on the same domain: never presented with this project's key, never cleared.
test('a refused scoped session beside a lone unscoped refresh token: the lone token is neither presented nor cleared', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  const names = auth.getAuthCookieNames()
  const scoped = emulator.createSession('scoped-user', { jwtTtlSeconds: -60 })
  emulator.revokeRefreshToken(scoped.refreshToken.secret)
  const theirs = emulator.issueRefreshToken('their-user')
  const header = `${names.jwt}=${scoped.jwt}; ${names.refreshToken}=${scoped.refreshToken.secret}; crossmint-refresh-token=${theirs.secret}`
  const response = new Response()
  await assert.rejects(auth.getSession(cookieRequest(header), response), { code: 'SESSION_EXPIRED' })
  assert.deepEqual(
    response.headers
      .getSetCookie()
      .map((line) => line.split(';')[0])
      .sort(),
    [`${names.jwt}=`, `${names.refreshToken}=`].sort(),
  )
  const answer = await auth.handleCustomRefresh(new Request('http://127.0.0.1/api/refresh', { method: 'POST', headers: { cookie: header } }))
  assert.equal(answer.status, 401)
  assert.equal(emulator.refreshTokenState(theirs.secret).presentations.length, 0, 'never presented')
})

// Both copies refused: each is presented once, and both namings are cleared,
// so the next request does not present the unscoped one again.
test('a refused scoped session beside a refused unscoped one of this project: both namings cleared, each token presented once', async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator, { logger: false })
  const names = auth.getAuthCookieNames()
  const presentations = (session) => emulator.refreshTokenState(session.refreshToken.secret).presentations.length
  for (const path of ['getSession', 'handleCustomRefresh']) {
    const [scoped, unscoped] = ['scoped', 'unscoped'].map((naming) => emulator.createSession(`${naming}-user`, { jwtTtlSeconds: -60 }))
    for (const session of [scoped, unscoped]) emulator.revokeRefreshToken(session.refreshToken.secret)
    const header = `${names.jwt}=${scoped.jwt}; ${names.refreshToken}=${scoped.refreshToken.secret}; crossmint-jwt=${unscoped.jwt}; crossmint-refresh-token=${unscoped.refreshToken.secret}`
    let lines
    if (path === 'getSession') {
      const response = new Response()
      await assert.rejects(auth.getSession(cookieRequest(header), response), { code: 'SESSION_EXPIRED' })
      lines = response.headers.getSetCookie()
    } else {
      const answer = await auth.handleCustomRefresh(new Request('http://127.0.0.1/api/refresh', { method: 'POST', headers: { cookie: header } }))
      assert.equal(answer.status, 401, path)
      lines = answer.headers.getSetCookie()
    }
    assert.deepEqual(
      lines.map((line) => line.split(';')[0]).sort(),
      [`${names.jwt}=`, `${names.refreshToken}=`, 'crossmint-jwt=', 'crossmint-refresh-token='].sort(),
      `${path}: both namings cleared`,
    )
    assert.deepEqual([presentations(scoped), presentations(unscoped)], [1, 1], `${path}: each token presented once`)
  }
})
