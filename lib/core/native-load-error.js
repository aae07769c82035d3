'use strict'
// When the native addon does not load, the error's first sentence says why
// and what to do next. napi's loader (native.js) tries every candidate file
// and package and reports "Cannot find native binding" whatever went wrong,
// with the real reason several levels down in `error.cause`; a user who reads
// only the first line must not be sent reinstalling when Deno refused a
// permission, nor told to reinstall on a platform nothing is built for.
//
// The supported targets come from package.json's `napi.targets` at run time,
// so the message follows the list the package is released with.

const fs = require('node:fs')

const packageJson = require('../../package.json')

const PACKAGE = packageJson.name
const PLATFORM_PACKAGE_PREFIX = `${(packageJson.napi && packageJson.napi.packageName) || PACKAGE}-`

/** The repository's web address (package.json `repository`), for the build-from-source step. */
function repositoryUrl() {
  const { repository } = packageJson
  const url = typeof repository === 'string' ? repository : repository && repository.url
  return url ? url.replace(/^git\+/, '').replace(/\.git$/, '') : undefined
}

/** Rust target triple pieces to the names Node reports (process.arch, process.platform). */
const ARCH_OF_TRIPLE = {
  x86_64: 'x64',
  aarch64: 'arm64',
  i686: 'ia32',
  armv7: 'arm',
  riscv64gc: 'riscv64',
  powerpc64le: 'ppc64',
  s390x: 's390x',
  loongarch64: 'loong64',
}

/**
 * A napi target triple as napi names its platform package:
 * x86_64-unknown-linux-gnu is "linux-x64-gnu", aarch64-apple-darwin is
 * "darwin-arm64", x86_64-pc-windows-msvc is "win32-x64-msvc".
 */
function platformNameOfTriple(triple) {
  const [cpu, , system, abi] = triple.split('-')
  const arch = ARCH_OF_TRIPLE[cpu] || cpu
  if (triple.includes('-apple-darwin')) return `darwin-${arch}`
  if (triple.includes('-windows-')) return `win32-${arch}-${triple.split('-').pop()}`
  if (triple.includes('-linux-android')) return `android-${arch}`
  if (system === 'linux') return `linux-${arch}-${abi || 'gnu'}`
  if (triple.includes('-freebsd')) return `freebsd-${arch}`
  return triple
}

/** The platforms package.json's napi.targets are built for, as napi names them. */
function supportedPlatforms() {
  const { targets = [] } = packageJson.napi || {}
  return targets.map(platformNameOfTriple)
}

