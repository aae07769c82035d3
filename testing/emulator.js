'use strict'

// A local stand-in for the parts of the Crossmint API that the server SDK talks
// to, so tests can run offline and can provoke failures the real service never
// produces on demand. Plain CommonJS with only node: built-ins so it runs before
// anything is installed or built.

const http = require('node:http')
const crypto = require('node:crypto')
const { promisify } = require('node:util')

const generateKeyPair = promisify(crypto.generateKeyPair)

// Public development key from Crossmint's own test material. Its embedded
// Ed25519 signature validates, so code that checks API key signatures accepts it.
const TEST_API_KEY =
  'ck_development_A61UZQnvjSQcM5qVBaBactgqebxafWAVsNdD2xLkgBxoYuH5q2guM8r9DUmZQzE1WYyoByGVYpEG2o9gVSzAZFsrLbfKGERUJ6D5CW6S9AsJGAc3ctgrsD4n2ioekzGj7KPbLwT3SysDjMamYXLxEroUbQSdwf6aLF4zeEpECq2crkTUQeLFzxzmjWNxFDHFYefDrfrFPCURvBXJLf5pCxCQ'

const API_PREFIX = '/api/'
const JWKS_PATH = '/.well-known/jwks.json'
const REFRESH_PATH = '/api/2024-09-26/session/sdk/auth/refresh'
const LOGOUT_PATH = '/api/2024-09-26/session/sdk/auth/logout'
const USER_PATH_PREFIX = '/api/2024-09-26/sdk/auth/user/'

const BASE58_ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'

/** The bytes base58 `text` stands for (undefined when it is not base58). */
function base58Decode(text) {
  let value = 0n
  for (const char of text) {
    const digit = BASE58_ALPHABET.indexOf(char)
    if (digit < 0) return undefined
    value = value * 58n + BigInt(digit)
  }
  const hex = value === 0n ? '' : value.toString(16)
  const body = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex')
  const leadingZeros = text.length - text.replace(/^1+/, '').length
  return Buffer.concat([Buffer.alloc(leadingZeros), body])
}

/**
 * The project id an API key carries (`<ck|sk>_<env>_` then base58 of
 * `<projectId>.<...>:<signature>`), as Crossmint reads it; undefined for a
 * key that does not have that shape. The signature is not checked here.
 */
function projectIdOf(apiKey) {
  const match = /^(?:ck|sk)_(?:development|staging|production)_(.+)$/.exec(String(apiKey || ''))
  const decoded = match && base58Decode(match[1])
  if (!decoded) return undefined
  const keyData = decoded.toString('utf8').split(':')[0]
  const projectId = keyData.split('.')[0]
  return projectId || undefined
}

/** The test key's project: Crossmint sets it as every JWT's `aud`. */
const TEST_PROJECT_ID = projectIdOf(TEST_API_KEY)
const DEFAULT_JWT_TTL_SECONDS = 3600
const DEFAULT_REFRESH_TTL_SECONDS = 7 * 24 * 3600

const ALGORITHMS = {
  RS256: { family: 'rsa', hash: 'sha256' },
  RS384: { family: 'rsa', hash: 'sha384' },
  RS512: { family: 'rsa', hash: 'sha512' },
  PS256: { family: 'rsa', hash: 'sha256', pss: true, saltLength: 32 },
  PS384: { family: 'rsa', hash: 'sha384', pss: true, saltLength: 48 },
  PS512: { family: 'rsa', hash: 'sha512', pss: true, saltLength: 64 },
  ES256: { family: 'ec-256', hash: 'sha256' },
  ES384: { family: 'ec-384', hash: 'sha384' },
  EdDSA: { family: 'ed25519', hash: null },
}

