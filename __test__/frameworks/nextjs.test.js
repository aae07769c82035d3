'use strict'
// The guide's Next.js 16 App Router app (examples/nextjs), for real: the
// packed tarballs installed into a copy of it, built with `next build`
// (Turbopack, then webpack, then `output: "standalone"`), served on loopback
// against the emulator and exercised over HTTP. One npm install serves every
// build. Also the guide's `middleware.ts`, which Next runs on the Edge
// runtime, must fail with the sentence that names the fix.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { withEmulator, exchange, cookieHeaderFor, freePort, refreshCalls, root } = require('../helpers/harness.js')
const { runNineChecks } = require('../helpers/framework-checks.js')
const { getAuthCookieNames } = require('../../index.js')
const { packTarballs, npmInstall } = require('../helpers/packed-package.js')
const { startServedApp, pageText } = require('../helpers/served-app.js')

const example = path.join(root, 'examples', 'nextjs')

function nextBuild(app, args, env) {
  try {
    return execFileSync(process.execPath, [path.join(app, 'node_modules/next/dist/bin/next'), 'build', ...args], {
      cwd: app,
      env: { ...process.env, ...env, NEXT_TELEMETRY_DISABLED: '1' },
      encoding: 'utf8',
      stdio: 'pipe',
    })
  } catch (error) {
    throw new Error(`next build ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`)
  }
}

/**
 * The standalone output moved away from the app, as a deployment ships it:
 * inside the app, Node would still find the app's own node_modules.
 */
function deployStandalone(app, work, name) {
  const target = path.join(work, name)
  fs.cpSync(path.join(app, '.next/standalone'), target, { recursive: true })
  fs.cpSync(path.join(app, '.next/static'), path.join(target, '.next/static'), { recursive: true })
  return target
}

