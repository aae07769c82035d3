'use strict'
// Crossmint over https is verified against the system's root certificates:
// what a container without the ca-certificates package (Debian slim images)
// runs into. An https front for the emulator, with a certificate from a
// throw-away CA; each case is its own process, since the roots are loaded
// once per process.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const https = require('node:https')
const http = require('node:http')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { withEmulator, root } = require('../helpers/harness.js')
const { makeCertificates } = require('../helpers/certificates.js')

/** An https server in front of `target` (the emulator), on 127.0.0.1. */
async function httpsFront(t, target, tls) {
  const server = https.createServer({ cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key) }, (req, res) => {
    const upstream = http.request(new URL(req.url, target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return `https://127.0.0.1:${server.address().port}`
}

/**
 * In a fresh process with `env`: an instance on `baseUrl`, `call` (an
 * expression on `auth`) awaited, and its result or error reduced by `pick`
 * (source text of a function of the two) to what the test compares.
 */
function inProcess(baseUrl, apiKey, env, call, pick) {
  const script = `
    const { createCrossmint, CrossmintAuth } = require(${JSON.stringify(root)})
    const auth = CrossmintAuth.from(createCrossmint({ apiKey: ${JSON.stringify(apiKey)}, overrideBaseUrl: ${JSON.stringify(baseUrl)} }), { timeoutMs: 5000, logger: false })
    ;(${call}).then((result) => (${pick})(result, null), (error) => (${pick})(null, error)).then((outcome) => console.log(JSON.stringify(outcome)))`
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { env: { ...process.env, ...env }, timeout: 30000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`))
      resolve(JSON.parse(stdout.trim().split('\n').pop()))
    })
  })
}

/** getUser through `baseUrl` in a fresh process with `env`; its outcome. */
const getUserInProcess = (baseUrl, apiKey, userId, env) =>
  inProcess(baseUrl, apiKey, env, `auth.getUser(${JSON.stringify(userId)})`, (user, error) =>
    error ? { ok: false, code: error.code, message: error.message } : { ok: true, id: user.id },
  )

/** getSession with `material` through `baseUrl` in a fresh process. */
const sessionInProcess = (baseUrl, apiKey, material, env) =>
  inProcess(baseUrl, apiKey, env, `auth.getSession(${JSON.stringify({ jwt: material.jwt, refreshToken: material.refreshToken.secret })})`, (session, error) =>
    error ? { ok: false, name: error.name, code: error.code } : { ok: true, userId: session.userId },
  )

test('Crossmint over https: trusted through the system roots (SSL_CERT_FILE), and a clear CROSSMINT_UNAVAILABLE without them', {
  timeout: 60000,
}, async (t) => {
  const tls = makeCertificates(t)
  const emulator = await withEmulator(t)
  const session = emulator.createSession('tls-user')
  const baseUrl = await httpsFront(t, emulator.url, tls)
  const emptyDir = fs.mkdtempSync(path.join(tls.dir, 'certs-'))

  const trusted = await getUserInProcess(baseUrl, emulator.apiKey, session.userId, { SSL_CERT_FILE: tls.ca, SSL_CERT_DIR: emptyDir })
  assert.deepEqual(trusted, { ok: true, id: 'tls-user' })

  // No root certificates at all, as in an image without ca-certificates.
  const bare = await getUserInProcess(baseUrl, emulator.apiKey, session.userId, { SSL_CERT_FILE: tls.empty, SSL_CERT_DIR: emptyDir })
  assert.equal(bare.ok, false, JSON.stringify(bare))
  assert.equal(bare.code, 'CROSSMINT_UNAVAILABLE')
  assert.match(
    bare.message,
    /cannot make HTTPS calls: .*No CA certificates were loaded from the system \(install the system's CA certificates, e\.g\. the ca-certificates package, or set SSL_CERT_FILE/,
  )
  // The session path too: an expired JWT's refresh fails the same way, and
  // the cookies are kept (an outage, not a sign-out).
  const expired = emulator.createSession('tls-expired', { jwtTtlSeconds: -60 })
  const refreshed = await sessionInProcess(baseUrl, emulator.apiKey, expired, { SSL_CERT_FILE: tls.empty, SSL_CERT_DIR: emptyDir })
  assert.deepEqual(refreshed, { ok: false, name: 'CrossmintAuthenticationError', code: 'CROSSMINT_UNAVAILABLE' })
})
