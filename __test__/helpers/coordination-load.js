'use strict'
// The load of the coordination tests: browsers whose JWT expired each fire
// 8 requests at once at several app processes, and what keeping every
// session means.

const assert = require('node:assert/strict')
const { REFRESH_PATH } = require('../../testing/emulator.js')
const { exchangeText, cookieHeaderFor, childScript, root } = require('./common.js')
const { cookieValues, startExample } = require('./framework-checks.js')

const REQUESTS_PER_BROWSER = 8
const INSTANCE = childScript('coordinated-instance')

/**
 * `count` app processes, each `script` (the coordination tests' Express
 * instance) with `options` for CrossmintAuth.from and `env`.
 */
async function startInstances(t, count, { emulator, options = {}, env = {}, script = INSTANCE }) {
  const instances = []
  for (let i = 0; i < count; i++) {
    instances.push(await startExample(t, process.execPath, [script], { emulator, cwd: root, env: { CROSSMINT_AUTH_OPTIONS: JSON.stringify(options), ...env } }))
  }
  return instances
}

/** The lines an instance printed for its logger's warn. */
const warnings = (instance) =>
  instance
    .output()
    .split('\n')
    .filter((line) => line.startsWith('WARN '))

/** A GET through the checks' `exchange`, with the Set-Cookie values by name. */
async function get(url, cookie) {
  const answer = await exchangeText(url, { cookie })
  return { ...answer, cookies: cookieValues(answer.setCookie) }
}

const refreshesOf = (emulator, secret) => emulator.requests.filter((r) => r.path === REFRESH_PATH && r.json && r.json.refresh === secret)
/**
 * `sessions` browsers whose JWT expired each fire 8 requests at once; request
 * k of browser b goes to instance (b * 8 + k) mod n (round-robin), or, with
 * `sticky`, every request of browser b to instance b mod n.
 */
async function browsersFire(emulator, instances, sessions, { sticky = false } = {}) {
  const results = await Promise.all(
    sessions.map((session, b) =>
      Promise.all(
        Array.from({ length: REQUESTS_PER_BROWSER }, (_, k) => {
          const instance = instances[sticky ? b % instances.length : (b * REQUESTS_PER_BROWSER + k) % instances.length]
          return get(`${instance.url}/me`, cookieHeaderFor(session))
        }),
      ),
    ),
  )
  return sessions.map((session, b) => ({ session, answers: results[b], refreshes: refreshesOf(emulator, session.refreshToken.secret).length }))
}

function assertEverySessionKept(outcomes, label) {
  for (const { session, answers, refreshes } of outcomes) {
    const statuses = answers.map((a) => a.status)
    assert.deepEqual(statuses, Array(REQUESTS_PER_BROWSER).fill(200), `${label}: ${session.userId} ${answers.map((a) => a.text).join(' | ')}`)
    for (const answer of answers) assert.equal(answer.json.userId, session.userId)
    // Every answer hands the browser the same new session.
    const issued = new Set(answers.map((a) => a.cookies['crossmint-refresh-token']))
    assert.equal(issued.size, 1, `${label}: one new refresh token for ${session.userId}, got ${[...issued]}`)
    assert.notEqual([...issued][0], session.refreshToken.secret)
    assert.equal(refreshes, 1, `${label}: exactly one refresh at Crossmint for ${session.userId}`)
  }
}

const expiredSessions = (emulator, count, prefix) => Array.from({ length: count }, (_, i) => emulator.createSession(`${prefix}-${i}`, { jwtTtlSeconds: -60 }))

module.exports = { REQUESTS_PER_BROWSER, startInstances, warnings, get, refreshesOf, browsersFire, assertEverySessionKept, expiredSessions }
