'use strict'

// The soak's attackers: Cookie headers no request may be authenticated by.
// Each kind names a way to forge or replay session material; `sub` is always a
// real user's id, so an accepted forgery would show as that user's identity.

const crypto = require('node:crypto')

const JWT = 'crossmint-jwt'
const REFRESH = 'crossmint-refresh-token'

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const garbageSecret = () => crypto.randomBytes(32).toString('base64url')
const cookie = (jwt, refresh) => [jwt === undefined ? null : `${JWT}=${jwt}`, refresh === undefined ? null : `${REFRESH}=${refresh}`].filter(Boolean).join('; ')

/**
 * `context`: { emulator, victim() → a user id, currentKid() → the RSA kid
 * now signing, withdrawnKid() → the kid withdrawn from the key set once the
 * app has refetched it, else undefined, attackerKeys }.
 * Returns [kind, () => Cookie header][].
 */
function attackKinds(context) {
  const { emulator } = context
  const now = () => Math.floor(Date.now() / 1000)
  const claims = (extra = {}) => ({
    sub: context.victim(),
    iat: now(),
    exp: now() + 600,
    iss: emulator.url,
    aud: emulator.projectId,
    jti: crypto.randomUUID(),
    ...extra,
  })
  const forged = (extra, options) => emulator.signJwt(claims(extra), options)
  // A token the attacker really holds (its own account), to tamper with.
  const ownToken = () => emulator.signJwt(claims({ sub: `attacker-${crypto.randomInt(1000)}` }))
  const rsaPublicPem = () => emulator.getKey(context.currentKid()).publicKey.export({ format: 'pem', type: 'spki' })
  const { publicKey: attackerPublic, privateKey: attackerPrivate } = context.attackerKeys
  const signWithAttackerKey = (header, payload) => {
    const input = `${b64(header)}.${b64(payload)}`
    return `${input}.${crypto.sign('sha256', Buffer.from(input), attackerPrivate).toString('base64url')}`
  }

  return [
    ['alg-none', () => cookie(forged({}, { alg: 'none', kid: null }), garbageSecret())],
    [
      'alg-none-spelling',
      () => {
        const header = { alg: ['None', 'NONE', 'nOnE'][crypto.randomInt(3)], typ: 'JWT' }
        return cookie(`${b64(header)}.${b64(claims())}.`, garbageSecret())
      },
    ],
    ['hs256-with-public-key', () => cookie(forged({}, { alg: 'HS256', kid: context.currentKid(), secret: rsaPublicPem() }), garbageSecret())],
    [
      'hs256-with-jwk-json',
      () => {
        const jwk = emulator.jwks.keys.find((key) => key.kid === context.currentKid()) || emulator.jwks.keys[0]
        return cookie(forged({}, { alg: 'HS256', kid: jwk.kid, secret: JSON.stringify(jwk) }), garbageSecret())
      },
    ],
    ['unpublished-key', () => cookie(forged({}, { key: 'unpublished' }), garbageSecret())],
    // Signed by Crossmint's own key, for another project (two projects on one domain).
    ['other-project', () => cookie(forged({ aud: ['other-project-id'] }), garbageSecret())],
    ['unknown-kid', () => cookie(forged({}, { kid: `rsa-${crypto.randomInt(1e6)}`, key: 'unpublished' }), garbageSecret())],
    ['wrong-kid', () => cookie(forged({}, { kid: 'rsa-ps', key: 'unpublished' }), garbageSecret())],
    [
      'alg-mismatch',
      () => {
        // An RSA signature under a header that claims ES256 with the RSA kid.
        const real = forged()
        const [, payload, signature] = real.split('.')
        return cookie(`${b64({ alg: 'ES256', kid: context.currentKid() })}.${payload}.${signature}`, garbageSecret())
      },
    ],
    ['expired', () => cookie(forged({ iat: now() - 600, exp: now() - 300 }), garbageSecret())],
    [
      'tampered-sub',
      () => {
        const [header, payload, signature] = ownToken().split('.')
        const changed = { ...JSON.parse(Buffer.from(payload, 'base64url')), sub: context.victim() }
        return cookie(`${header}.${b64(changed)}.${signature}`, garbageSecret())
      },
    ],
    [
      'signature-transplant',
      () => {
        const [, , signature] = ownToken().split('.')
        const [header, payload] = forged({}, { key: 'unpublished' }).split('.')
        return cookie(`${header}.${payload}.${signature}`, garbageSecret())
      },
    ],
    [
      'embedded-jwk',
      () => {
        const jwk = attackerPublic.export({ format: 'jwk' })
        return cookie(signWithAttackerKey({ alg: 'RS256', jwk: { ...jwk, kid: 'attacker' } }, claims()), garbageSecret())
      },
    ],
    ['jku-header', () => cookie(signWithAttackerKey({ alg: 'RS256', kid: 'attacker', jku: 'http://127.0.0.1:9/jwks.json' }, claims()), garbageSecret())],
    [
      'kid-traversal',
      () =>
        cookie(forged({}, { kid: ['../../.well-known/jwks.json', '/dev/null', "rsa-1' OR '1'='1"][crypto.randomInt(3)], key: 'unpublished' }), garbageSecret()),
    ],
    ['empty-signature', () => cookie(`${forged().split('.').slice(0, 2).join('.')}.`, garbageSecret())],
    [
      'malformed-jwt',
      () => {
        const [header, payload, signature] = forged().split('.')
        const variants = [
          `${header}.${payload}`,
          `${header}.${payload}.${signature}.${signature}`,
          `${header}=.${payload}.${signature}`,
          `${header}.${payload}.${signature}%0A`,
          `${header}.${payload}.!!${signature.slice(2)}`,
          `..`,
        ]
        return cookie(variants[crypto.randomInt(variants.length)], garbageSecret())
      },
    ],
    ['forged-jwt-without-refresh', () => cookie(forged({}, { key: 'unpublished' }), undefined)],
    ['garbage-refresh-only', () => cookie(undefined, garbageSecret())],
    [
      'revoked-session',
      () => {
        // A real session of the attacker's own, logged out, replayed with its
        // expired JWT: Crossmint refuses the revoked refresh token.
        const session = emulator.createSession(`attacker-revoked-${crypto.randomInt(1000)}`, { jwtTtlSeconds: -60 })
        emulator.revokeRefreshToken(session.refreshToken.secret)
        return cookie(session.jwt, session.refreshToken.secret)
      },
    ],
    [
      'malformed-cookie-header',
      () => {
        const variants = [
          `${JWT}; ${REFRESH}`,
          `${JWT}==; ${REFRESH}=;;;`,
          `=${forged({}, { key: 'unpublished' })}; ${REFRESH}=${garbageSecret()}`,
          `${JWT}="${forged({}, { key: 'unpublished' })}"; ${REFRESH}="${garbageSecret()}"`,
          `${JWT} = ${forged({}, { key: 'unpublished' })} ; ${REFRESH} = ${garbageSecret()}`,
          `CROSSMINT-JWT=${forged({}, { key: 'unpublished' })}; ${REFRESH}=${garbageSecret()}`,
        ]
        return variants[crypto.randomInt(variants.length)]
      },
    ],
    [
      'duplicate-cookies',
      () =>
        `${JWT}=${forged({}, { key: 'unpublished' })}; ${JWT}=${forged({}, { alg: 'none', kid: null })}; ` +
        `${REFRESH}=${garbageSecret()}; ${REFRESH}=${garbageSecret()}`,
    ],
    [
      'huge-cookie',
      () => {
        const size = [4_000, 12_000, 40_000][crypto.randomInt(3)]
        return cookie(`${forged({ pad: 'x'.repeat(size) }, { key: 'unpublished' })}`, garbageSecret())
      },
    ],
    [
      'withdrawn-key',
      () => {
        const kid = context.withdrawnKid()
        if (kid === undefined) return null // not armed yet: the app has not seen the key withdrawn
        return cookie(forged({}, { kid }), garbageSecret())
      },
    ],
  ]
}

module.exports = { attackKinds }
