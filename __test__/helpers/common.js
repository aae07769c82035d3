'use strict'
// The helpers the test folders share, each defined here once: where things
// are, the package under test on a Crossmint emulator, clocks, requests
// carrying session cookies, counts of what Crossmint received, HTTP exchanges
// reduced to what a browser keeps, and small loopback servers.
//
// Loading this module changes nothing in the process: the package is loaded
// on first use (tests of the packed package never load it in-process), and
// harness.js, which runs the reference SDK beside ours, is where
// console.error and unhandled rejections are hooked (it re-exports
// everything here). Child scripts use it too.
// Crossmint's paths are exported by the emulator (testing/emulator.js).

const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const path = require('node:path')

const { startCrossmintEmulator, JWKS_PATH } = require('../../testing/emulator.js')

// ---- where things are --------------------------------------------------------

/** The repository: the package's own folder. */
const root = path.join(__dirname, '..', '..')
/** __test__/, whose folders hold the tests by what they test. */
const testsDir = path.join(__dirname, '..')

/** The path of a test file named by its file name, in whichever folder of __test__/ holds it. */
function testFilePath(name) {
  const folder = fs.readdirSync(testsDir).find((dir) => fs.existsSync(path.join(testsDir, dir, name)))
  if (!folder) throw new Error(`${name} is in no folder of __test__/`)
  return path.join(testsDir, folder, name)
}

/** The path of a child-process script of helpers/: `childScript('stale-key-set')` is helpers/stale-key-set.child.js. */
const childScript = (name) => path.join(__dirname, `${name}.child.js`)

// ---- the package on an emulator --------------------------------------------

/** A Crossmint emulator for test `t`, closed when it ends. */
async function withEmulator(t) {
  const emulator = await startCrossmintEmulator()
  t.after(() => emulator.close())
  return emulator
}

/**
 * Our CrossmintAuth on the emulator (anything with `apiKey` and `url`), quiet
 * unless `options` say otherwise; `baseUrl` replaces the emulator's address.
 */
function authFor(emulator, options = {}, baseUrl = emulator.url) {
  const ours = require('../..')
  return ours.CrossmintAuth.from(ours.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: baseUrl }), {
    logger: false,
    ...options,
  })
}

// ---- clocks ------------------------------------------------------------------

/** The time in whole seconds, as JWT claims count it. */
function now() {
  return Math.floor(Date.now() / 1000)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until the wall clock (in whole seconds, as JWT checks count) reaches `seconds`. */
async function untilSecond(seconds) {
  while (Date.now() / 1000 < seconds + 0.05) await sleep(50)
}

// ---- session cookies ---------------------------------------------------------

/** The Cookie header a browser sends for `session` ({ jwt, refreshToken: { secret } }). */
function cookieHeaderFor(session) {
  return `crossmint-jwt=${session.jwt}; crossmint-refresh-token=${session.refreshToken.secret}`
}

/** A Fetch Request carrying `cookieHeader` (getSession's cookie path). */
function cookieRequest(cookieHeader) {
  return new Request('http://127.0.0.1/protected', { headers: { cookie: cookieHeader } })
}

/** A Fetch Request carrying only the refresh cookie (what logout reads). */
const withRefreshCookie = (secret) => new Request('http://127.0.0.1/', { headers: { cookie: `crossmint-refresh-token=${secret}` } })

// ---- what Crossmint received ---------------------------------------------------

/** A predicate on the emulator's recorded requests: the path ends with `suffix`. */
const pathIs = (suffix) => (request) => request.path.endsWith(suffix)

/** How many requests the emulator received on exactly `path`. */
const callsTo = (emulator, path) => emulator.requests.filter((r) => r.path === path).length

/** How many refreshes the emulator received (any path ending as the refresh endpoint's). */
const refreshCalls = (emulator) => emulator.requests.filter((r) => r.path.endsWith('/session/sdk/auth/refresh')).length

/** The emulator's key set address. */
const jwksUriOf = (emulator) => `${emulator.url}${JWKS_PATH}`

/** How many times the key set was fetched from the emulator. */
const jwksFetches = (emulator) => callsTo(emulator, JWKS_PATH)

// ---- HTTP exchanges ------------------------------------------------------------

/** A real HTTP exchange, reduced to what a browser would keep: `{ status, statusText, contentType, setCookie, body }` (body parsed when JSON). */
async function exchange(url, { method = 'GET', cookie, body, headers = {} } = {}) {
  const response = await fetch(url, {
    method,
    headers: { ...(cookie ? { cookie } : {}), ...headers },
    body,
  })
  return describeFetchResponse(response)
}

async function describeFetchResponse(response) {
  const text = await response.text()
  let body = text
  try {
    body = JSON.parse(text)
  } catch {}
  return {
    status: response.status,
    statusText: response.statusText,
    contentType: response.headers.get('content-type'),
    setCookie: response.headers.getSetCookie(),
    body,
  }
}

/**
 * The framework checks' exchange: redirects not followed, the answer as
 * `{ status, headers, setCookie, text, json }` (`json` when the body is JSON).
 */
async function exchangeText(url, { method = 'GET', cookie, headers = {}, body, signal } = {}) {
  const response = await fetch(url, { method, headers: { ...(cookie ? { cookie } : {}), ...headers }, body, redirect: 'manual', signal })
  const text = await response.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: response.status, headers: response.headers, setCookie: response.headers.getSetCookie(), text, json }
}