/** Starts a built app (next start, or the standalone server) and waits until it answers. */
async function serve(t, app, env, standalone) {
  const port = await freePort()
  const args = standalone
    ? [path.join(standalone, 'server.js')]
    : [path.join(app, 'node_modules/next/dist/bin/next'), 'start', '-H', '127.0.0.1', '-p', String(port)]
  const appEnv = { ...env, PORT: String(port), HOSTNAME: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' }
  return startServedApp(t, { args, cwd: standalone || app, env: appEnv, port, name: 'the app', attempts: 150 })
}

async function checkSessions(emulator, base) {
  const publicPage = await exchange(`${base}/`)
  assert.equal(publicPage.status, 200)
  assert.match(pageText(publicPage.body), /Public page/)
  assert.deepEqual(publicPage.setCookie, [])

  const session = emulator.createSession('next-user', { email: 'next-user@example.com' })
  const valid = await exchange(`${base}/protected`, { cookie: cookieHeaderFor(session) })
  assert.equal(valid.status, 200)
  assert.match(pageText(valid.body), /Welcome, next-user@example\.com!/)
  assert.deepEqual(valid.setCookie, [], 'a valid session changes no cookie')

  // An expired JWT: the proxy refreshes once and sets the rotated cookies;
  // the page sees the new JWT and refreshes nothing more.
  const expired = emulator.createSession('next-expired', { email: 'next-expired@example.com', jwtTtlSeconds: -60 })
  const before = refreshCalls(emulator)
  const refreshed = await exchange(`${base}/protected`, { cookie: cookieHeaderFor(expired) })
  assert.equal(refreshed.status, 200)
  assert.match(pageText(refreshed.body), /Welcome, next-expired@example\.com!/)
  assert.equal(refreshCalls(emulator) - before, 1, 'exactly one refresh for the page load')
  const rotatedJwt = refreshed.setCookie.find((c) => c.startsWith('crossmint-jwt='))
  const rotatedRefresh = refreshed.setCookie.find((c) => c.startsWith('crossmint-refresh-token='))
  assert.ok(rotatedJwt && !rotatedJwt.startsWith(`crossmint-jwt=${expired.jwt};`), 'a new JWT cookie')
  assert.ok(rotatedRefresh && !rotatedRefresh.startsWith(`crossmint-refresh-token=${expired.refreshToken.secret};`), 'a rotated refresh cookie')

  // A refresh token Crossmint refuses: cookies cleared, signed-out page.
  const refused = emulator.createSession('next-refused', { jwtTtlSeconds: -60 })
  emulator.revokeRefreshToken(refused.refreshToken.secret)
  const signedOut = await exchange(`${base}/protected`, { cookie: cookieHeaderFor(refused) })
  assert.equal(signedOut.status, 200)
  assert.match(pageText(signedOut.body), /Please log in to access this page\./)
  assert.ok(
    signedOut.setCookie.some((c) => /^crossmint-jwt=;/.test(c)),
    'JWT cookie cleared',
  )
  assert.ok(
    signedOut.setCookie.some((c) => /^crossmint-refresh-token=;/.test(c)),
    'refresh cookie cleared',
  )

  // The refresh route handler: by JSON body, then a refused token.
  const spare = emulator.issueRefreshToken('next-user')
  const refreshRoute = await exchange(`${base}/api/refresh`, { method: 'POST', body: JSON.stringify({ refresh: spare.secret }) })
  assert.equal(refreshRoute.status, 200)
  assert.equal(refreshRoute.body.user.id, 'next-user')
  // A refresh route answers under both namings: Crossmint's current client
  // reads the scoped ones, the guide's server code the unscoped ones.
  assert.deepEqual(
    refreshRoute.setCookie.map((c) => c.split('=')[0]),
    [`crossmint-jwt-${emulator.projectId}`, `crossmint-refresh-token-${emulator.projectId}`, 'crossmint-jwt', 'crossmint-refresh-token'],
  )
  assert.match(refreshRoute.setCookie[1], new RegExp(`^crossmint-refresh-token-${emulator.projectId}=[^;]+; path=/; SameSite=lax; HttpOnly;`))
  // The guide's page after a login through the refresh route (Crossmint's
  // nextjs-ssr demo): it reads crossmint-jwt by name and finds the user.
  const loggedIn = await exchange(`${base}/protected`, { cookie: refreshRoute.setCookie.map((c) => c.split(';')[0]).join('; ') })
  assert.match(pageText(loggedIn.body), /Welcome, next-user@example\.com!/)
  assert.deepEqual(loggedIn.setCookie, [], 'a valid session changes no cookie')
  const reused = await exchange(`${base}/api/refresh`, { method: 'POST', body: JSON.stringify({ refresh: `${spare.secret}x` }) })
  assert.equal(reused.status, 401)
  assert.equal(reused.body.error, 'Unauthorized')

  // The logout route handler revokes the token and clears both cookies.
  const leaving = emulator.createSession('next-leaving')
  const loggedOut = await exchange(`${base}/api/logout`, { method: 'POST', cookie: cookieHeaderFor(leaving) })
  assert.equal(loggedOut.status, 200)
  assert.deepEqual(
    loggedOut.setCookie.map((c) => c.split(';')[0]),
    [`crossmint-jwt-${emulator.projectId}=`, `crossmint-refresh-token-${emulator.projectId}=`, 'crossmint-jwt=', 'crossmint-refresh-token='],
    'both namings cleared',
  )
  const afterLogout = await exchange(`${base}/api/refresh`, { method: 'POST', body: JSON.stringify({ refresh: leaving.refreshToken.secret }) })
  assert.equal(afterLogout.status, 401, 'the revoked token no longer refreshes')

  await checkScopedSessions(emulator, base)
}

/**
 * Crossmint's current client keeps the session under project-scoped names:
 * the Server Component reading them through getAuthCookieNames, and the
 * proxy refreshing them in the naming it found.
 */
async function checkScopedSessions(emulator, base) {
  const names = getAuthCookieNames(emulator.projectId)
  const scopedCookie = (session) => `${names.jwt}=${session.jwt}; ${names.refreshToken}=${session.refreshToken.secret}`
  const session = emulator.createSession('next-current', { email: 'next-current@example.com' })
  const valid = await exchange(`${base}/account`, { cookie: scopedCookie(session) })
  assert.match(pageText(valid.body), /Account of next-current@example\.com/)
  assert.deepEqual(valid.setCookie, [])

  const expired = emulator.createSession('next-current-expired', { email: 'next-current-expired@example.com', jwtTtlSeconds: -60 })
  const before = refreshCalls(emulator)
  const refreshed = await exchange(`${base}/account`, { cookie: scopedCookie(expired) })
  assert.match(pageText(refreshed.body), /Account of next-current-expired@example\.com/)
  assert.equal(refreshCalls(emulator) - before, 1, 'the proxy refreshed once; the page used its result')
  const rotated = refreshed.setCookie.find((c) => c.startsWith(`${names.refreshToken}=`))
  assert.ok(rotated && !rotated.startsWith(`${names.refreshToken}=${expired.refreshToken.secret};`), 'rotated under the scoped name')
  assert.ok(!refreshed.setCookie.some((c) => c.startsWith('crossmint-refresh-token=')), 'nothing written under the unscoped name')

  // Another project's JWT beside no session of ours: signed out, no error page.
  const foreign = emulator.createSession('next-foreign', { aud: 'other-project' })
  const refused = await exchange(`${base}/account`, { cookie: `${names.jwt}=${foreign.jwt}; ${names.refreshToken}=not-ours` })
  assert.equal(refused.status, 200)
  assert.match(pageText(refused.body), /Please log in to see your account\./)
}

test("Next.js 16: the guide's app builds and runs with the packed package", { timeout: 600000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmint-native-next-'))
  t.after(() => fs.rmSync(work, { recursive: true, force: true }))
  const tarballs = packTarballs(work)
  const app = path.join(work, 'app')
  fs.cpSync(example, app, { recursive: true, filter: (src) => !/node_modules|\.next/.test(path.relative(example, src)) })
  const { dependencies, devDependencies } = JSON.parse(fs.readFileSync(path.join(example, 'package.json'), 'utf8'))
  const pinned = Object.entries({ ...dependencies, ...devDependencies })
    .filter(([name]) => name !== 'crossmint-server-native')
    .map(([name, version]) => `${name}@${version}`)
  npmInstall(app, [...pinned, ...tarballs])

  const emulator = await withEmulator(t)
  const env = { SERVER_CROSSMINT_API_KEY: emulator.apiKey, CROSSMINT_BASE_URL: emulator.url }

  await t.test('next build (Turbopack, no next.config) and next start', async (t) => {
    nextBuild(app, [], env)
    const { base } = await serve(t, app, env, false)
    await checkSessions(emulator, base)
    await runNineChecks(t, { url: base, emulator, label: 'Next.js', routes: { me: '/api/me', refresh: '/api/refresh', logout: '/api/logout' } })
  })

  await t.test('next build --webpack and next start', async (t) => {
    nextBuild(app, ['--webpack'], env)
    const { base } = await serve(t, app, env, false)
    await checkSessions(emulator, base)
  })

  await t.test('output: "standalone" without the tracing line names that line', async (t) => {
    const config = path.join(app, 'next.config.mjs')
    fs.writeFileSync(config, 'export default { output: "standalone" };\n')
    t.after(() => fs.rmSync(config))
    nextBuild(app, [], env)
    const { base, log } = await serve(t, app, env, deployStandalone(app, work, 'deploy-untraced'))
    const answer = await exchange(`${base}/protected`, { cookie: cookieHeaderFor(emulator.createSession('standalone-user')) })
    // The guide's code catches the failure (signed-out page, cookies cleared);
    // what the developer sees is the logged error naming the line.
    assert.doesNotMatch(pageText(answer.body), /Welcome/)
    assert.match(log(), /outputFileTracingIncludes: \{ "\/\*\*": \["\.\/node_modules\/crossmint-server-native\*\/\*\*"\] \}/)
  })

  await t.test('output: "standalone" (with the one documented tracing line), started with node server.js', async (t) => {
    const config = path.join(app, 'next.config.mjs')
    fs.copyFileSync(path.join(example, 'next.config.standalone.mjs'), config)
    t.after(() => fs.rmSync(config))
    nextBuild(app, [], env)
    const { base } = await serve(t, app, env, deployStandalone(app, work, 'deploy'))
    await checkSessions(emulator, base)
  })

  await t.test("the guide's middleware.ts on the Edge runtime fails with the sentence that names the fix", async (t) => {
    const proxy = path.join(app, 'proxy.ts')
    const middleware = path.join(app, 'middleware.ts')
    const proxySource = fs.readFileSync(proxy, 'utf8')
    fs.rmSync(proxy)
    fs.writeFileSync(middleware, proxySource.replace('export async function proxy(', 'export async function middleware('))
    t.after(() => {
      fs.rmSync(middleware)
      fs.writeFileSync(proxy, proxySource)
    })
    let output
    try {
      output = nextBuild(app, [], env)
    } catch (error) {
      // Failing the build with the sentence is as good as failing the request.
      assert.match(error.message, /rename middleware\.ts to proxy\.ts/)
      return
    }
    const { base, log } = await serve(t, app, env, false)
    const session = emulator.createSession('edge-user')
    const answer = await exchange(`${base}/protected`, { cookie: cookieHeaderFor(session) })
    const seen = `${output}\n${log()}\n${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body)}`
    assert.match(seen, /runs on the Node\.js runtime only/)
    assert.match(seen, /rename middleware\.ts to proxy\.ts/)
    assert.doesNotMatch(seen, /Native module not found: node:module/)
  })
})
