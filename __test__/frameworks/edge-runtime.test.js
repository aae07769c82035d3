'use strict'
// Runtimes that cannot load a native addon resolve the package through the
// edge-light / workerd / worker / browser export conditions. Each must get
// the one sentence that says what to change, never a failure about
// `node:module` deep inside the loader. The conditions are resolved for real
// by Node's resolver (the package refers to itself by name).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { root } = require('../helpers/common.js')

function load(condition, how, specifier) {
  const code = how === 'require' ? `require(${JSON.stringify(specifier)})` : `await import(${JSON.stringify(specifier)})`
  const args = [
    ...(condition ? [`--conditions=${condition}`] : []),
    '--input-type=module',
    '-e',
    how === 'require'
      ? `import { createRequire } from 'node:module'; const require = createRequire(${JSON.stringify(path.join(root, 'index.js'))}); ${code}`
      : code,
  ]
  return spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' })
}

for (const condition of ['edge-light', 'workerd', 'worker', 'browser']) {
  for (const specifier of ['crossmint-server-native', 'crossmint-server-native/express', 'crossmint-server-native/fastify', 'crossmint-server-native/hono']) {
    for (const how of ['require', 'import']) {
      test(`${specifier} under the "${condition}" condition (${how}) names the fix`, () => {
        const run = load(condition, how, specifier)
        assert.notEqual(run.status, 0)
        assert.match(run.stderr, /runs on the Node\.js runtime only/)
        assert.match(run.stderr, /rename middleware\.ts to proxy\.ts/)
        assert.match(run.stderr, /export const config = \{ runtime: "nodejs" \}/)
        assert.doesNotMatch(run.stderr, /node:module/)
      })
    }
  }
}

test('on Node.js the same specifiers load the real package', () => {
  for (const how of ['require', 'import']) {
    const run = load(undefined, how, 'crossmint-server-native')
    assert.equal(run.status, 0, run.stderr)
  }
})

test('a named import of any export of any subpath, under an edge condition, names the fix rather than a missing export', () => {
  for (const specifier of ['crossmint-server-native', 'crossmint-server-native/express', 'crossmint-server-native/fastify', 'crossmint-server-native/hono']) {
    // The names the real module exports on Node.js.
    const names = Object.keys(require(specifier)).filter((name) => /^[A-Za-z_$][\w$]*$/.test(name))
    assert.ok(names.length > 0, specifier)
    const run = spawnSync(
      process.execPath,
      ['--conditions=edge-light', '--input-type=module', '-e', `import { ${names.join(', ')} } from ${JSON.stringify(specifier)}`],
      { cwd: root, encoding: 'utf8' },
    )
    assert.notEqual(run.status, 0)
    assert.match(run.stderr, /runs on the Node\.js runtime only/, `${specifier}: ${run.stderr.split('\n').find((line) => /SyntaxError/.test(line))}`)
  }
})
