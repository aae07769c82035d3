'use strict'
// Crossmint's Remix example on Vite (examples/remix) and the same app on
// React Router 7 framework mode (examples/react-router), for real: the packed
// tarballs installed into a copy of each, built with the framework's own build
// (`remix vite:build`, `react-router build`), served with its own server
// (`remix-serve`, `react-router-serve`) on loopback against the emulator,
// then the nine checks on its JSON and action routes, and the example's page,
// whose loader copies getSession's cookies onto its answer. Built twice: with
// Vite's defaults (no setting for the package), and with every dependency
// bundled (vite.config.bundled.ts, one line keeping the package external).
// The routes also type-check with tsc against the package's types. One npm
// install per app; the tarballs are packed once for both.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { withEmulator, exchangeText, cookieHeaderFor, freePort, refreshCalls, root } = require('../helpers/common.js')
const { runNineChecks, cookieValues } = require('../helpers/framework-checks.js')
const { packTarballs, npmInstall } = require('../helpers/packed-package.js')
const { startServedApp, pageText } = require('../helpers/served-app.js')

const APPS = [
  {
    label: 'Remix 2 (Vite)',
    example: 'remix',
    build: { pkg: '@remix-run/dev', bin: 'remix', args: ['vite:build'] },
    serve: { pkg: '@remix-run/serve', bin: 'remix-serve', args: ['./build/server/index.js'] },
    // The page loader's data as client-side navigation fetches it.
    pageData: '/?_data=routes%2F_index',
  },
  {
    label: 'React Router 7',
    example: 'react-router',
    build: { pkg: '@react-router/dev', bin: 'react-router', args: ['build'] },
    serve: { pkg: '@react-router/serve', bin: 'react-router-serve', args: ['./build/server/index.js'] },
    // Single fetch: the index route's data.
    pageData: '/_root.data',
  },
]

let work
let tarballs
before(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmint-native-remix-'))
  tarballs = packTarballs(work)
})
after(() => fs.rmSync(work, { recursive: true, force: true }))

/** The file of `pkg`'s command `name`, run with this Node (no .cmd shims on Windows). */
function binOf(app, pkg, name) {
  const dir = path.join(app, 'node_modules', pkg)
  const { bin } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
  return path.join(dir, typeof bin === 'string' ? bin : bin[name])
}

/** A copy of the example in `work`, with the packed package and the example's pinned dependencies installed. */
function installExample(example) {
  const source = path.join(root, 'examples', example)
  const app = path.join(work, example)
  fs.cpSync(source, app, { recursive: true, filter: (src) => !/(^|[\\/])(node_modules|build|\.react-router)([\\/]|$)/.test(path.relative(source, src)) })
  const { dependencies, devDependencies } = JSON.parse(fs.readFileSync(path.join(source, 'package.json'), 'utf8'))
  const pinned = Object.entries({ ...dependencies, ...devDependencies })
    .filter(([name]) => name !== 'crossmint-server-native')
    .map(([name, version]) => `${name}@${version}`)
  npmInstall(app, [...pinned, ...tarballs])
  return app
}

function run(app, { pkg, bin, args }, env = {}) {
  try {
    return execFileSync(process.execPath, [binOf(app, pkg, bin), ...args], {
      cwd: app,
      env: { ...process.env, ...env },
      encoding: 'utf8',
      stdio: 'pipe',
    })
  } catch (error) {
    throw new Error(`${bin} ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`)
  }
}

