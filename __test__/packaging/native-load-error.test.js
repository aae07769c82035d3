'use strict'
// When the addon does not load, the first sentence of the error is the true
// cause and the next step. Each case is produced for real from the packed
// tarballs: Deno run without its permissions (the real deno binary), the main
// package installed alone with --omit=optional, a binary that does not load.
// An unsupported platform cannot be had on this machine, so that one case
// runs Node with process.arch replaced before the package loads (see below).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { packTarballs, npmInstall, builtPlatform, root } = require('../helpers/packed-package.js')
const { platformNameOfTriple } = require('../../lib/core/native-load-error.js')

const { deno } = require('../helpers/runtime-binaries.js')
const { name, version, napi } = require('../../package.json')
const { platformDir: here } = builtPlatform()

/** napi's platform-package names of target triples, written out independently of the module. */
const NAPI_NAMES = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'armv7-unknown-linux-gnueabihf': 'linux-arm-gnueabihf',
  'armv7-unknown-linux-musleabihf': 'linux-arm-musleabihf',
  'riscv64gc-unknown-linux-gnu': 'linux-riscv64-gnu',
  'powerpc64le-unknown-linux-gnu': 'linux-ppc64-gnu',
  's390x-unknown-linux-gnu': 'linux-s390x-gnu',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-apple-darwin': 'darwin-x64',
  'universal-apple-darwin': 'darwin-universal',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
  'aarch64-pc-windows-msvc': 'win32-arm64-msvc',
  'i686-pc-windows-msvc': 'win32-ia32-msvc',
  'x86_64-unknown-freebsd': 'freebsd-x64',
  'aarch64-linux-android': 'android-arm64',
  'armv7-linux-androideabi': 'android-arm',
}

/** Requires the package in `cwd` with `node` and reports what happened. */
function requireIn(cwd, nodeArgs = []) {
  const script = `
    try {
      require('${name}')
      console.log(JSON.stringify({ loaded: true }))
    } catch (error) {
      const chain = []
      for (let at = error.cause; at; at = at.cause) chain.push(String(at.message))
      console.log(JSON.stringify({ loaded: false, message: error.message, chain }))
    }`
  const run = spawnSync(process.execPath, [...nodeArgs, '-e', script], { cwd, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout)
}

function runDeno(cwd, flags) {
  return spawnSync(deno, ['run', ...flags, 'main.ts'], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1', DENO_DIR: path.join(cwd, '.deno'), PORT: '0' },
    timeout: 60000,
  })
}

test('napi target triples are named as napi names platform packages', () => {
  for (const [triple, napiName] of Object.entries(NAPI_NAMES)) assert.equal(platformNameOfTriple(triple), napiName, triple)
  for (const triple of napi.targets) assert.ok(NAPI_NAMES[triple], `${triple} (package.json napi.targets) has its name in NAPI_NAMES`)
})

