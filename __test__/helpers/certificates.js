'use strict'
// A throw-away CA and a server certificate for 127.0.0.1, made with the
// openssl tool (.ci/run installs it), for tests of TLS peers: a Redis that
// speaks TLS, an https Crossmint. Removed when the test ends.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

function makeCertificates(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-tls-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = (name) => path.join(dir, name)
  const openssl = (...args) => execFileSync('openssl', args, { stdio: 'pipe' })
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2', '-subj', '/CN=test CA')
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1')
  fs.writeFileSync(file('ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '2',
    '-extfile',
    file('ext'),
  )
  fs.writeFileSync(file('empty.pem'), '')
  return { dir, ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key'), empty: file('empty.pem') }
}

module.exports = { makeCertificates }
