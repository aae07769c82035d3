'use strict'
// Runs one scenario through the reference SDK and through ours against the
// same Crossmint emulator, and reduces what each did (return value or error,
// HTTP answer, Set-Cookie headers, calls Crossmint received, unhandled
// rejections) to a comparable record. Tokens differ between the two runs, so
// they are replaced by labels in order of first appearance; dates are checked
// for format and then replaced too.
//
// Loading it hooks console.error and unhandled rejections for the whole
// process (below). Tests that load it get the shared helpers of common.js
// through it as well, re-exported unchanged.

const assert = require('node:assert/strict')

const reference = require('@crossmint/server-sdk')
const { CrossmintAuthenticationError: ReferenceAuthError } = require('@crossmint/common-sdk-auth')
const common = require('./common.js')
const { ours, sleep, serve, serveExpress } = common
const { JWKS_PATH, TEST_PROJECT_ID } = require('../../testing/emulator.js')

const IMPLEMENTATIONS = [
  ['reference', reference, ReferenceAuthError],
  ['ours', ours, ours.CrossmintAuthenticationError],
]

// The reference starts logout() without awaiting it, and that promise can
// reject (see README, differences). node:test would fail whichever test is
// running when that happens, so record such rejections per run instead: the
// reference's own logout is observed through a wrapper that notes a rejection
// and leaves the promise otherwise untouched.
const unhandled = []
const noteRejection = (error) => unhandled.push(error instanceof Error ? error.message : String(error))
const referenceLogout = reference.CrossmintAuth.prototype.logout
reference.CrossmintAuth.prototype.logout = function observedLogout(...args) {
  const pending = referenceLogout.apply(this, args)
  pending.catch(noteRejection)
  return pending
}
process.on('unhandledRejection', noteRejection)

/** Captures console.error lines (first argument) while a run is active. */
const logged = []
const originalConsoleError = console.error
console.error = (...args) => {
  logged.push(typeof args[0] === 'string' ? args[0] : args[0] instanceof Error ? `Error: ${args[0].message}` : String(args[0]))
  if (process.env.SHOW_SDK_LOGS) originalConsoleError(...args)
}

function describeError(error, AuthError) {
  return {
    // jose's classes are told apart by name; ours are Errors carrying that name.
    kind: error instanceof AuthError ? 'CrossmintAuthenticationError' : error.name,
    message: error.message,
  }
}

async function settle(emulator, quietMs = 120) {
  // Background calls (logout after a failed session) land after the promise
  // settles; wait until Crossmint has been quiet for a moment.
  let seen = -1
  while (seen !== emulator.requests.length) {
    seen = emulator.requests.length
    await sleep(quietMs)
  }
}

const TOKEN_PATTERNS = [
  [/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, 'jwt'],
  [/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g, 'secret'],
]
const DATE_PATTERNS = [
  [/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/g, '<iso-date>'],
  [/(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT/g, '<http-date>'],
]

/** Replaces run-specific values by stable labels, keeping structure and formats. */
function normalize(record) {
  let text = JSON.stringify(record)
  for (const [pattern, label] of TOKEN_PATTERNS) {
    const labels = new Map()
    text = text.replace(pattern, (token) => {
      if (!labels.has(token)) labels.set(token, `<${label}#${labels.size + 1}>`)
      return labels.get(token)
    })
  }
  for (const [pattern, label] of DATE_PATTERNS) text = text.replace(pattern, label)
  return JSON.parse(text)
}

const CROSSMINT_HEADERS = ['x-api-key', 'x-client-name', 'x-client-version', 'x-app-identifier', 'x-extension-id', 'authorization', 'content-type']

/** What Crossmint saw, minus key set fetches (the reference fetches per call; we cache). */
function crossmintCalls(emulator) {
  return emulator.requests
    .filter((r) => r.path !== JWKS_PATH)
    .map((r) => {
      const headers = {}
      for (const name of CROSSMINT_HEADERS) if (r.headers[name] !== undefined) headers[name] = r.headers[name]
      return { method: r.method, path: r.path, body: r.json, headers }
    })
}

// The guide's refresh routes: handleCustomRefresh, log what it throws, end.
async function guideRefresh(auth, req, res) {
  try {
    await auth.handleCustomRefresh(req, res)
  } catch (error) {
    console.error('Error refreshing token', error)
  }
  res.end()
}

/** The guide's vanilla node:http refresh route (any path). */
function vanillaRefreshRoute(auth) {
  return serve((req, res) => guideRefresh(auth, req, res))
}

/** The guide's Express `/refresh` route, with or without express.json(). */
function expressRefreshRoute(auth, { json }) {
  return serveExpress((app, express) => {
    if (json) app.use(express.json())
    app.post('/refresh', (req, res) => guideRefresh(auth, req, res))
  })
}

/**
 * Runs `scenario(sdk, env)` for both implementations. `env` has the emulator,
 * `auth(options)` (a CrossmintAuth on the emulator), the AuthError class and
 * helpers. Returns `{ reference, ours }` normalized records.
 */
async function runBoth(emulator, scenario) {
  const records = {}
  for (const [name, sdk, AuthError] of IMPLEMENTATIONS) {
    emulator.resetFaults()
    await settle(emulator, 30)
    emulator.clearRequests()
    unhandled.length = 0
    logged.length = 0
    const env = {
      emulator,
      name,
      AuthError,
      crossmint: (extra = {}) => sdk.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url, ...extra }),
      auth: (options, extra) => sdk.CrossmintAuth.from(env.crossmint(extra), options),
    }
    const record = {}
    try {
      record.value = await scenario(sdk, env)
    } catch (error) {
      record.error = describeError(error, AuthError)
    }
    await settle(emulator)
    record.crossmint = crossmintCalls(emulator)
    record.unhandledRejections = [...unhandled]
    record.logged = [...logged]
    records[name] = normalize(name === 'ours' ? asReferenceNaming(record) : record)
  }
  return records
}

const SCOPED_NAME = new RegExp(`^(crossmint-jwt|crossmint-refresh-token)-${TEST_PROJECT_ID}=`)

/**
 * Our Set-Cookie lists as the reference would have written them, for the
 * differences we make on purpose (README, "Cookie names and Crossmint client
 * versions"): the project-scoped names read as the unscoped ones, and of two
 * lines for one name the first (the material; the second expires the other
 * naming). Everything else in the record is compared as it is.
 */
function asReferenceNaming(value) {
  if (Array.isArray(value)) {
    const isSetCookieList = value.length > 0 && value.every((v) => typeof v === 'string' && /^crossmint-(jwt|refresh-token)[^=;]*=/.test(v))
    if (!isSetCookieList) return value.map(asReferenceNaming)
    const byName = new Map()
    for (const line of value) {
      const renamed = line.replace(SCOPED_NAME, '$1=')
      const name = renamed.slice(0, renamed.indexOf('='))
      if (!byName.has(name)) byName.set(name, renamed)
    }
    return [...byName.values()]
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, asReferenceNaming(v)]))
  }
  return value
}

/** Asserts the two implementations behaved identically; returns the shared record. */
async function assertSame(emulator, scenario) {
  const { reference: ref, ours: mine } = await runBoth(emulator, scenario)
  assert.deepStrictEqual(mine, ref)
  return ref
}

module.exports = {
  ...common,
  reference,
  runBoth,
  assertSame,
  asReferenceNaming,
  vanillaRefreshRoute,
  expressRefreshRoute,
  describeError,
  normalize,
  settle,
}