// Each key family's "shape" must match between a kid and an alg, otherwise
// node:crypto would either throw deep inside sign() or silently produce a
// token no verifier could ever accept.
function keyFamilyOf(publicKey) {
  const type = publicKey.asymmetricKeyType
  if (type === 'rsa') return 'rsa'
  if (type === 'ed25519') return 'ed25519'
  if (type === 'ec') {
    const curve = publicKey.asymmetricKeyDetails.namedCurve
    if (curve === 'prime256v1') return 'ec-256'
    if (curve === 'secp384r1') return 'ec-384'
  }
  throw new Error(`unsupported key type ${type}`)
}

function generateRsaKey() {
  return generateKeyPair('rsa', { modulusLength: 2048 })
}

function base64url(input) {
  return Buffer.from(input).toString('base64url')
}

function randomSecret() {
  return crypto.randomBytes(32).toString('base64url')
}

function sendJson(res, status, payload) {
  const body = JSON.stringify(payload)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

function sendError(res, status, message) {
  sendJson(res, status, { error: http.STATUS_CODES[status] || 'Error', message })
}

// The `truncate` fault: a complete HTTP answer (its content-length matches)
// whose JSON stops halfway, as a proxy cutting a body short would leave it.
function sendTruncatedJson(res, status, payload) {
  const full = JSON.stringify(payload)
  const body = full.slice(0, Math.floor(full.length / 2))
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

function sendHtml(res, status) {
  const reason = http.STATUS_CODES[status] || 'Error'
  const body =
    `<!DOCTYPE html>\n<html><head><title>${status} ${reason}</title></head>` +
    `<body><h1>${status} ${reason}</h1><p>upstream proxy error (emulated)</p></body></html>\n`
  res.writeHead(status, {
    'content-type': 'text/html',
    'content-length': Buffer.byteLength(body),
  })
  res.end(body)
}

/**
 * Starts a local emulator of the Crossmint endpoints the server SDK uses,
 * listening on 127.0.0.1.
 *
 * @param {object} [options]
 * @param {number} [options.port=0] port to listen on; 0 picks a free one.
 * @param {string[]} [options.publishedKids] kids published in the JWKS
 *   (default: rsa-1, rsa-ps, ec-1, ec-384, ed-1).
 * @returns {Promise<object>} the emulator:
 *   - `url` base URL without trailing slash; `apiKey` (= TEST_API_KEY);
 *     `projectId` (the key's project, every JWT's `aud` by default);
 *   - `jwks` the published `{ keys }` set (assigning replaces what is served);
 *   - `signJwt(claims, { alg, kid, key, header, secret })` compact JWS;
 *   - `createSession(userId?, { email, jwtTtlSeconds, refreshedJwtTtlSeconds, alg, refreshTtlSeconds, project, aud })`
 *     (`project`: the project its refresh tokens are bound to, the key's by
 *     default; a refresh with another project's key is refused. `aud`: what
 *     every JWT of the session carries: the project's id by default, `null`
 *     for none, or any string or array, such as another project's id.
 *     `jwtTtlSeconds` is the lifetime of this session's first JWT only, so
 *     `-60` gives an expired one; JWTs issued by a refresh live
 *     `refreshedJwtTtlSeconds`, default one hour; every JWT has its own `jti`)
 *     → `{ jwt, refreshToken: { secret, expiresAt }, userId, family }`;
 *     `family` names the session: every refresh token a refresh issues from
 *     one of its tokens belongs to the same family;
 *   - `issueRefreshToken(userId, { family })` (a new family unless given),
 *     `revokeRefreshToken(secret)`;
 *   - `refreshTokenState(secret)` → undefined for a secret never issued, else
 *     `{ userId, family, generation, live, used, revoked, expired, successor,
 *     issuedAt, usedAt, revokedAt, presentations, logoutCalls }` (times in ms since the
 *     epoch; `generation` 0 for a session's first token, +1 per refresh;
 *     `successor` the secret its refresh issued). `presentations` lists, in
 *     order, every refresh call that named the token: `{ at, result }` with
 *     `result` one of
 *       `'rotated'`: spent, a good answer sent (`delivered: false` is added
 *         when the caller had already gone away, e.g. after a `delayMs` past
 *         its deadline: the token is spent and nobody holds its successor);
 *       `'rotated-unusable'`: spent, but the answer was made unusable on
 *         purpose (`truncate`);
 *       `'refused'`: answered 401 (`reason`: 'used', 'revoked' or 'expired');
 *       `'fault-before'`: a fault answered (or hung, or reset the
 *         connection) before the token was looked at: not spent;
 *     `logoutCalls` lists the logout calls that named it, `{ at, result }`
 *     with `result` 'revoked' (done, whatever its state was) or
 *     'fault-before' (a fault answered first: nothing revoked);
 *   - `liveRefreshTokens(family)` → the secrets of that family that are not
 *     used, revoked or expired; `familyOf(secret)` → its family or undefined;
 *   - `rotateKeys({ dropOld })` → new RSA kid, now the RS* default;
 *     `dropOld` withdraws the kid that was the default until now;
 *   - `getKey(kid)` → `{ privateKey, publicKey }` KeyObjects, for attack tests;
 *   - `requests` log, `clearRequests()`, `waitForRequest(predicate, timeoutMs)`;
 *   - `faults` `{ refresh, logout, user, jwks }`, `resetFaults()`. A fault is
 *     null or an object; every member is optional and they combine in this
 *     order:
 *       `probability` (0..1, default 1): the share of calls it applies to
 *         (the others are answered normally);
 *       `times`: apply to the next N calls only, then switch off;
 *       `delayMs`: wait, then go on with the members below or, if none,
 *         answer normally (a refresh delayed past the caller's deadline
 *         still spends the token);
 *       `reset: true`: destroy the connection, token not looked at;
 *       `hang: true`: never answer, token not looked at;
 *       `html: status`: an HTML error page (a proxy's 502/503);
 *       `body` (+ `status`, `contentType`): that raw body;
 *       `status`: a JSON error with that status;
 *       `truncate: true`: process the call normally (a refresh spends the
 *         token and issues a new one, recorded as 'rotated-unusable'), then
 *         send its status with the JSON body cut in half;
 *   - `REFRESH_PATH`, `LOGOUT_PATH`, `JWKS_PATH`, `USER_PATH_PREFIX` are
 *     exported beside `startCrossmintEmulator`;
 *   - `close()` stops the server and drops every open socket.
 */
async function startCrossmintEmulator(options = {}) {
  const [rsa1, rsaPs, rsaUnpublished, ec256, ec384, ed25519, ec256Spare, ec384Spare, edSpare] = await Promise.all([
    generateRsaKey(),
    generateRsaKey(),
    generateRsaKey(),
    generateKeyPair('ec', { namedCurve: 'P-256' }),
    generateKeyPair('ec', { namedCurve: 'P-384' }),
    generateKeyPair('ed25519'),
    // Unpublished twins of the non-RSA keys, so `key: 'unpublished'` can
    // forge a token for any alg, not only RS*/PS*.
    generateKeyPair('ec', { namedCurve: 'P-256' }),
    generateKeyPair('ec', { namedCurve: 'P-384' }),
    generateKeyPair('ed25519'),
  ])

  // kid → { privateKey, publicKey, alg }. alg is what the JWK advertises;
  // undefined means the JWK carries no alg member at all.
  const keysByKid = new Map([
    ['rsa-1', { ...rsa1, alg: 'RS256' }],
    ['rsa-ps', { ...rsaPs, alg: undefined }],
    ['ec-1', { ...ec256, alg: 'ES256' }],
    ['ec-384', { ...ec384, alg: 'ES384' }],
    ['ed-1', { ...ed25519, alg: 'EdDSA' }],
    ['rsa-unpublished', { ...rsaUnpublished, alg: 'RS256' }],
  ])
  const unpublishedKeyByFamily = {
    rsa: rsaUnpublished,
    'ec-256': ec256Spare,
    'ec-384': ec384Spare,
    ed25519: edSpare,
  }

  const publishedKids = new Set(options.publishedKids || ['rsa-1', 'rsa-ps', 'ec-1', 'ec-384', 'ed-1'])
  let currentRsaKid = 'rsa-1'
  let rotationCount = 1
  let jwksOverride = null

  const defaultKidForAlg = (alg) => {
    if (alg.startsWith('RS')) return currentRsaKid
    if (alg.startsWith('PS')) return 'rsa-ps'
    if (alg === 'ES256') return 'ec-1'
    if (alg === 'ES384') return 'ec-384'
    if (alg === 'EdDSA') return 'ed-1'
    return undefined
  }

  const publicJwk = (kid) => {
    const entry = keysByKid.get(kid)
    const jwk = entry.publicKey.export({ format: 'jwk' })
    return { kid, ...(entry.alg ? { alg: entry.alg } : {}), use: 'sig', ...jwk }
  }

  const buildJwks = () => ({
    keys: [...publishedKids].filter((kid) => keysByKid.has(kid)).map(publicJwk),
  })

  function signJwt(claims, signOptions = {}) {
    const alg = signOptions.alg || 'RS256'
    const kid = signOptions.kid === undefined ? defaultKidForAlg(alg) : signOptions.kid
    const header = { alg, ...(kid === null || kid === undefined ? {} : { kid }), ...(signOptions.header || {}) }
    const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`

    if (alg === 'none') return `${signingInput}.`

    if (alg === 'HS256') {
      if (signOptions.secret === undefined) throw new Error('HS256 needs options.secret')
      const mac = crypto.createHmac('sha256', signOptions.secret).update(signingInput).digest()
      return `${signingInput}.${mac.toString('base64url')}`
    }

    const spec = ALGORITHMS[alg]
    if (!spec) throw new Error(`unsupported alg ${alg}`)

    let privateKey
    if (signOptions.key === 'unpublished') {
      privateKey = unpublishedKeyByFamily[spec.family].privateKey
    } else if (signOptions.key && signOptions.key !== 'published') {
      throw new Error(`options.key must be 'published' or 'unpublished'`)
    } else {
      // An explicit kid that names none of our keys still gets a real
      // signature (from the alg's default key), which is what an
      // "unknown kid" test needs.
      const entry = keysByKid.get(kid) || keysByKid.get(defaultKidForAlg(alg))
      privateKey = entry.privateKey
    }
    const family = keyFamilyOf(privateKey)
    if (family !== spec.family) throw new Error(`kid ${kid} is a ${family} key and cannot sign ${alg}`)

    let keyInput = privateKey
    if (spec.pss) {
      keyInput = { key: privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: spec.saltLength }
    } else if (family.startsWith('ec-')) {
      // JWS wants the fixed-width r||s form, not OpenSSL's DER default.
      keyInput = { key: privateKey, dsaEncoding: 'ieee-p1363' }
    }
    const signature = crypto.sign(spec.hash, Buffer.from(signingInput), keyInput)
    return `${signingInput}.${signature.toString('base64url')}`
  }

  // --- users and refresh tokens -------------------------------------------

  const usersById = new Map()
  // secret → { userId, family, generation, issuedAtMs, expiresAtMs, used,
  // usedAtMs, revoked, revokedAtMs, successor, presentations }
  const refreshTokensBySecret = new Map()
  // family → its secrets in the order they were issued.
  const secretsByFamily = new Map()
  // family → { project, audience }: the project its refresh tokens are bound
  // to and the `aud` its JWTs carry (createSession's options).
  const familyScopes = new Map()
  const scopeOf = (family) => familyScopes.get(family) || { project: TEST_PROJECT_ID, audience: undefined }
  let familyCount = 0

  const registerUser = (userId, settings = {}) => {
    const existing = usersById.get(userId)
    const user = {
      id: userId,
      email: settings.email || (existing && existing.email) || `${userId}@example.com`,
      alg: settings.alg || (existing && existing.alg) || 'RS256',
      // What a refresh issues. A session's first JWT may be given another
      // lifetime (createSession's jwtTtlSeconds) without making every later
      // JWT of the user expired too, which would refresh on every request.
      refreshedJwtTtlSeconds: settings.refreshedJwtTtlSeconds ?? (existing && existing.refreshedJwtTtlSeconds) ?? DEFAULT_JWT_TTL_SECONDS,
      refreshTtlSeconds: settings.refreshTtlSeconds ?? (existing && existing.refreshTtlSeconds) ?? DEFAULT_REFRESH_TTL_SECONDS,
    }
    usersById.set(userId, user)
    return user
  }

  // A random jti makes every issued JWT distinct, even two issued for the
  // same user within one second (as a refresh right after sign-in is).
  const issueJwtFor = (user, ttlSeconds = user.refreshedJwtTtlSeconds, audience = undefined) => {
    const iat = Math.floor(Date.now() / 1000)
    const claims = { sub: user.id, iat, exp: iat + ttlSeconds, iss: emulator.url, email: user.email }
    // A family's `aud` (createSession's option): its project's id by default.
    if (audience !== null) claims.aud = audience === undefined ? TEST_PROJECT_ID : audience
    return signJwt({ ...claims, jti: crypto.randomUUID() }, { alg: user.alg })
  }

  // A family is one session: the token sign-in issued and every token its
  // refreshes issued after it.
  const issueToken = (userId, family, generation) => {
    const user = usersById.get(userId) || registerUser(userId)
    const secret = randomSecret()
    const issuedAtMs = Date.now()
    const expiresAtMs = issuedAtMs + user.refreshTtlSeconds * 1000
    refreshTokensBySecret.set(secret, {
      userId: user.id,
      family,
      generation,
      issuedAtMs,
      expiresAtMs,
      used: false,
      usedAtMs: undefined,
      revoked: false,
      revokedAtMs: undefined,
      successor: undefined,
      presentations: [],
      logoutCalls: [],
    })
    if (!secretsByFamily.has(family)) secretsByFamily.set(family, [])
    secretsByFamily.get(family).push(secret)
    return { secret, expiresAt: new Date(expiresAtMs).toISOString() }
  }

  const newFamily = () => `f${++familyCount}`

  function issueRefreshToken(userId, issueOptions = {}) {
    return issueToken(userId, issueOptions.family || newFamily(), 0)
  }

  function revokeRefreshToken(secret) {
    const token = refreshTokensBySecret.get(secret)
    if (token && !token.revoked) {
      token.revoked = true
      token.revokedAtMs = Date.now()
    }
  }

  function createSession(userId = crypto.randomUUID(), sessionOptions = {}) {
    const user = registerUser(userId, sessionOptions)
    const ttlSeconds = sessionOptions.jwtTtlSeconds ?? user.refreshedJwtTtlSeconds
    const family = newFamily()
    const project = sessionOptions.project || TEST_PROJECT_ID
    // `aud`: undefined → the project's id; null → none; else as given.
    const audience = 'aud' in sessionOptions ? sessionOptions.aud : project
    familyScopes.set(family, { project, audience })
    return { jwt: issueJwtFor(user, ttlSeconds, audience), refreshToken: issueToken(userId, family, 0), userId, family }
  }

  const isLive = (token, now = Date.now()) => !token.used && !token.revoked && token.expiresAtMs > now

  function refreshTokenState(secret) {
    const token = refreshTokensBySecret.get(secret)
    if (token === undefined) return undefined
    const now = Date.now()
    return {
      userId: token.userId,
      family: token.family,
      generation: token.generation,
      live: isLive(token, now),
      used: token.used,
      revoked: token.revoked,
      expired: token.expiresAtMs <= now,
      successor: token.successor,
      issuedAt: token.issuedAtMs,
      usedAt: token.usedAtMs,
      revokedAt: token.revokedAtMs,
      presentations: token.presentations.map((presentation) => ({ ...presentation })),
      logoutCalls: token.logoutCalls.map((call) => ({ ...call })),
    }
  }

  function liveRefreshTokens(family) {
    const now = Date.now()
    return (secretsByFamily.get(family) || []).filter((secret) => isLive(refreshTokensBySecret.get(secret), now))
  }

  function familyOf(secret) {
    const token = typeof secret === 'string' ? refreshTokensBySecret.get(secret) : undefined
    return token === undefined ? undefined : token.family
  }

  // Notes a refresh (or logout) call against the token it names (unknown
  // secrets are not tracked); returns the record so it can be amended.
  const notePresentation = (request, result, extra, list = 'presentations') => {
    const secret = request.json && request.json.refresh
    const token = typeof secret === 'string' ? refreshTokensBySecret.get(secret) : undefined
    if (token === undefined) return undefined
    const presentation = { at: Date.now(), result, ...extra }
    token[list].push(presentation)
    return presentation
  }

  // rotateKeys returns the new kid directly rather than a promise, so it uses
  // the blocking generator; ~100 ms is acceptable in a test.
  const generateRsaKeySync = () => crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })

  // --- request log ---------------------------------------------------------

  const requests = []
  const requestWaiters = new Set()

  const toMatcher = (predicate) => (typeof predicate === 'string' ? (request) => request.path === predicate : predicate)

  const logRequest = (entry) => {
    requests.push(entry)
    for (const waiter of [...requestWaiters]) {
      let matched = false
      try {
        matched = waiter.matches(entry)
      } catch (error) {
        waiter.settle(() => waiter.reject(error))
        continue
      }
      if (matched) waiter.settle(() => waiter.resolve(entry))
    }
  }

  function waitForRequest(predicate, timeoutMs = 2000) {
    const matches = toMatcher(predicate)
    const already = requests.find(matches)
    if (already) return Promise.resolve(already)
    return new Promise((resolve, reject) => {
      const waiter = { matches, resolve, reject }
      const timer = setTimeout(() => waiter.settle(() => reject(new Error(`no matching request within ${timeoutMs} ms`))), timeoutMs)
      waiter.settle = (finish) => {
        clearTimeout(timer)
        requestWaiters.delete(waiter)
        finish()
      }
      requestWaiters.add(waiter)
    })
  }

  // --- faults --------------------------------------------------------------

  const faults = { refresh: null, logout: null, user: null, jwks: null }
  const pendingTimers = new Set()

  const sleep = (ms) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer)
        resolve()
      }, ms)
      pendingTimers.add(timer)
    })

  // What a fault does to one call: 'answered' when it produced (or withheld)
  // the whole answer, 'truncate' when the call goes on but its answer is to
  // be cut, null when the call is answered normally.
  const applyFault = async (endpoint, request, res) => {
    const fault = faults[endpoint]
    if (!fault) return null
    // `probability` makes a fault intermittent; calls it spares are normal.
    if (fault.probability !== undefined && !(Math.random() < fault.probability)) return null
    // `times` lets a test fail only the first N calls, e.g. to exercise retries.
    if (typeof fault.times === 'number') {
      fault.times -= 1
      if (fault.times <= 0 && faults[endpoint] === fault) faults[endpoint] = null
    }
    if (fault.delayMs) {
      await sleep(fault.delayMs)
      if (closed) return 'answered'
    }
    // Everything below answers before the token is looked at: not spent.
    const before = () => {
      if (endpoint === 'refresh') notePresentation(request, 'fault-before')
      if (endpoint === 'logout') notePresentation(request, 'fault-before', undefined, 'logoutCalls')
    }
    if (fault.reset) {
      before()
      res.socket.destroy()
      return 'answered'
    }
    if (fault.hang) {
      before()
      return 'answered'
    }
    if (fault.html) {
      before()
      sendHtml(res, fault.html)
      return 'answered'
    }
    if (fault.body !== undefined) {
      before()
      const headers = { 'content-length': Buffer.byteLength(fault.body) }
      if (fault.contentType) headers['content-type'] = fault.contentType
      res.writeHead(fault.status || 200, headers)
      res.end(fault.body)
      return 'answered'
    }
    if (fault.status) {
      before()
      sendError(res, fault.status, `Injected ${endpoint} fault`)
      return 'answered'
    }
    if (fault.truncate) return 'truncate'
    return null
  }

  // --- endpoints -----------------------------------------------------------

  // `send(status, payload)` writes the answer (cut short under `truncate`).
  const errorPayload = (status, message) => ({ error: http.STATUS_CODES[status] || 'Error', message })

  const readRefreshSecret = (request, send) => {
    if (request.json === undefined) {
      send(400, errorPayload(400, request.body ? 'Body is not valid JSON' : 'Missing request body'))
      return undefined
    }
    const secret = request.json && request.json.refresh
    if (typeof secret !== 'string' || secret === '') {
      send(400, errorPayload(400, 'Body must be {"refresh": "<secret>"}'))
      return undefined
    }
    return secret
  }

  const handleRefresh = (request, res, send, truncated) => {
    const secret = readRefreshSecret(request, send)
    if (secret === undefined) return
    const token = refreshTokensBySecret.get(secret)
    const now = Date.now()
    if (!token || token.used || token.revoked || token.expiresAtMs <= now) {
      if (token) {
        const reason = token.used ? 'used' : token.revoked ? 'revoked' : 'expired'
        notePresentation(request, 'refused', { reason })
      }
      send(401, errorPayload(401, 'Invalid refresh token'))
      return
    }
    // A refresh token is bound to its project: another project's API key
    // cannot exchange it (and does not spend it).
    const scope = scopeOf(token.family)
    const callerProject = projectIdOf(request.headers['x-api-key'])
    if (callerProject !== undefined && callerProject !== scope.project) {
      notePresentation(request, 'refused', { reason: 'other-project' })
      send(401, errorPayload(401, 'Invalid refresh token'))
      return
    }
    token.used = true
    token.usedAtMs = now
    const user = usersById.get(token.userId)
    const refresh = issueToken(user.id, token.family, token.generation + 1)
    token.successor = refresh.secret
    const presentation = notePresentation(request, truncated ? 'rotated-unusable' : 'rotated')
    // A caller that gave up (its deadline passed during a delay) never sees
    // the new token, though the old one is spent.
    if (res.destroyed) presentation.delivered = false
    send(200, {
      jwt: issueJwtFor(user, undefined, scope.audience),
      refresh,
      user: { id: user.id, email: user.email },
    })
  }

  const handleLogout = (request, res, send) => {
    const secret = request.json && request.json.refresh
    if (typeof secret === 'string') {
      revokeRefreshToken(secret)
      notePresentation(request, 'revoked', undefined, 'logoutCalls')
    }
    send(200, {})
  }

  const handleUser = (request, res, send, encodedId) => {
    let userId
    try {
      userId = decodeURIComponent(encodedId)
    } catch {
      send(400, errorPayload(400, 'Malformed user id'))
      return
    }
    const user = usersById.get(userId)
    if (!user) {
      send(404, errorPayload(404, 'User not found'))
      return
    }
    send(200, { id: user.id, email: user.email })
  }

  const route = (method, pathname) => {
    if (pathname === JWKS_PATH) return { endpoint: 'jwks', method: 'GET' }
    if (pathname === REFRESH_PATH) return { endpoint: 'refresh', method: 'POST' }
    if (pathname === LOGOUT_PATH) return { endpoint: 'logout', method: 'POST' }
    if (pathname.startsWith(USER_PATH_PREFIX)) {
      const encodedId = pathname.slice(USER_PATH_PREFIX.length)
      if (encodedId && !encodedId.includes('/')) return { endpoint: 'user', method: 'GET', encodedId }
    }
    return null
  }

  const handle = async (request, res) => {
    const pathname = new URL(request.path, 'http://emulator.invalid').pathname
    const match = route(request.method, pathname)
    if (!match) {
      sendError(res, 404, `No route for ${request.method} ${pathname}`)
      return
    }
    if (request.method !== match.method) {
      res.setHeader('allow', match.method)
      sendError(res, 405, `${request.method} not allowed on ${pathname}`)
      return
    }
    const fault = await applyFault(match.endpoint, request, res)
    if (fault === 'answered') return
    if (pathname.startsWith(API_PREFIX) && !request.headers['x-api-key']) {
      sendError(res, 401, 'Missing API key')
      return
    }
    const truncated = fault === 'truncate'
    const send = truncated ? (status, payload) => sendTruncatedJson(res, status, payload) : (status, payload) => sendJson(res, status, payload)
    switch (match.endpoint) {
      case 'jwks':
        send(200, jwksOverride || buildJwks())
        return
      case 'refresh':
        handleRefresh(request, res, send, truncated)
        return
      case 'logout':
        handleLogout(request, res, send)
        return
      case 'user':
        handleUser(request, res, send, match.encodedId)
        return
    }
  }

  // --- server --------------------------------------------------------------

  const openSockets = new Set()
  let closed = false

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      let json
      if (body) {
        try {
          json = JSON.parse(body)
        } catch {
          json = undefined
        }
      }
      const request = { method: req.method, path: req.url, headers: req.headers, body, json }
      logRequest(request)
      handle(request, res).catch((error) => {
        if (!res.headersSent) sendError(res, 500, `Emulator error: ${error.message}`)
        else res.destroy()
      })
    })
  })
  server.on('connection', (socket) => {
    openSockets.add(socket)
    socket.on('close', () => openSockets.delete(socket))
  })

  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port || 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })

  const emulator = {
    url: `http://127.0.0.1:${server.address().port}`,
    apiKey: TEST_API_KEY,
    projectId: TEST_PROJECT_ID,
    get jwks() {
      return jwksOverride || buildJwks()
    },
    // Lets a test serve an arbitrary (even malformed) key set; assign null to
    // go back to the generated one.
    set jwks(value) {
      jwksOverride = value
    },
    signJwt,
    createSession,
    issueRefreshToken,
    revokeRefreshToken,
    refreshTokenState,
    liveRefreshTokens,
    familyOf,
    rotateKeys(rotateOptions = {}) {
      rotationCount += 1
      const kid = `rsa-${rotationCount}`
      keysByKid.set(kid, { ...generateRsaKeySync(), alg: 'RS256' })
      publishedKids.add(kid)
      if (rotateOptions.dropOld) publishedKids.delete(currentRsaKid)
      currentRsaKid = kid
      return kid
    },
    getKey(kid) {
      const entry = keysByKid.get(kid)
      return entry ? { privateKey: entry.privateKey, publicKey: entry.publicKey } : undefined
    },
    requests,
    clearRequests() {
      // Emptied in place so callers holding `emulator.requests` see the reset.
      requests.length = 0
    },
    waitForRequest,
    faults,
    resetFaults() {
      for (const endpoint of Object.keys(faults)) faults[endpoint] = null
    },
    close() {
      if (closed) return Promise.resolve()
      closed = true
      for (const timer of pendingTimers) clearTimeout(timer)
      pendingTimers.clear()
      for (const waiter of [...requestWaiters]) {
        waiter.settle(() => waiter.reject(new Error('emulator closed')))
      }
      return new Promise((resolve) => {
        server.close(() => resolve())
        // server.close() only stops accepting; hung and keep-alive sockets
        // would keep it (and the test run) alive forever.
        for (const socket of openSockets) socket.destroy()
      })
    },
  }

  return emulator
}

module.exports = {
  startCrossmintEmulator,
  projectIdOf,
  TEST_PROJECT_ID,
  TEST_API_KEY,
  REFRESH_PATH,
  LOGOUT_PATH,
  JWKS_PATH,
  USER_PATH_PREFIX,
}
