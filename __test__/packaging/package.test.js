'use strict'
// The real drop-in check: pack the package as npm would publish it (the main
// package plus this platform's binary package), install both into an empty
// project, and run the guide's Express server from there.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawn, spawnSync } = require('node:child_process')
const { withEmulator, exchange, cookieHeaderFor, freePort } = require('../helpers/harness.js')
const { packListing, root, npm, shell } = require('../helpers/packed-package.js')

test("npm pack ships only what is needed, and the packed package runs the guide's Express server", { timeout: 240000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmint-native-pack-'))
  t.after(() => fs.rmSync(work, { recursive: true, force: true }))

  const main = packListing(root, work)
  assert.deepEqual(
    main.files.filter((f) => /^(src|__test__|bench|fuzz|examples|target)\//.test(f)),
    [],
    'no sources or tests in the tarball',
  )
  for (const needed of [
    'index.js',
    'index.mjs',
    'index.d.ts',
    'native.js',
    'lib/public/express.js',
    'lib/public/fastify.js',
    'lib/public/fastify.d.ts',
    'lib/public/hono.js',
    'lib/public/hono.d.ts',
    'lib/public/testing.js',
    'testing/emulator.js',
    'package.json',
  ]) {
    assert.ok(main.files.includes(needed), `${needed} is packed`)
  }

  const binary = fs.readdirSync(root).find((f) => f.endsWith('.node'))
  assert.ok(binary, 'the addon is built')
  const platformDir = fs.readdirSync(path.join(root, 'npm')).find((d) => binary.includes(d))
  const staged = path.join(work, 'platform')
  fs.cpSync(path.join(root, 'npm', platformDir), staged, { recursive: true })
  fs.copyFileSync(path.join(root, binary), path.join(staged, binary))
  const platform = packListing(staged, work)

  const app = path.join(work, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'drop-in-check', private: true }))
  const express = require('express/package.json').version
  execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', main.file, platform.file, `express@${express}`], {
    cwd: app,
    stdio: 'ignore',
    shell,
  })
  fs.copyFileSync(path.join(root, 'examples', 'express-server.js'), path.join(app, 'server.js'))

  const emulator = await withEmulator(t)
  const port = await freePort()
  const child = spawn(process.execPath, ['server.js'], {
    cwd: app,
    env: { ...process.env, PORT: String(port), SERVER_CROSSMINT_API_KEY: emulator.apiKey, CROSSMINT_BASE_URL: emulator.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.after(() => child.kill())
  let output = ''
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${output}`)), 15000)
    child.stdout.on('data', () => {
      if (!output.includes('Server running')) return
      clearTimeout(timer)
      resolve()
    })
  })
  const base = `http://127.0.0.1:${port}`
  const valid = await exchange(`${base}/protected`, { cookie: cookieHeaderFor(emulator.createSession('packed-user')) })
  assert.deepEqual([valid.status, valid.body], [200, { message: 'Protected route', userId: 'packed-user' }])
  const refreshed = await exchange(`${base}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh: emulator.issueRefreshToken('packed-user').secret }),
  })
  assert.equal(refreshed.status, 200)
  assert.equal(refreshed.setCookie.length, 4, 'one session under both namings')

  // A CommonJS TypeScript project (`"module": "commonjs"`: node10
  // resolution, which ignores `exports`) finds every subpath's types
  // through `typesVersions`.
  fs.writeFileSync(
    path.join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: 'commonjs', moduleResolution: 'node10', skipLibCheck: true, types: [] },
      files: ['subpaths.ts'],
    }),
  )
  fs.writeFileSync(
    path.join(app, 'subpaths.ts'),
    [
      "import { CrossmintAuth, createCrossmint } from 'crossmint-server-native'",
      "import { crossmintMiddleware } from 'crossmint-server-native/express'",
      "import { crossmintPreHandler } from 'crossmint-server-native/fastify'",
      "import { crossmintMiddleware as honoMiddleware } from 'crossmint-server-native/hono'",
      "import { instrumentCrossmintAuth } from 'crossmint-server-native/otel'",
      "import { TEST_API_KEY } from 'crossmint-server-native/testing'",
      'const auth = CrossmintAuth.from(createCrossmint({ apiKey: TEST_API_KEY }))',
      'export const wired: unknown[] = [crossmintMiddleware(auth), crossmintPreHandler(auth), honoMiddleware(auth), instrumentCrossmintAuth]',
    ].join('\n'),
  )
  const compiled = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', app], { encoding: 'utf8' })
  assert.equal(compiled.status, 0, compiled.stdout + compiled.stderr)
})

test('only the entry and its documented subpaths are reachable: the internals (lib/core) are not', () => {
  for (const specifier of [
    'crossmint-server-native',
    'crossmint-server-native/express',
    'crossmint-server-native/fastify',
    'crossmint-server-native/hono',
    'crossmint-server-native/testing',
  ]) {
    assert.ok(require.resolve(specifier), specifier)
  }
  for (const specifier of [
    'crossmint-server-native/lib/core/errors.js',
    'crossmint-server-native/lib/core/crossmint-auth.js',
    'crossmint-server-native/lib/public/express.js',
    'crossmint-server-native/index.js',
  ]) {
    assert.throws(() => require.resolve(specifier), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }, specifier)
  }
})
