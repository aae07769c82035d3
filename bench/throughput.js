'use strict'
// Section 1 and 2: ops/s of getSession and of the verifiers it is compared
// with, sequential (one await at a time) and with 64 calls in flight, for
// RS256, ES256 and EdDSA. Every op checks its result, so a wrong session
// fails the run instead of producing a fast number.

const crypto = require('node:crypto')
const http = require('node:http')
const net = require('node:net')

const ours = require('..')
const reference = require('@crossmint/server-sdk')
const jose = require('jose')
const { createVerifier } = require('fast-jwt')

const { measureThroughput, collectGarbage } = require('./timing.js')
const { signDistinctTokens, subjectFor } = require('./token-signer.js')
const { measureNeverSeen, tokensPerRound, IN_FLIGHT } = require('./never-seen.js')

/** Rounds of the never-seen patterns, each measured back to back with its node:crypto twin. */
const PAIRED_ROUNDS = 3

const ALGORITHMS = [
  { alg: 'RS256', kid: 'rsa-1', hash: 'sha256', keyOptions: {} },
  { alg: 'ES256', kid: 'ec-1', hash: 'sha256', keyOptions: { dsaEncoding: 'ieee-p1363' } },
  { alg: 'EdDSA', kid: 'ed-1', hash: null, keyOptions: {} },
]

function expectEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`)
  }
}

/** A real node:http request carrying the session cookies, as Express would pass it. */
function incomingMessageWithCookies(cookie) {
  const request = new http.IncomingMessage(new net.Socket())
  request.httpVersion = '1.1'
  request.httpVersionMajor = 1
  request.httpVersionMinor = 1
  request.method = 'GET'
  request.url = '/protected'
  request.headers = { cookie }
  return request
}

/** The RS256/ES256/EdDSA signature check alone, on the session's own token. */
function signatureCheck(jwt, publicPem, { hash, keyOptions }) {
  const lastDot = jwt.lastIndexOf('.')
  const signedPart = Buffer.from(jwt.slice(0, lastDot))
  const signature = Buffer.from(jwt.slice(lastDot + 1), 'base64url')
  const key = { key: crypto.createPublicKey(publicPem), ...keyOptions }
  const verifySync = () => {
    if (!crypto.verify(hash, signedPart, key, signature)) throw new Error('node:crypto rejected the signature')
  }
  // The callback form runs on libuv's thread pool: the floor for many
  // checks in flight, using every core.
  const verifyOnThreadPool = () =>
    new Promise((resolve, reject) => {
      crypto.verify(hash, signedPart, key, signature, (error, valid) => {
        if (error) reject(error)
        else if (!valid) reject(new Error('node:crypto rejected the signature'))
        else resolve()
      })
    })
  return { verifySync, verifyOnThreadPool }
}

async function runThroughput({ emulator, timing, distinctTokens, verifyLimitExecutable, log }) {
  const rows = []
  const neverSeen = []
  const oursAuth = ours.CrossmintAuth.from(ours.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }), {
    logger: false,
  })
  const referenceAuth = reference.CrossmintAuth.from(reference.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }))
  // Created once: jose then fetches the key set on first use and keeps it.
  const joseKeySet = jose.createRemoteJWKSet(new URL(emulator.jwksUri))

  const measureRow = async (row, { sequential, inFlight, durationMs = timing.measureMs, limits = {} }) => {
    for (const [column, op, concurrency] of [
      ['sequential', sequential, 1],
      ['inFlight', inFlight || sequential, IN_FLIGHT],
    ]) {
      collectGarbage()
      row[column] = await measureThroughput(op, {
        concurrency,
        warmupMs: timing.warmupMs,
        measureMs: durationMs,
        ...(limits[column] || {}),
      })
    }
    rows.push(row)
    log(
      `  ${row.alg.padEnd(5)} ${row.label.padEnd(58)} ${formatRate(row.sequential.opsPerSec).padStart(11)} seq` +
        `  ${formatRate(row.inFlight.opsPerSec).padStart(11)} @${IN_FLIGHT}`,
    )
    return row
  }

  for (const algorithm of ALGORITHMS) {
    const { alg, kid } = algorithm
    const userId = `bench-user-${alg}`
    const session = await emulator.createSession(userId, { alg })
    const secret = session.refreshToken.secret
    const { publicPem, privatePem } = await emulator.keyPems(kid)

    const checkSession = (result) => {
      expectEqual(result.userId, userId, `${alg} getSession userId`)
      return result
    }
    // One call outside the timing: it fetches the key set, and proves the
    // result is the session before anything is measured.
    const first = await oursAuth.getSession({ jwt: session.jwt, refreshToken: secret })
    expectEqual(first.jwt, session.jwt, `${alg} getSession jwt`)
    expectEqual(first.refreshToken.secret, secret, `${alg} getSession refresh secret`)
    checkSession(first)

    const oursMaterialOp = async () => checkSession(await oursAuth.getSession({ jwt: session.jwt, refreshToken: secret }))
    await measureRow({ id: 'ours-cached', alg, label: 'ours getSession({ jwt, refreshToken })' }, { sequential: oursMaterialOp })

    if (alg === 'RS256') {
      const request = incomingMessageWithCookies(`crossmint-jwt=${session.jwt}; crossmint-refresh-token=${secret}`)
      const fromRequest = await oursAuth.getSession(request)
      expectEqual(fromRequest.jwt, session.jwt, 'getSession(IncomingMessage) jwt')
      expectEqual(fromRequest.refreshToken.secret, secret, 'getSession(IncomingMessage) refresh secret')
      checkSession(fromRequest)
      await measureRow(
        { id: 'ours-request', alg, label: 'ours getSession(http.IncomingMessage)' },
        { sequential: async () => checkSession(await oursAuth.getSession(request)) },
      )

      // The guide's Next.js code: a client and an instance built for every
      // request, then getSession on the (already verified) session.
      const perRequestOp = async () => {
        const perRequestAuth = ours.CrossmintAuth.from(ours.createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }), { logger: false })
        checkSession(await perRequestAuth.getSession({ jwt: session.jwt, refreshToken: secret }))
      }
      await measureRow({ id: 'ours-per-request', alg, label: 'ours createCrossmint + from + getSession per request' }, { sequential: perRequestOp })

      const checkPayload = (payload) => expectEqual(payload.sub, userId, 'verified payload sub')
      await measureRow(
        { id: 'ours-verify-free', alg, label: 'ours verifyCrossmintJwt(jwt, jwksUri)' },
        { sequential: async () => checkPayload(await ours.verifyCrossmintJwt(session.jwt, emulator.jwksUri)) },
      )
      await measureRow(
        { id: 'ours-verify-method', alg, label: 'ours auth.verifyCrossmintJwt(jwt)' },
        { sequential: async () => checkPayload(await oursAuth.verifyCrossmintJwt(session.jwt)) },
      )
    }

    // Never-seen tokens: each op takes the next pre-signed one, so none is
    // answered from the verified-token cache.
    const prefix = `distinct-${alg}`
    const count = PAIRED_ROUNDS * tokensPerRound(distinctTokens)
    log(`  ${alg}: signing ${count.toLocaleString('en-US')} distinct tokens...`)
    const tokens = await signDistinctTokens({ privatePem, alg, kid, issuer: emulator.url, prefix, count })
    const distinctOp = async (index) => {
      const result = await oursAuth.getSession({ jwt: tokens.token(index), refreshToken: secret })
      expectEqual(result.userId, subjectFor(prefix, index), `${alg} distinct-token getSession userId`)
    }
    const limit =
      alg === 'RS256' && verifyLimitExecutable
        ? { executable: verifyLimitExecutable, jwt: session.jwt, jwk: emulator.jwks.keys.find((key) => key.kid === kid) }
        : null
    const floor = signatureCheck(session.jwt, publicPem, algorithm)
    const result = await measureNeverSeen({ alg, distinctOp, floor, limit, limits: distinctTokens, timing, rounds: PAIRED_ROUNDS, log })
    neverSeen.push(result)
    // The main table's rows: one at a time (seq) and 64 in flight (@64).
    const [sequential, , continuous] = result.patterns
    rows.push({
      id: 'ours-distinct',
      alg,
      label: 'ours getSession, distinct never-seen tokens',
      sequential: sequential.medianRounds.ours,
      inFlight: continuous.medianRounds.ours,
    })
    rows.push({
      id: 'floor',
      alg,
      label: 'node:crypto verify alone (seq: sync; @64: thread pool)',
      sequential: sequential.medianRounds.node,
      inFlight: continuous.medianRounds.node,
    })

    // The reference fetches the key set on every call, so it gets a fixed
    // duration rather than a fixed count.
    const referenceOp = async () => {
      const result = await referenceAuth.getSession({ jwt: session.jwt, refreshToken: secret })
      expectEqual(result.userId, userId, `${alg} reference getSession userId`)
    }
    await referenceOp()
    await measureRow(
      { id: 'reference', alg, label: '@crossmint/server-sdk getSession (JWKS fetched per call)' },
      { sequential: referenceOp, durationMs: timing.referenceMs },
    )

    await measureRow(
      { id: 'jose', alg, label: 'jose jwtVerify, createRemoteJWKSet once (cached)' },
      {
        sequential: async () => {
          const { payload } = await jose.jwtVerify(session.jwt, joseKeySet)
          expectEqual(payload.sub, userId, `${alg} jose sub`)
        },
      },
    )

    if (alg === 'RS256') {
      const fastJwtVerify = createVerifier({ key: publicPem })
      await measureRow(
        { id: 'fast-jwt', alg, label: 'fast-jwt createVerifier({ key: PEM })' },
        { sequential: async () => expectEqual(fastJwtVerify(session.jwt).sub, userId, 'fast-jwt sub') },
      )
      // Not asked for, but the fair twin of ours' cached row: fast-jwt's own
      // verified-token cache (LRU, keys hashed like ours).
      const fastJwtCachedVerify = createVerifier({ key: publicPem, cache: true })
      await measureRow(
        { id: 'fast-jwt-cache', alg, label: 'fast-jwt createVerifier({ key: PEM, cache: true })' },
        { sequential: async () => expectEqual(fastJwtCachedVerify(session.jwt).sub, userId, 'fast-jwt (cache) sub') },
      )
    }
  }
  return { rows, neverSeen }
}

function formatRate(opsPerSec) {
  return Math.round(opsPerSec).toLocaleString('en-US')
}

module.exports = { runThroughput, IN_FLIGHT, formatRate }