/** Starts the framework's own server on the built app and waits until it answers. */
async function serve(t, app, { pkg, bin, args }, env) {
  const port = await freePort()
  const appEnv = { ...env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production' }
  return startServedApp(t, { args: [binOf(app, pkg, bin), ...args], cwd: app, env: appEnv, port, name: bin })
}

/**
 * Crossmint's page: its loader calls getSession(request, new Response()) and
 * copies that response's headers onto its own answer, so refreshed or
 * cleared cookies reach the browser on the document and on client-side
 * navigation's data request.
 */
async function checkPage(t, emulator, base, app, serverLog) {
  await t.test(`${app.label}: the page, signed out`, async () => {
    const answer = await exchangeText(`${base}/`)
    assert.equal(answer.status, 200, answer.text)
    assert.match(pageText(answer.text), /You are not logged in\./)
    assert.deepEqual(answer.setCookie, [])
  })

  await t.test(`${app.label}: the page, valid session`, async () => {
    const session = emulator.createSession('page-user')
    const answer = await exchangeText(`${base}/`, { cookie: cookieHeaderFor(session) })
    assert.equal(answer.status, 200, answer.text)
    assert.match(pageText(answer.text), /Your user ID is: page-user/)
    assert.deepEqual(answer.setCookie, [], 'a valid session changes no cookie')
  })

  for (const [kind, url] of [
    ['document', '/'],
    ['data request', app.pageData],
  ]) {
    await t.test(`${app.label}: the page's ${kind}, expired JWT refreshed once, rotated cookies on the answer`, async () => {
      const expired = emulator.createSession('page-expired', { jwtTtlSeconds: -60 })
      const before = refreshCalls(emulator)
      const answer = await exchangeText(base + url, { cookie: cookieHeaderFor(expired) })
      assert.equal(answer.status, 200, answer.text)
      assert.match(answer.text, /page-expired/)
      assert.equal(refreshCalls(emulator) - before, 1, 'exactly one refresh')
      const values = cookieValues(answer.setCookie)
      assert.match(values['crossmint-jwt'] || '', /^eyJ/, 'a new JWT cookie')
      assert.notEqual(values['crossmint-jwt'], expired.jwt)
      assert.ok(values['crossmint-refresh-token'], 'a rotated refresh cookie')
      assert.notEqual(values['crossmint-refresh-token'], expired.refreshToken.secret)
    })
  }

  await t.test(`${app.label}: the page, refresh refused: signed out, cookies cleared`, async () => {
    const refused = emulator.createSession('page-refused', { jwtTtlSeconds: -60 })
    emulator.revokeRefreshToken(refused.refreshToken.secret)
    const answer = await exchangeText(`${base}/`, { cookie: cookieHeaderFor(refused) })
    assert.equal(answer.status, 200, answer.text)
    assert.match(pageText(answer.text), /You are not logged in\./)
    assert.deepEqual(cookieValues(answer.setCookie), { 'crossmint-jwt': '', 'crossmint-refresh-token': '' })
  })

  await t.test(`${app.label}: the server logged no crash`, () => {
    assert.doesNotMatch(serverLog(), /Unexpected Server Error|ERR_DLOPEN_FAILED|Cannot find module|Native module/)
  })
}

for (const app of APPS) {
  test(`${app.label}: Crossmint's example builds with its own build, runs on its own server with the packed package`, { timeout: 600000 }, async (t) => {
    const dir = installExample(app.example)
    const emulator = await withEmulator(t)
    const env = { SERVER_CROSSMINT_API_KEY: emulator.apiKey, CROSSMINT_BASE_URL: emulator.url }
    const routes = { me: '/api/me', refresh: '/api/refresh', logout: '/api/logout' }

    await t.test('tsc: the routes type-check against the package', () => {
      run(dir, { pkg: 'typescript', bin: 'tsc', args: ['-p', '.'] })
    })

    await t.test('built with no config for the package, served by its own server', async (t) => {
      run(dir, app.build, env)
      // The server bundle leaves the package to Node, which loads the native addon from node_modules.
      assert.match(fs.readFileSync(path.join(dir, 'build/server/index.js'), 'utf8'), /from "crossmint-server-native"/)
      const { base, log } = await serve(t, dir, app.serve, env)
      await runNineChecks(t, { url: base, emulator, label: app.label, routes })
      await checkPage(t, emulator, base, app, log)
    })

    await t.test('every dependency bundled (ssr.noExternal: true), with the one documented external line', async (t) => {
      const config = path.join(dir, 'vite.config.ts')
      const original = fs.readFileSync(config)
      fs.copyFileSync(path.join(dir, 'vite.config.bundled.ts'), config)
      t.after(() => fs.writeFileSync(config, original))
      run(dir, app.build, env)
      const bundle = fs.readFileSync(path.join(dir, 'build/server/index.js'), 'utf8')
      assert.doesNotMatch(bundle, /from "react-dom\/server"/, 'the dependencies are in the bundle')
      assert.match(bundle, /from "crossmint-server-native"/, 'but not the package')
      const label = `${app.label}, bundled`
      const { base, log } = await serve(t, dir, app.serve, env)
      await runNineChecks(t, { url: base, emulator, label, routes })
      await checkPage(t, emulator, base, { ...app, label }, log)
    })
  })
}