test('the loader says what is wrong and what to do, for each way it can fail', { timeout: 240000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmint-native-loader-'))
  t.after(() => fs.rmSync(work, { recursive: true, force: true }))
  const [mainTarball, platformTarball] = packTarballs(work)

  // The Deno example with both packages installed, as its README says.
  const app = path.join(work, 'deno')
  fs.cpSync(path.join(root, 'examples', 'deno'), app, { recursive: true, filter: (src) => !src.includes('node_modules') })
  npmInstall(app, [mainTarball, platformTarball])
  const linuxFlags = '--allow-ffi --allow-env --allow-read=/usr/bin/ldd'
  const denoHeadline = `Run Deno with ${linuxFlags} (and --allow-net for your server): ${name} loads a native addon and Deno refused a permission it needs.`

  await t.test('Deno without any permission: the headline gives the flags', { skip: process.platform !== 'linux' && "the flags asserted are Linux's" }, () => {
    const run = runDeno(app, [])
    assert.notEqual(run.status, 0)
    assert.ok(run.stderr.includes(`error: Uncaught (in promise) Error: ${denoHeadline}`), run.stderr)
    assert.match(run.stderr, /Caused by: NotCapable: Requires env access/, 'the cause is kept')
  })

  await t.test(
    'Deno with everything but --allow-ffi: the same headline, and the refusal named',
    { skip: process.platform !== 'linux' && "the flags asserted are Linux's" },
    () => {
      const run = runDeno(app, ['--allow-env', '--allow-read=/usr/bin/ldd'])
      assert.notEqual(run.status, 0)
      assert.ok(run.stderr.includes(`error: Uncaught (in promise) Error: ${denoHeadline}`), run.stderr)
      assert.match(run.stderr, /Deno said: Requires ffi access to "[^"]+\.node"/)
      assert.match(run.stderr, /Caused by: Error: Cannot find native binding/, "napi's own error is kept as the cause")
    },
  )

  // No machine here has a platform outside napi.targets, so Node runs with
  // process.arch replaced by an architecture the package is not built for,
  // before anything loads: napi's loader then looks for (and fails to find)
  // that architecture's package, as it would on such a machine.
  const supported = napi.targets.map((triple) => NAPI_NAMES[triple])
  const foreignArch = ['riscv64', 's390x', 'ppc64', 'loong64'].find((arch) => !supported.includes(`linux-${arch}-gnu`))
  const fakeArch = path.join(work, 'fake-arch.js')
  fs.writeFileSync(fakeArch, `Object.defineProperty(process, 'arch', { value: ${JSON.stringify(foreignArch)} })\n`)

  await t.test(
    'an unsupported platform: says so, lists the supported ones, says build from source',
    { skip: process.platform !== 'linux' && 'the glibc platform name is asserted' },
    () => {
      const answer = requireIn(app, ['--require', fakeArch])
      assert.equal(answer.loaded, false)
      assert.ok(
        answer.message.startsWith(`${name} has no prebuilt binary for linux-${foreignArch}-gnu: it is built for ${supported.join(', ')}. `),
        answer.message,
      )
      assert.match(answer.message, /build it from source with a Rust toolchain/)
      assert.match(answer.chain.join('\n'), new RegExp(`Unsupported architecture on Linux: ${foreignArch}|${name}-linux-${foreignArch}-gnu`))
    },
  )

  await t.test(
    'napi.targets is read when the error is made, not when the package was written',
    { skip: process.platform !== 'linux' && 'the glibc platform name is asserted' },
    () => {
      const installedPackageJson = path.join(app, 'node_modules', name, 'package.json')
      const original = fs.readFileSync(installedPackageJson, 'utf8')
      const edited = JSON.parse(original)
      edited.napi.targets.push(Object.keys(NAPI_NAMES).find((triple) => NAPI_NAMES[triple] === `linux-${foreignArch}-gnu`))
      fs.writeFileSync(installedPackageJson, JSON.stringify(edited))
      try {
        const answer = requireIn(app, ['--require', fakeArch])
        assert.ok(
          answer.message.startsWith(
            `${name}-linux-${foreignArch}-gnu, the optional package that carries the linux-${foreignArch}-gnu binary, is not installed. `,
          ),
          answer.message,
        )
      } finally {
        fs.writeFileSync(installedPackageJson, original)
      }
    },
  )

  await t.test("the platform package installed but its binary broken: names the package and the loader's reason", () => {
    const binary = path.join(app, 'node_modules', `${name}-${here}`, `${name}.${here}.node`)
    fs.writeFileSync(binary, 'not a shared object')
    const answer = requireIn(app)
    assert.equal(answer.loaded, false)
    assert.ok(
      answer.message.startsWith(`${name}-${here} is installed but its binary did not load on ${here} (Node ${process.versions.node}): `),
      answer.message,
    )
    assert.ok(answer.message.includes(`${name}.${here}.node`), 'the file that failed is named')
    assert.match(answer.message, /Reinstall crossmint-server-native-[\w-]+@\d+\.\d+\.\d+/)
    // Building from source happens in a clone: the app's own `npm run build` is not ours.
    assert.match(answer.message, /build it from source with a Rust toolchain: git clone .*npm install <path to the clone> in your app/)
  })

  await t.test('the main package installed alone with --omit=optional: names the package to install, and that fixes it', () => {
    const alone = path.join(work, 'alone')
    fs.mkdirSync(alone)
    fs.writeFileSync(path.join(alone, 'package.json'), JSON.stringify({ name: 'alone', private: true }))
    npmInstall(alone, [mainTarball], ['--omit=optional'])
    const answer = requireIn(alone)
    assert.equal(answer.loaded, false)
    const platformPackage = `${name}-${here}`
    assert.ok(answer.message.startsWith(`${platformPackage}, the optional package that carries the ${here} binary, is not installed. `), answer.message)
    assert.ok(
      answer.message.includes(`Reinstall without --omit=optional (or --no-optional), or add it: npm install ${platformPackage}@${version}.`),
      answer.message,
    )
    assert.ok(answer.chain.length > 0, 'the cause is kept')
    // The step it names: this platform package at this version (from its
    // tarball: it is not published to the registry this machine reaches).
    assert.match(path.basename(platformTarball), new RegExp(`^${platformPackage}-${version.replace(/\./g, '\\.')}\\.tgz$`))
    npmInstall(alone, [platformTarball])
    assert.deepEqual(requireIn(alone), { loaded: true })
  })
})

// A bundler that inlines the package into an ES module bundle (Vite's
// ssr.noExternal) leaves index.mjs's `require('./index.js')` naming the bundle
// itself: the import names the fix, not a require cycle.
test('index.mjs inlined into a bundle says to mark the package external', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bundled-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}')
  const bundle = path.join(dir, 'index.js')
  fs.copyFileSync(path.join(__dirname, '../../index.mjs'), bundle)
  await assert.rejects(import(bundle), (error) => {
    assert.match(
      error.message,
      /crossmint-server-native was bundled into .*index\.js; a native addon cannot be bundled\. Mark it external: Vite `ssr: \{ external: \['crossmint-server-native'\] \}`/,
    )
    assert.equal(error.cause.code, 'ERR_REQUIRE_CYCLE_MODULE')
    return true
  })
})