/** glibc or musl, the way napi's loader tells them apart; glibc when unsure. */
function linuxLibc() {
  try {
    if (fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')) return 'musl'
    return 'gnu'
  } catch {}
  try {
    const { header, sharedObjects } = process.report.getReport()
    if (header && header.glibcVersionRuntime) return 'gnu'
    if (Array.isArray(sharedObjects) && sharedObjects.some((file) => /libc\.musl-|ld-musl-/.test(file))) return 'musl'
  } catch {}
  return 'gnu'
}

/** This machine as napi names platform packages (linux-x64-gnu, darwin-arm64, win32-x64-msvc...). */
function currentPlatform() {
  const { platform, arch } = process
  if (platform === 'linux') return `linux-${arch}-${arch === 'arm' ? (linuxLibc() === 'musl' ? 'musleabihf' : 'gnueabihf') : linuxLibc()}`
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** Every error in the cause chain, outermost first. */
function causeChain(error) {
  const chain = []
  for (let at = error; at && chain.length < 50 && !chain.includes(at); at = at.cause) chain.push(at)
  return chain
}

const isDeno = () => typeof Deno !== 'undefined' || Boolean(process.versions && process.versions.deno)

/**
 * Deno's refusals in the chain: { kind, message } for each. napi's loader
 * re-creates the errors it collected from their message alone, so besides
 * the error names (NotCapable, PermissionDenied) the message is recognised:
 * `Requires ffi access to "...", run again with the --allow-ffi flag`.
 */
function denoRefusals(cause) {
  const refusals = []
  for (const error of causeChain(cause)) {
    const message = String(error && error.message)
    const match = /Requires (\w+) access to/.exec(message)
    const named = error && (error.name === 'NotCapable' || error.name === 'PermissionDenied')
    if (match || named) refusals.push({ kind: match ? match[1] : undefined, message })
  }
  return refusals
}

/** Whether Deno already grants `descriptor` (false when it cannot be asked). */
function denoGrants(descriptor) {
  try {
    return Deno.permissions.querySync(descriptor).state === 'granted'
  } catch {
    return false
  }
}

/**
 * The Deno flags the package needs: the addon is loaded through FFI, napi's
 * loader and this package read environment variables (NAPI_RS_*,
 * CROSSMINT_NATIVE_*), and on Linux the loader reads /usr/bin/ldd to tell
 * glibc from musl. Only when that read is allowed and sys access is still
 * refused (no /usr/bin/ldd: the loader falls back to Node's report, which
 * asks for sys) is --allow-sys needed; any other refused kind is added.
 */
function denoFlags(refusals) {
  const flags = ['--allow-ffi', '--allow-env']
  const linux = process.platform === 'linux'
  if (linux) flags.push('--allow-read=/usr/bin/ldd')
  for (const { kind } of refusals) {
    if (!kind || flags.some((flag) => flag.startsWith(`--allow-${kind}`))) continue
    if (kind === 'sys' && linux && !denoGrants({ name: 'read', path: '/usr/bin/ldd' })) continue
    flags.push(`--allow-${kind}`)
  }
  return flags
}

/** Whether a package resolves from the package's own folder. */
function isInstalled(name) {
  try {
    require.resolve(`${name}/package.json`)
    return true
  } catch {
    return false
  }
}

function withCause(message, cause) {
  const error = new Error(message)
  error.cause = cause
  return error
}

/**
 * The error to throw when napi's loader (native.js) failed with `cause`.
 * Its first sentence is the cause and the next step; `cause` is kept.
 */
function nativeLoadError(cause) {
  if (cause && cause.code === 'MODULE_NOT_FOUND' && String(cause.message).includes(`${PACKAGE}/native.js`)) {
    // Bundled, and the package is not beside the bundle: a Next.js
    // standalone output that tracing could not complete.
    return withCause(
      `${PACKAGE} was bundled but its native loader is not installed beside the bundle. ` +
        'With Next.js output: "standalone", add to next.config: ' +
        'outputFileTracingIncludes: { "/**": ["./node_modules/crossmint-server-native*/**"] }',
      cause,
    )
  }

  const refusals = isDeno() ? denoRefusals(cause) : []
  if (refusals.length > 0) {
    const flags = denoFlags(refusals).join(' ')
    return withCause(
      `Run Deno with ${flags} (and --allow-net for your server): ${PACKAGE} loads a native addon and Deno refused a permission it needs. ` +
        `For example: deno run ${flags} --allow-net main.ts. Deno said: ${refusals[0].message}`,
      cause,
    )
  }

  const here = currentPlatform()
  const supported = supportedPlatforms()
  if (!supported.includes(here)) {
    return withCause(
      `${PACKAGE} has no prebuilt binary for ${here}: it is built for ${supported.join(', ') || 'no platform'}. ` + `On ${here}, ${buildFromSource()}`,
      cause,
    )
  }

  const platformPackage = PLATFORM_PACKAGE_PREFIX + here
  if (!isInstalled(platformPackage)) {
    return withCause(
      `${platformPackage}, the optional package that carries the ${here} binary, is not installed. ` +
        `Reinstall without --omit=optional (or --no-optional), or add it: npm install ${platformPackage}@${packageJson.version}.`,
      cause,
    )
  }

  // The platform package is there but its binary did not load (a version
  // mismatch, a damaged file, a C library too old): say which, from napi's chain.
  const detail = causeChain(cause)
    .map((error) => String(error && error.message))
    .find((message) => (message.includes(platformPackage) || /version mismatch/.test(message)) && !/Cannot find module/.test(message))
  const runtime = isDeno() ? `Deno ${process.versions.deno || ''}`.trim() : `Node ${process.versions.node}`
  return withCause(
    `${platformPackage} is installed but its binary did not load on ${here} (${runtime}): ` +
      `${detail || (cause && cause.message)}. Reinstall ${platformPackage}@${packageJson.version}, or ${buildFromSource()}`,
    cause,
  )
}

/** How a user builds the addon themselves: in a clone, never in their own app (whose `npm run build` is its own). */
function buildFromSource() {
  const url = repositoryUrl()
  return (
    `build it from source with a Rust toolchain: git clone ${url || 'the repository'}, ` +
    `run npm install && npm run build in the clone, then npm install <path to the clone> in your app` +
    `${url ? ` (${url}/blob/main/README.md#building-from-source)` : ''}.`
  )
}

module.exports = { nativeLoadError, supportedPlatforms, currentPlatform, platformNameOfTriple }
