'use strict'
// Deno 2 and Bun, for real: the binaries the npm packages `deno` and `bun`
// carry (exact devDependencies), each running its example (examples/deno,
// examples/bun) on the packed tarballs installed into a copy of the example,
// as a user of that runtime installs the package. Each example passes the
// nine framework checks against the emulator.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { withEmulator, freePort } = require('../helpers/harness.js')
const { runNineChecks, startExample } = require('../helpers/framework-checks.js')
const { packTarballs, npmInstall, root } = require('../helpers/packed-package.js')

const { deno, bun } = require('../helpers/runtime-binaries.js')

/**
 * What Deno must allow, and nothing more: the native addon is loaded through
 * FFI; napi's loader reads its NAPI_RS_* variables and the example its own
 * (env); on Linux the loader reads /usr/bin/ldd to tell glibc from musl
 * (read); the server listens on its own address only (net: Crossmint, here
 * the emulator on another port, is called from the native code, which Deno's
 * net permission does not cover). The README's "Deno and Bun" section lists
 * the same flags, and the loader's error names them.
 */
const DENO_FLAGS = ['--allow-ffi', '--allow-env', '--allow-read=/usr/bin/ldd']

/** The example copied out of the repository with the packed package installed beside it. */
function installExample(t, name) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `crossmint-native-${name}-`))
  t.after(() => fs.rmSync(work, { recursive: true, force: true }))
  const tarballs = packTarballs(work)
  const app = path.join(work, name)
  fs.cpSync(path.join(root, 'examples', name), app, { recursive: true, filter: (src) => !src.includes('node_modules') })
  npmInstall(app, tarballs)
  return app
}

test('the deno and bun npm packages carry runnable binaries', () => {
  assert.match(execFileSync(deno, ['--version'], { encoding: 'utf8' }), /^deno 2\.\d+\.\d+/)
  assert.match(execFileSync(bun, ['--version'], { encoding: 'utf8' }), /^1\.\d+\.\d+/)
})

test('Deno 2: examples/deno (Deno.serve, TypeScript) passes the nine checks', { timeout: 180000 }, async (t) => {
  const app = installExample(t, 'deno')
  const emulator = await withEmulator(t)
  const port = await freePort()
  const env = { NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(app, '.deno'), PORT: String(port) }
  const flags = [...DENO_FLAGS, `--allow-net=127.0.0.1:${port}`]
  const { url } = await startExample(t, deno, ['run', ...flags, 'main.ts'], { emulator, cwd: app, env })
  await runNineChecks(t, { url, emulator, label: 'deno' })
  await t.test("deno check: the example type-checks against the installed package's types", () => {
    execFileSync(deno, ['check', 'main.ts'], { cwd: app, env: { ...process.env, ...env }, encoding: 'utf8', stdio: 'pipe' })
  })
})

test('Bun: examples/bun (Bun.serve) passes the nine checks', { timeout: 180000 }, async (t) => {
  const app = installExample(t, 'bun')
  const emulator = await withEmulator(t)
  const { url } = await startExample(t, bun, ['run', 'server.ts'], { emulator, cwd: app, env: { NO_COLOR: '1' } })
  await runNineChecks(t, { url, emulator, label: 'bun' })
})