// ---- loopback servers ----------------------------------------------------------

/**
 * A loopback server that accepts connections and never answers (a hung
 * Crossmint or Redis, or a proxy in front of a dead one), closed when `t`
 * ends: its port.
 */
async function silentServer(t) {
  const held = new Set()
  const silent = net.createServer((socket) => held.add(socket))
  await new Promise((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.after(() => {
    for (const socket of held) socket.destroy()
    silent.close()
  })
  return silent.address().port
}

/** Serves `listener` (a node:http request listener: a handler, an Express app, a Koa callback) on loopback: `{ url, server, close }`. */
async function listen(listener) {
  const server = http.createServer(listener)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(resolve)
      }),
  }
}

/** `listen(listener)` for test `t`, closed when it ends; its URL. */
async function listenDuring(t, listener) {
  const { url, close } = await listen(listener)
  t.after(close)
  return url
}

/** Starts a plain node:http server on loopback; `handler(req, res)` as in the seeds (a throw answers 599). */
async function serve(handler) {
  return listen((req, res) => {
    Promise.resolve(handler(req, res)).catch((error) => {
      if (!res.headersSent) res.statusCode = 599
      res.end(`handler threw: ${error.message}`)
    })
  })
}

/** Starts an Express app built by `build(app, express)`. */
async function serveExpress(build) {
  const express = require('express')
  const app = express()
  build(app, express)
  return listen(app)
}

/** A server that redirects every request to the same path on `target`, with `status`. */
async function redirectingTo(target, status = 307) {
  return listen((req, res) => {
    res.writeHead(status, { location: `${target}${req.url}` })
    res.end()
  })
}

/** A loopback port that was free a moment ago, for servers in other processes. */
async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

// ---- API keys --------------------------------------------------------------------

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** Base58 (Bitcoin's alphabet), as API keys are written; leading zero bytes become "1"s. */
function base58Encode(bytes) {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`)
  let out = ''
  while (n > 0n) {
    out = `${BASE58[Number(n % 58n)]}${out}`
    n /= 58n
  }
  for (const b of Buffer.from(bytes)) {
    if (b !== 0) break
    out = `1${out}`
  }
  return out
}

/** The bytes base58 `text` stands for. */
function base58Decode(text) {
  let n = 0n
  for (const ch of text) n = n * 58n + BigInt(BASE58.indexOf(ch))
  let hex = n.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  return Buffer.from(hex, 'hex')
}

/**
 * A second API key that passes the signature check, for "another app" in
 * coordination tests. The signed payload is `<key data>:<signature>`;
 * anything after a further `:` is not covered by the check, so the same
 * signature makes another key text, which is all a flight key sees (only the
 * emulator accepts it).
 */
function otherValidKey(apiKey) {
  const prefix = apiKey.slice(0, apiKey.indexOf('_', 3) + 1)
  const payload = base58Decode(apiKey.slice(prefix.length)).toString('utf8')
  return prefix + base58Encode(Buffer.from(`${payload}:another-project`))
}

module.exports = {
  root,
  testsDir,
  testFilePath,
  childScript,
  /** The package under test, as `require('crossmint-server-native')` gives it. */
  get ours() {
    return require('../..')
  },
  withEmulator,
  authFor,
  now,
  sleep,
  untilSecond,
  cookieHeaderFor,
  cookieRequest,
  withRefreshCookie,
  pathIs,
  callsTo,
  refreshCalls,
  jwksUriOf,
  jwksFetches,
  exchange,
  describeFetchResponse,
  exchangeText,
  listen,
  listenDuring,
  silentServer,
  serve,
  serveExpress,
  redirectingTo,
  freePort,
  otherValidKey,
  base58Encode,
  base58Decode,
}
