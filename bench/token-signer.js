'use strict'
// Pre-signs many distinct JWTs for the "never-seen token" rows, before any
// timing starts. An RS256 signature costs ~0.25 ms, so tens of thousands are
// signed on worker threads, one per core. Tokens have the shape the emulator
// issues (header { alg, kid }, claims sub/iat/exp/iss/aud), signed with the
// emulator's own published keys, so they verify exactly like its sessions.

const crypto = require('node:crypto')
const os = require('node:os')
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads')

const SIGNING = {
  RS256: { hash: 'sha256', keyOptions: {} },
  ES256: { hash: 'sha256', keyOptions: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null, keyOptions: {} },
}

// The emulator's project: every Crossmint JWT names its project in `aud`.
const JWT_AUDIENCE = require('../testing/emulator.js').TEST_PROJECT_ID

function subjectFor(prefix, index) {
  return `${prefix}-${index}`
}

/**
 * Tokens held as bytes in one buffer, each read out as a fresh string when
 * used (`token(i)`), as a server reads it out of a request: hundreds of
 * thousands of long-lived strings would make every garbage collection of
 * the measured process mark them.
 */
class TokenPool {
  constructor(buffer, offsets) {
    this.buffer = buffer
    this.offsets = offsets
    this.length = offsets.length - 1
  }

  token(index) {
    if (index >= this.length) throw new Error(`token pool exhausted (${this.length} tokens)`)
    return this.buffer.toString('latin1', this.offsets[index], this.offsets[index + 1] - 1)
  }
}

function signRange({ privatePem, alg, kid, issuer, prefix, from, to }) {
  const { hash, keyOptions } = SIGNING[alg]
  const key = { key: crypto.createPrivateKey(privatePem), ...keyOptions }
  const header = Buffer.from(JSON.stringify({ alg, kid })).toString('base64url')
  const iat = Math.floor(Date.now() / 1000)
  const tokens = []
  for (let index = from; index < to; index++) {
    const claims = { sub: subjectFor(prefix, index), iat, exp: iat + 3600, iss: issuer, aud: JWT_AUDIENCE }
    const signingInput = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`
    const signature = crypto.sign(hash, Buffer.from(signingInput), key)
    tokens.push(`${signingInput}.${signature.toString('base64url')}`)
  }
  // One newline-separated buffer: no per-string structured clone back.
  return Buffer.from(`${tokens.join('\n')}\n`, 'latin1')
}

/** A TokenPool of `count` distinct tokens; token i has subject `${prefix}-${i}`. */
async function signDistinctTokens({ privatePem, alg, kid, issuer, prefix, count }) {
  const workerCount = Math.max(1, Math.min(os.availableParallelism ? os.availableParallelism() : os.cpus().length, 8))
  const share = Math.ceil(count / workerCount)
  const parts = []
  for (let from = 0; from < count; from += share) {
    const to = Math.min(count, from + share)
    parts.push(
      new Promise((resolve, reject) => {
        const worker = new Worker(__filename, { workerData: { privatePem, alg, kid, issuer, prefix, from, to } })
        worker.once('message', resolve)
        worker.once('error', reject)
        worker.once('exit', (code) => code !== 0 && reject(new Error(`token signer exited with ${code}`)))
      }),
    )
  }
  const buffer = Buffer.concat((await Promise.all(parts)).map((part) => Buffer.from(part.buffer, part.byteOffset, part.byteLength)))
  const offsets = new Uint32Array(count + 1)
  let token = 0
  for (let index = 0; index < buffer.length; index++) if (buffer[index] === 0x0a) offsets[++token] = index + 1
  if (token !== count) throw new Error(`signed ${token} tokens, expected ${count}`)
  return new TokenPool(buffer, offsets)
}

if (!isMainThread) parentPort.postMessage(signRange(workerData))

module.exports = { signDistinctTokens, subjectFor }
