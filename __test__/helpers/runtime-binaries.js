'use strict'
// The deno and bun binaries the devDependencies `deno` and `bun` install:
// their postinstall steps put the platform binary at these paths (the same
// files node_modules/.bin links to on Linux and macOS; on Windows .bin holds
// .cmd shims, which spawn cannot run without a shell).

const fs = require('node:fs')
const path = require('node:path')

const exe = process.platform === 'win32' ? '.exe' : ''
const packageDir = (name) => path.dirname(require.resolve(`${name}/package.json`))

const deno = path.join(packageDir('deno'), `deno${exe}`)
const bun = path.join(packageDir('bun'), 'bin', 'bun.exe')

for (const binary of [deno, bun]) {
  if (!fs.existsSync(binary)) throw new Error(`${binary} is missing: run npm install (with install scripts) so the runtime's package places its binary`)
}

module.exports = { deno, bun }
