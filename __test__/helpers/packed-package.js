'use strict'
// The package as npm would publish it: `npm pack` of the main package and of
// this platform's binary package (npm/<platform>/ with the built addon copied
// in, as napi's prepublish step does). Tests that install the package the
// way users do (Next.js, Deno, Bun, the loader's messages) start from these.

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { root } = require('./common.js')

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'
// Node refuses to spawn .cmd files without a shell (CVE-2024-27980).
const shell = process.platform === 'win32'

/** `npm pack` of `dir` into `destination`: `{ file }`, the tarball's path, and `files`, the paths it holds. */
function packListing(dir, destination) {
  const out = execFileSync(npm, ['pack', '--json', '--pack-destination', destination], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    shell,
  })
  const [info] = JSON.parse(out)
  return { file: path.join(destination, info.filename), files: info.files.map((f) => f.path) }
}

/** `npm pack` of `dir` into `destination`; the tarball's path. */
function pack(dir, destination) {
  return packListing(dir, destination).file
}

/** The built addon's file name and the npm/ folder of its platform package. */
function builtPlatform() {
  const binary = fs.readdirSync(root).find((f) => f.endsWith('.node'))
  assert.ok(binary, 'the addon is built')
  const platformDir = fs.readdirSync(path.join(root, 'npm')).find((d) => binary === `crossmint-server-native.${d}.node`)
  assert.ok(platformDir, `npm/ has the platform package of ${binary}`)
  return { binary, platformDir }
}

/**
 * Packs the main package and this platform's binary package into `work`.
 * Returns `[mainTarball, platformTarball]` (paths), ready for `npm install`.
 */
function packTarballs(work) {
  const { binary, platformDir } = builtPlatform()
  const staged = path.join(work, 'platform')
  fs.cpSync(path.join(root, 'npm', platformDir), staged, { recursive: true })
  fs.copyFileSync(path.join(root, binary), path.join(staged, binary))
  return [pack(root, work), pack(staged, work)]
}

/** `npm install` of `specs` (tarball paths or name@version) in `dir`, offline-first. */
function npmInstall(dir, specs, extraArgs = []) {
  try {
    execFileSync(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', ...extraArgs, ...specs], { cwd: dir, encoding: 'utf8', stdio: 'pipe', shell })
  } catch (error) {
    throw new Error(`npm install ${[...extraArgs, ...specs].join(' ')} failed:\n${error.stdout}\n${error.stderr}`)
  }
}

module.exports = { pack, packListing, packTarballs, npmInstall, builtPlatform, root, npm, shell }
