'use strict'

// Chaos soak (issue 24): the Crossmint emulator switching faults on and off
// on a schedule, the app (./app.js) in its own process, and hundreds of
// browser-like users (cookie jars, parallel page requests, refreshes,
// logouts racing their own page loads, new logins) plus attackers, with
// every answer checked. `node testing/soak/driver.js --help` for options;
// `npm run soak` runs it; __test__/reliability/soak.test.js runs one minute of it.
//
// Invariants (README of this folder says how each is decided):
//   1 identity        a 200 (or a cookie it sets) never carries another user's identity
//   2 no-forgery      no attack (forged, withdrawn-key, revoked, malformed) is authenticated
//   3 refresh-once    no refresh token is presented to Crossmint again after a
//                     presentation that spent it
//   4 session-kept    no 401 while Crossmint still holds a live session the app was given
//   5 logout-ends     after a logout no token of its family is live at Crossmint, and the
//                     cookies the browser kept after it do not authenticate
//   6 recovery        after the faults every user gets its own identity again
//   7 no-crash        no crash, unhandled rejection or uncaught exception in the app
//   8 bounded         RSS growth and event-loop delay p99 within bounds
//   9 answered        every request answered 200, 401 or 503 (431 for huge cookies) in time

const http = require('node:http')
const net = require('node:net')
const path = require('node:path')
const crypto = require('node:crypto')
const { spawn, spawnSync } = require('node:child_process')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const { setTimeout: delay } = require('node:timers/promises')
const { setMaxListeners } = require('node:events')
const { startCrossmintEmulator, JWKS_PATH, REFRESH_PATH, LOGOUT_PATH, TEST_PROJECT_ID } = require('../emulator.js')
const { attackKinds } = require('./attacks.js')

const JWT = 'crossmint-jwt'
const REFRESH = 'crossmint-refresh-token'
/** Which session cookie a Set-Cookie name is, under either naming (Crossmint's client 1.3 scopes them to the project). */
const cookieKind = (name) => {
  if (name === JWT || name === `${JWT}-${TEST_PROJECT_ID}`) return JWT
  if (name === REFRESH || name === `${REFRESH}-${TEST_PROJECT_ID}`) return REFRESH
  return undefined
}
const APP = path.join(__dirname, 'app.js')
const ROOT = path.join(__dirname, '..', '..')

const INVARIANTS = {
  1: 'identity',
  2: 'no-forgery',
  3: 'refresh-once',
  4: 'session-kept',
  5: 'logout-ends',
  6: 'recovery',
  7: 'no-crash',
  8: 'bounded',
  9: 'answered',
}

const DEFAULTS = {
  sdk: 'ours',
  users: 300,
  durationMs: 210_000,
  instances: 1,
  // Lifetime of the JWTs refreshes issue: short, so refreshes are constant.
  jwtTtlSeconds: 4,
  // The app's deadline for Crossmint calls: hangs end this fast; spikes stay
  // well under it (an answer past the deadline spends a token unseen).
  appTimeoutMs: 4000,
  spikeMs: [400, 2000],
  thinkMs: [700, 3500],
  pageRequests: [3, 6],
  logoutShare: 0.05,
  // Fault phases to run (names from PHASES); all when undefined.
  phases: undefined,
  // false: logouts are never faulted (a control run).
  logoutFaults: true,
  // Of the logouts: sent with a page load's requests, or 0-5 ms before them.
  raceShare: 0.5,
  attackShare: 0.035,
  settleMs: 8000,
  requestTimeoutMs: 15_000,
  rssGrowthBoundMb: 150,
  eldP99BoundMs: 500,
  statsEveryMs: 3000,
  maxPrinted: 8,
  seed: undefined,
  log: (line) => console.log(line),
}

const fmt = (n) => Math.round(n).toLocaleString('en-US')
const pick = (rng, [min, max]) => min + rng() * (max - min)
const pickInt = (rng, [min, max]) => Math.floor(min + rng() * (max - min + 1))

// mulberry32: a seeded generator, so a run's choices can be replayed.
function seeded(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// --- the browser's cookie jar ---------------------------------------------

const { applySetCookie, cookieHeader } = require('./cookie-jar.js')

function jwtClaims(jwt) {
  try {
    return JSON.parse(Buffer.from(String(jwt).split('.')[1], 'base64url').toString('utf8'))
  } catch {
    return null
  }
}

// --- HTTP, one agent per browser ---------------------------------------------

function send(agent, port, method, pathName, cookie, timeoutMs) {
  return new Promise((resolve) => {
    const sentAt = Date.now()
    let done = false
    const finish = (answer) => {
      if (done) return
      done = true
      resolve({ sentAt, receivedAt: Date.now(), method, path: pathName, ...answer })
    }
    const headers = {}
    if (cookie) headers.cookie = cookie
    if (method === 'POST') headers['content-length'] = '0'
    const req = http.request({ host: '127.0.0.1', port, method, path: pathName, agent, headers }, (res) => {
      const chunks = []
      res.on('data', (chunk) => chunks.push(chunk))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        let json
        try {
          json = JSON.parse(body)
        } catch {}
        finish({ status: res.statusCode, setCookies: res.headers['set-cookie'] || [], json, body })
      })
      res.on('error', (error) => finish({ error: error.code || error.message }))
    })
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('no answer in time'), { code: 'CLIENT_TIMEOUT' })))
    req.on('error', (error) => finish({ error: error.code || error.message, reusedSocket: req.reusedSocket }))
    req.end()
  })
}

/** A browser retries a request whose reused keep-alive connection was reset. */
async function browserRequest(agent, port, method, pathName, cookie, timeoutMs) {
  const answer = await send(agent, port, method, pathName, cookie, timeoutMs)
  if (answer.error && answer.reusedSocket && ['ECONNRESET', 'EPIPE'].includes(answer.error)) {
    return send(agent, port, method, pathName, cookie, timeoutMs)
  }
  return answer
}

// --- the app process (restarted when it dies, like a process manager) -------

function startApp({ sdk, port, env, onLine, onExit, track }) {
  const app = { child: null, pid: null, stopping: false, restarts: 0 }
  const launch = () =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [APP], {
        cwd: ROOT,
        env: { ...process.env, ...env, SOAK_SDK: sdk, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      track(child)
      app.child = child
      app.pid = child.pid
      let listening = false
      let buffered = ''
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        buffered += chunk
        if (!listening && buffered.includes('Listening on')) {
          listening = true
          resolve()
        }
      })
      let partial = ''
      child.stderr.setEncoding('utf8').on('data', (chunk) => {
        partial += chunk
        const lines = partial.split('\n')
        partial = lines.pop()
        for (const line of lines) if (line) onLine(line, child.pid)
      })
      child.on('exit', (code, signal) => {
        if (partial) onLine(partial, child.pid)
        if (!listening) reject(new Error(`app exited before listening (${code ?? signal}): ${buffered}${partial}`))
        if (app.stopping) return
        onExit({ code, signal, pid: child.pid })
        app.restarts += 1
        app.ready = launch()
        app.ready.catch((error) => onLine(`SOAK-RESTART-FAILED ${error.message}`, child.pid))
      })
    })
  app.ready = launch()
  app.stop = () =>
    new Promise((resolve) => {
      app.stopping = true
      const child = app.child
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGKILL')
    })
  return app
}

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

// --- several instances: a real redis-server and a round-robin proxy ---------

const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server'

const redisPing = (port) =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setTimeout(1000, () => socket.destroy())
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (data) => {
      resolve(data.toString().startsWith('+PONG'))
      socket.destroy()
    })
    socket.on('close', () => resolve(false))
    socket.on('error', () => resolve(false))
  })

async function startRedis(track) {
  if (spawnSync(REDIS_SERVER, ['--version']).status !== 0) {
    throw new Error(`--instances needs ${REDIS_SERVER} (Debian: apt-get install redis-server)`)
  }
  const port = await freePort()
  const child = spawn(REDIS_SERVER, ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  track(child)
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk))
  for (const deadline = Date.now() + 10_000; ; ) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${output}`)
    if (await redisPing(port)) return `redis://127.0.0.1:${port}`
    if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${port}: ${output}`)
    await delay(50)
  }
}

/** A load balancer: each request to the next instance in turn, answers passed through. */
async function startProxy(ports) {
  let next = 0
  const upstream = new http.Agent({ keepAlive: true, maxSockets: 512 })
  const server = http.createServer((req, res) => {
    const port = ports[next++ % ports.length]
    const forward = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers, agent: upstream }, (answer) => {
      res.writeHead(answer.statusCode, answer.rawHeaders)
      answer.pipe(res)
    })
    // An instance that died mid-request: the browser sees the connection drop.
    forward.on('error', () => res.destroy())
    req.pipe(forward)
  })
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 121_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: server.address().port,
    close: () =>
      new Promise((resolve) => {
        upstream.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

// --- the fault schedule -------------------------------------------------------

/**
 * Phases switched on and off in turn. `start(ctx)` sets faults (and may
 * return a function called every second while the phase lasts); the faults
 * are reset when the phase ends.
 */
const PHASES = [
  {
    name: 'latency-spikes',
    start: ({ emulator, rng, cfg }) => {
      const roll = () => {
        emulator.faults.refresh = { delayMs: Math.round(pick(rng, cfg.spikeMs)), probability: 0.35 }
        emulator.faults.logout = { delayMs: Math.round(pick(rng, cfg.spikeMs)), probability: 0.35 }
      }
      roll()
      return roll
    },
  },
  {
    name: 'html-5xx',
    start: ({ emulator, rng }) => {
      const roll = () => {
        emulator.faults.refresh = { html: rng() < 0.5 ? 502 : 503, probability: 0.3 }
        emulator.faults.logout = { html: rng() < 0.5 ? 502 : 503, probability: 0.3 }
        emulator.faults.jwks = { html: 502, probability: 0.5 }
      }
      roll()
      return roll
    },
  },
  {
    name: 'connection-resets',
    start: ({ emulator }) => {
      emulator.faults.refresh = { reset: true, probability: 0.25 }
      emulator.faults.logout = { reset: true, probability: 0.25 }
    },
  },
  {
    name: 'hangs',
    start: ({ emulator }) => {
      emulator.faults.refresh = { hang: true, probability: 0.12 }
      emulator.faults.logout = { hang: true, probability: 0.12 }
    },
  },
  {
    name: 'truncated-json',
    start: ({ emulator }) => {
      emulator.faults.refresh = { truncate: true, probability: 0.2 }
    },
  },
  {
    name: 'key-rotation',
    start: ({ emulator, keys }) => {
      keys.current = emulator.rotateKeys()
    },
  },
  {
    name: 'old-key-withdrawn',
    start: ({ emulator, keys, withdraw }) => {
      // The key that signs until now is withdrawn as the next one takes over.
      keys.withdrawn = keys.current
      keys.withdrawnAt = Date.now()
      keys.current = emulator.rotateKeys({ dropOld: true })
      withdraw()
    },
  },
  {
    name: 'key-set-outage',
    start: ({ emulator, rng }) => {
      const roll = () => {
        emulator.faults.jwks = rng() < 0.5 ? { html: 503 } : { hang: true, probability: 0.5 }
      }
      roll()
      return roll
    },
  },
  {
    name: 'mixed',
    start: ({ emulator, rng, cfg }) => {
      const choices = [
        () => ({ delayMs: Math.round(pick(rng, cfg.spikeMs)), probability: 0.2 }),
        () => ({ html: 502, probability: 0.15 }),
        () => ({ reset: true, probability: 0.1 }),
        () => ({ hang: true, probability: 0.05 }),
        () => ({ truncate: true, probability: 0.1 }),
      ]
      const roll = () => {
        emulator.faults.refresh = choices[Math.floor(rng() * choices.length)]()
        emulator.faults.logout = choices[Math.floor(rng() * 4)]()
        emulator.faults.jwks = rng() < 0.3 ? { html: 503, probability: 0.5 } : null
      }
      roll()
      return roll
    },
  },
]

// --- the run --------------------------------------------------------------------

/**
 * Runs the soak. Options as DEFAULTS; `track(child)` is called with every
 * child process (a test kills them in t.after); aborting `signal` ends the
 * run early (rejecting) with everything stopped. Resolves with
 * `{ summary, violations, byInvariant, byKind, details, figures }`.
 */
async function runSoak(options = {}) {
  const cfg = { ...DEFAULTS, ...options }
  if (cfg.seed === undefined) cfg.seed = crypto.randomInt(2 ** 31)
  const rng = seeded(cfg.seed)
  const log = cfg.log
  const t0 = Date.now()
  const at = (ms = Date.now()) => `t+${((ms - t0) / 1000).toFixed(3)}s`

  const children = new Set()
  const killChildren = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  const track = (child) => {
    children.add(child)
    child.on('exit', () => children.delete(child))
    if (cfg.track) cfg.track(child)
  }
  process.on('exit', killChildren)

  const driverDelay = monitorEventLoopDelay({ resolution: 10 })
  driverDelay.enable()

  // --- counters and violations ---
  const figures = {
    checks: 0,
    pageLoads: 0,
    requests: 0,
    attacks: 0,
    attackKindsSent: new Set(),
    attackStatuses: {},
    logouts: 0,
    racingLogouts: 0,
    // Per variant (alone, together, logout-first): logouts, and those after
    // which a token of the family stayed live / the kept cookies authenticated.
    logoutVariants: {},
    logoutsLeavingLiveToken: {},
    logoutsLeavingUsableCookies: {},
    logins: 0,
    statuses: {},
    outages: 0,
    networkErrors: 0,
    lostToCrash: 0,
    crashes: 0,
    restarts: 0,
    unhandled: 0,
    routeErrors: 0,
    crossmintCalls: { refresh: 0, logout: 0, jwks: 0 },
    legitimateLosses: {},
    excused: {},
  }
  const byInvariant = Object.fromEntries(Object.keys(INVARIANTS).map((n) => [n, 0]))
  const byKind = {}
  const details = []
  const printed = {}
  const violation = (n, kind, detail) => {
    byInvariant[n] += 1
    const key = `${n} ${INVARIANTS[n]}: ${kind}`
    byKind[key] = (byKind[key] || 0) + 1
    printed[key] = (printed[key] || 0) + 1
    const line = `VIOLATION [${key}] ${detail}`
    if (details.length < 500) details.push(line)
    if (printed[key] <= cfg.maxPrinted) log(line)
  }
  const note = (bucket, kind) => (bucket[kind] = (bucket[kind] || 0) + 1)

  const emulator = await startCrossmintEmulator()
  const state = { phase: 'warm-up', stopping: false, replayFrom: Infinity }
  const stopUsers = new AbortController()
  // Every sleeping user listens for the stop.
  setMaxListeners(0, stopUsers.signal)
  const stopEverything = () => {
    state.stopping = true
    stopUsers.abort()
  }
  if (cfg.signal) cfg.signal.addEventListener('abort', stopEverything, { once: true })
  const agents = []
  const timers = []
  const apps = []
  let proxy

  // --- who owns what ---
  const families = new Map() // family → { userId, first, createdAt }
  const label = (secret) => {
    if (!secret) return '-'
    const st = emulator.refreshTokenState(secret)
    if (!st) return `unknown(${String(secret).slice(0, 6)})`
    const status = st.live ? 'live' : st.used ? 'used' : st.revoked ? 'revoked' : 'expired'
    return `${st.family}.${st.generation}(${status})`
  }
  // The JWT's user and its expiry relative to `when` (when it was sent).
  const jwtLabel = (jwt, when = Date.now()) => {
    const claims = jwtClaims(jwt)
    if (!claims) return jwt ? 'jwt(?)' : '-'
    const left = (claims.exp * 1000 - when) / 1000
    return `jwt(${claims.sub}, ${left > 0 ? `expires in ${left.toFixed(1)}s` : `expired ${(-left).toFixed(1)}s before`})`
  }
  const presentationText = (p) => `${p.result}${p.reason ? `:${p.reason}` : ''}${p.delivered === false ? ':undelivered' : ''}@${at(p.at)}`
  const describeChain = (secret, limit = 6) => {
    const parts = []
    let cursor = secret
    while (cursor && parts.length < limit) {
      const st = emulator.refreshTokenState(cursor)
      if (!st) break
      const logoutCalls = st.logoutCalls.map((call) => `logout:${call.result}@${at(call.at)}`).join(' ')
      parts.push(`${label(cursor)}[${st.presentations.map(presentationText).join(' ') || 'never presented'}${logoutCalls ? ` ${logoutCalls}` : ''}]`)
      cursor = st.successor
    }
    return parts.join(' -> ')
  }
  const jarText = (jar, when) => `{${JWT}: ${jwtLabel(jar.get(JWT), when)}, ${REFRESH}: ${label(jar.get(REFRESH))}}`

  // A rotation whose answer the app could not use (truncated) or never got
  // (it had given up): the token it issued is known to nobody.
  const rotationOf = (st) => st.presentations.find((p) => p.result === 'rotated' || p.result === 'rotated-unusable')
  const lostRotation = (rotation) =>
    rotation && (rotation.result === 'rotated-unusable' ? 'unusable-answer' : rotation.delivered === false ? 'undelivered-answer' : null)

  // --- Crossmint calls, tallied (the request log is emptied as we go) ---
  let jwksSeenAfterWithdrawal = 0
  const tally = () => {
    for (const request of emulator.requests) {
      const pathname = request.path.split('?')[0]
      if (pathname === REFRESH_PATH) figures.crossmintCalls.refresh += 1
      else if (pathname === LOGOUT_PATH) figures.crossmintCalls.logout += 1
      else if (pathname === JWKS_PATH) {
        figures.crossmintCalls.jwks += 1
        jwksSeenAfterWithdrawal += 1
      }
    }
    emulator.clearRequests()
  }

  // --- the key set, and the withdrawn key's attack ---
  const keys = { current: 'rsa-1', withdrawn: undefined, withdrawnAt: undefined, armedAt: undefined }
  // The app instances' own ports (filled in below).
  const appPorts = []
  const probeAgent = new http.Agent({ keepAlive: false })
  agents.push(probeAgent)
  /** A token signed by the withdrawn key, sent to one instance directly. */
  const withdrawnKeyProbe = async (appPort) => {
    const now = Math.floor(Date.now() / 1000)
    const jwt = emulator.signJwt(
      { sub: 'soak-user-1', iat: now, exp: now + 600, iss: emulator.url, aud: emulator.projectId, jti: crypto.randomUUID() },
      { kid: keys.withdrawn },
    )
    figures.checks += 1
    return send(probeAgent, appPort, 'GET', '/me', `${JWT}=${jwt}; ${REFRESH}=${crypto.randomBytes(32).toString('base64url')}`, 10_000)
  }
  /**
   * The withdrawn key's attacks start once the app cannot know the key any
   * more: it has fetched the key set since (seen at the emulator) and every
   * instance refuses a probe. With one instance, a probe still accepted 3 s
   * after that fetch is a violation; with several, a fetch cannot be told
   * to come from one instance or another, so arming waits for all of them
   * (and the end of the run checks every instance refuses the key).
   */
  const withdraw = () => {
    tally()
    jwksSeenAfterWithdrawal = 0
    let fetchSeenAt
    let probing = false
    const poll = setInterval(async () => {
      if (probing) return
      tally()
      if (fetchSeenAt === undefined) {
        if (jwksSeenAfterWithdrawal > 0) fetchSeenAt = Date.now()
        return
      }
      // Margin for the app to read the answer, on a busy machine.
      if (Date.now() - fetchSeenAt < 1000) return
      probing = true
      const answers = await Promise.all(appPorts.map(withdrawnKeyProbe))
      probing = false
      if (answers.every((answer) => answer.status !== undefined && answer.status !== 200)) {
        clearInterval(poll)
        keys.armedAt = Date.now()
        log(`${at()} withdrawn key ${keys.withdrawn} armed for attacks (the key set was refetched and every instance refuses it)`)
      } else if (appPorts.length === 1 && answers[0].status === 200 && Date.now() - fetchSeenAt > 3000) {
        clearInterval(poll)
        violation(
          2,
          'withdrawn-key-accepted-after-refetch',
          `${at()} a token signed by ${keys.withdrawn} (withdrawn ${at(keys.withdrawnAt)}) still authenticates ${((Date.now() - fetchSeenAt) / 1000).toFixed(1)} s after the app fetched the key set`,
        )
      }
    }, 250)
    timers.push(poll)
  }

  try {
    const appEnv = {
      CROSSMINT_BASE_URL: emulator.url,
      SERVER_CROSSMINT_API_KEY: emulator.apiKey,
      SOAK_TIMEOUT_MS: String(cfg.appTimeoutMs),
    }
    if (cfg.instances > 1) {
      if (cfg.sdk !== 'ours') throw new Error('--instances needs --sdk ours (the reference cannot share refreshes)')
      appEnv.SOAK_REDIS_URL = await startRedis(track)
    }
    const crashes = []
    for (let i = 0; i < cfg.instances; i++) appPorts.push(await freePort())

    for (const appPort of appPorts)
      apps.push(
        startApp({
          sdk: cfg.sdk,
          port: appPort,
          env: appEnv,
          track,
          onLine: (line, pid) => {
            if (line.startsWith('SOAK-UNHANDLED-REJECTION') || line.startsWith('SOAK-UNCAUGHT-EXCEPTION')) {
              figures.unhandled += 1
              if (cfg.sdk === 'ours' || figures.unhandled <= 3) log(`${at()} app ${pid}: ${line.slice(0, 300)}`)
              if (cfg.sdk === 'ours') violation(7, line.split(' ')[0].toLowerCase(), `${at()} pid ${pid}: ${line.slice(0, 400)}`)
            } else if (line.startsWith('SOAK-ROUTE-ERROR')) {
              figures.routeErrors += 1
              if (figures.routeErrors <= 3) log(`${at()} app ${pid}: ${line.slice(0, 300)}`)
            } else if (!line.startsWith('(node:')) {
              if (cfg.verbose) log(`${at()} app ${pid} stderr: ${line.slice(0, 300)}`)
            }
          },
          onExit: ({ code, signal, pid }) => {
            figures.crashes += 1
            crashes.push(Date.now())
            violation(7, 'crash', `${at()} app pid ${pid} exited (${code ?? signal}) during ${state.phase}; restarting`)
          },
        }),
      )
    const appsReady = () => Promise.all(apps.map((app) => app.ready))
    await appsReady()
    if (cfg.instances > 1) proxy = await startProxy(appPorts)
    // Where the browsers connect: the app, or the proxy in front of the instances.
    const port = proxy ? proxy.port : appPorts[0]
    log(
      `${at()} soak ${cfg.sdk}: ${proxy ? `${cfg.instances} instances behind 127.0.0.1:${port}, Redis ${appEnv.SOAK_REDIS_URL}` : `app on 127.0.0.1:${port}`}, ` +
        `Crossmint emulator on ${emulator.url}, ${cfg.users} users, ${cfg.durationMs / 1000} s, seed ${cfg.seed}`,
    )
    const recentCrash = (ms) => crashes.some((t) => Math.abs(ms - t) < 3000) || apps.some((app) => app.child.exitCode !== null)

    // --- stats sampling (invariant 8) ---
    const statsAgent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    agents.push(statsAgent)
    // Per instance: samples, and the one taken when warm-up ended.
    const samples = appPorts.map(() => [])
    const baselines = []
    const sampleStats = (reset) =>
      Promise.all(
        appPorts.map(async (appPort, i) => {
          const answer = await send(statsAgent, appPort, 'GET', `/__stats${reset ? '?reset=1' : ''}`, undefined, 5000)
          if (answer.status !== 200 || !answer.json) return undefined
          const sample = { at: Date.now(), ...answer.json }
          samples[i].push(sample)
          return sample
        }),
      )
    await sampleStats(true)
    const statsTimer = setInterval(() => sampleStats(false).catch(() => {}), cfg.statsEveryMs)
    timers.push(statsTimer)

    // --- the schedule ---
    const warmupMs = Math.max(5000, cfg.durationMs * 0.08)
    const quietMs = Math.max(8000, cfg.durationMs * 0.1)
    const phases = cfg.phases ? PHASES.filter((phase) => cfg.phases.includes(phase.name)) : PHASES
    const phaseMs = Math.max(1000, (cfg.durationMs - warmupMs - quietMs) / Math.max(1, phases.length))
    // --no-logout-faults: logouts always reach Crossmint (a control run).
    const start = (phase) => {
      const tick = phase.start({ emulator, rng, cfg, keys, withdraw })
      if (cfg.logoutFaults === false) emulator.faults.logout = null
      return (
        tick &&
        (() => {
          tick()
          if (cfg.logoutFaults === false) emulator.faults.logout = null
        })
      )
    }
    const phaseLog = []
    const runSchedule = async () => {
      await delay(warmupMs, undefined, { signal: stopUsers.signal }).catch(() => {})
      baselines.push(...(await sampleStats(true)))
      for (const phase of phases) {
        if (state.stopping) return
        state.phase = phase.name
        phaseLog.push({ name: phase.name, from: Date.now() })
        log(`${at()} phase ${phase.name}`)
        const tick = start(phase)
        const ticker = tick ? setInterval(tick, 1000) : null
        await delay(phaseMs, undefined, { signal: stopUsers.signal }).catch(() => {})
        if (ticker) clearInterval(ticker)
        emulator.resetFaults()
      }
      state.phase = 'quiet'
      phaseLog.push({ name: 'quiet', from: Date.now() })
      log(`${at()} phase quiet (no faults) until the end`)
    }
    const tallyTimer = setInterval(tally, 1000)
    timers.push(tallyTimer)

    // --- users ---
    const users = []
    const familyOwner = (secret) => {
      const family = emulator.familyOf(secret)
      return family === undefined ? undefined : families.get(family)?.userId
    }
    const login = (user) => {
      const session = emulator.createSession(user.id, { jwtTtlSeconds: -60, refreshedJwtTtlSeconds: cfg.jwtTtlSeconds })
      families.set(session.family, { userId: user.id, first: session.refreshToken.secret, createdAt: Date.now() })
      user.jar.clear()
      user.jar.set(JWT, session.jwt)
      user.jar.set(REFRESH, session.refreshToken.secret)
      user.family = session.family
      user.loggedIn = true
      figures.logins += 1
    }

    /** Checks one answer to a user's request and applies its cookies to the jar. */
    const receive = (user, answer, context) => {
      figures.checks += 1
      figures.requests += 1
      if (answer.error) {
        if (recentCrash(answer.receivedAt)) figures.lostToCrash += 1
        else {
          figures.networkErrors += 1
          violation(
            9,
            answer.error === 'CLIENT_TIMEOUT' ? 'no-answer-in-time' : 'network-error',
            `${at(answer.receivedAt)} ${user.id} ${answer.method} ${answer.path} (${context}) sent ${at(answer.sentAt)}: ${answer.error}, phase ${state.phase}`,
          )
        }
        return
      }
      note(figures.statuses, answer.status)
      if (answer.status === 200 && answer.path !== '/logout') {
        const userId = answer.json && answer.json.userId
        if (userId !== user.id) {
          violation(1, 'answer', `${at(answer.receivedAt)} ${user.id} ${answer.path} (${context}) answered 200 with userId ${JSON.stringify(userId)}`)
        }
      } else if (answer.status === 503) {
        figures.outages += 1
      } else if (answer.status !== 401 && !(answer.path === '/logout' && answer.status === 200)) {
        violation(
          9,
          `status-${answer.status}`,
          `${at(answer.receivedAt)} ${user.id} ${answer.method} ${answer.path} (${context}): ${answer.status} ${answer.body.slice(0, 200)}`,
        )
      }
      for (const header of answer.setCookies) {
        const eq = header.indexOf('=')
        const name = header.slice(0, eq)
        const value = header.slice(eq + 1).split(';')[0]
        if (value && cookieKind(name) === JWT) {
          const sub = jwtClaims(value)?.sub
          if (sub !== user.id) violation(1, 'jwt-cookie', `${at()} ${user.id} ${answer.path} set a JWT for ${JSON.stringify(sub)}`)
        } else if (value && cookieKind(name) === REFRESH) {
          const owner = familyOwner(value)
          if (owner !== user.id)
            violation(1, 'refresh-cookie', `${at()} ${user.id} ${answer.path} set the refresh token ${label(value)} of ${JSON.stringify(owner)}`)
        }
        applySetCookie(user.jar, header, answer.receivedAt)
      }
    }

    const explicitlyLoggedOut = (user, family, revokedAt) => user.logouts.some((entry) => entry.family === family && revokedAt >= entry.sentAt - 5)

    /**
     * Invariant 4, for a 401 answered to a page load that did not race a
     * logout: follow the rotation chain from the refresh token the request
     * carried to its last token. The loss is legitimate if a link's answer
     * was unusable (truncated) or never reached the app, or the last token
     * is dead because this user logged out or it expired. A last token that
     * is live, or was revoked otherwise (the app's own revocation after
     * deciding the 401), means a session Crossmint still honoured was lost.
     */
    const judgeLoss = (user, load, answer) => {
      let cursor = load.secret
      let st
      for (;;) {
        st = emulator.refreshTokenState(cursor)
        if (!st) return note(figures.legitimateLosses, 'unknown-token')
        const rotation = rotationOf(st)
        if (!rotation) break
        const lost = lostRotation(rotation)
        if (lost) return note(figures.legitimateLosses, lost)
        cursor = st.successor
      }
      if (st.expired) return note(figures.legitimateLosses, 'expired')
      if (st.revoked && explicitlyLoggedOut(user, st.family, st.revokedAt)) return note(figures.legitimateLosses, 'logged-out')
      const kind = st.live ? 'live-session-refused' : 'session-revoked-by-the-app'
      violation(
        4,
        kind,
        `${at(answer.receivedAt)} ${user.id} ${answer.path} -> 401 ${answer.json?.code || ''} (load sent ${at(load.sentAt)}, phase ${load.phase}); ` +
          `cookies sent {${JWT}: ${jwtLabel(load.jwt, load.sentAt)}, ${REFRESH}: ${label(load.secret)}}; chain ${describeChain(load.secret)}; jar now ${jarText(user.jar)}`,
      )
    }

    const pagePaths = (count) => Array.from({ length: count }, () => (rng() < 0.4 ? '/me' : `/page/${1 + Math.floor(rng() * 50)}`))

    /** A page load: `paths` requested at once with the same cookies. */
    const pageLoad = async (user, { paths = pagePaths(pickInt(rng, cfg.pageRequests)), racing = null, cookie } = {}) => {
      figures.pageLoads += 1
      const load = {
        sentAt: Date.now(),
        phase: state.phase,
        jwt: user.jar.get(JWT),
        secret: user.jar.get(REFRESH),
        cookie: cookie === undefined ? cookieHeader(user.jar) : cookie,
      }
      const context = racing ? `page racing a ${racing} logout` : 'page'
      const answers = await Promise.all(
        paths.map((pathName) =>
          browserRequest(user.agent, port, 'GET', pathName, load.cookie, cfg.requestTimeoutMs).then((answer) => {
            receive(user, answer, context)
            return answer
          }),
        ),
      )
      const refused = answers.find((answer) => answer.status === 401)
      if (refused && !racing && load.secret) judgeLoss(user, load, refused)
      user.loggedIn = user.jar.has(REFRESH)
      return answers
    }

    const waitForExpiredJwt = async (user) => {
      const exp = jwtClaims(user.jar.get(JWT))?.exp
      if (exp === undefined) return
      const wait = exp * 1000 - Date.now() + 50 + rng() * 300
      if (wait > 0) await delay(wait, undefined, { signal: stopUsers.signal }).catch(() => {})
    }

    const logouts = []
    /** A logout: alone, together with a page load's requests, or just before them. */
    const logoutFlow = async (user) => {
      const variant = rng() >= cfg.raceShare ? 'alone' : rng() < 0.5 ? 'together' : 'logout-first'
      // The race that matters: the JWT has expired, so the page requests refresh.
      if (variant !== 'alone') await waitForExpiredJwt(user)
      if (state.stopping) return
      const cookie = cookieHeader(user.jar)
      const entry = {
        user: user.id,
        family: user.family,
        secret: user.jar.get(REFRESH),
        jwt: user.jar.get(JWT),
        variant,
        phase: state.phase,
        sentAt: Date.now(),
        answeredAt: undefined,
        status: undefined,
        jarAfter: null,
      }
      logouts.push(entry)
      user.logouts.push(entry)
      note(figures.logoutVariants, variant)
      figures.logouts += 1
      if (variant !== 'alone') figures.racingLogouts += 1
      const logoutDone = browserRequest(user.agent, port, 'POST', '/logout', cookie, cfg.requestTimeoutMs).then((answer) => {
        receive(user, answer, `${variant} logout`)
        entry.answeredAt = answer.receivedAt
        entry.status = answer.status ?? answer.error
      })
      let pageDone = Promise.resolve()
      if (variant !== 'alone') {
        if (variant === 'logout-first') await delay(rng() * 5)
        pageDone = pageLoad(user, { paths: pagePaths(pickInt(rng, [2, 4])), racing: variant, cookie })
      }
      await Promise.all([logoutDone, pageDone])
      // What the browser holds once every answer has arrived.
      if (user.jar.size > 0) entry.jarAfter = new Map(user.jar)
      user.jar.clear()
      user.loggedIn = false
    }

    const think = () => delay(pick(rng, cfg.thinkMs), undefined, { signal: stopUsers.signal }).catch(() => {})
    const userLoop = async (user) => {
      await delay(rng() * cfg.thinkMs[1], undefined, { signal: stopUsers.signal }).catch(() => {})
      while (!state.stopping) {
        if (!user.loggedIn) login(user)
        if (rng() < cfg.logoutShare) await logoutFlow(user)
        else await pageLoad(user)
        await think()
      }
    }
    for (let i = 0; i < cfg.users; i++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 6 })
      agents.push(agent)
      users.push({ id: `soak-user-${i + 1}`, agent, jar: new Map(), family: undefined, loggedIn: false, logouts: [] })
    }

    // --- attackers ---
    const attackAgent = new http.Agent({ keepAlive: true, maxSockets: 8 })
    agents.push(attackAgent)
    const attackerKeys = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
    const kinds = attackKinds({
      emulator,
      attackerKeys,
      victim: () => users[Math.floor(rng() * users.length)].id,
      currentKid: () => keys.current,
      withdrawnKid: () => (keys.armedAt ? keys.withdrawn : undefined),
    })
    let kindCursor = 0
    let attacksInFlight = 0
    const attack = async () => {
      let kind
      let cookie = null
      for (let tries = 0; tries < kinds.length && cookie === null; tries++) {
        ;[kind] = kinds[kindCursor % kinds.length]
        cookie = kinds[kindCursor % kinds.length][1]()
        kindCursor += 1 + (rng() < 0.3 ? 1 : 0)
      }
      if (cookie === null) return
      figures.attacks += 1
      figures.attackKindsSent.add(kind)
      attacksInFlight += 1
      const pathName = rng() < 0.5 ? '/me' : `/page/${1 + Math.floor(rng() * 50)}`
      const answer = await browserRequest(attackAgent, port, 'GET', pathName, cookie, cfg.requestTimeoutMs)
      attacksInFlight -= 1
      figures.checks += 1
      const outcome = answer.error || answer.status
      figures.attackStatuses[kind] = figures.attackStatuses[kind] || {}
      note(figures.attackStatuses[kind], outcome)
      if (answer.status === 200) {
        violation(
          2,
          kind,
          `${at(answer.receivedAt)} attack ${kind} on ${pathName} answered 200 ${answer.body.slice(0, 120)} (phase ${state.phase}); cookie ${cookie.slice(0, 300)}`,
        )
      }
      for (const header of answer.setCookies || []) {
        const [name, rest] = [header.slice(0, header.indexOf('=')), header.slice(header.indexOf('=') + 1)]
        if (cookieKind(name) !== undefined && rest.split(';')[0] !== '') {
          violation(2, `${kind}-got-cookies`, `${at()} attack ${kind} received ${name} ${rest.slice(0, 80)}`)
        }
      }
      // Node answers an oversized header with 431 and drops the connection,
      // which can reach the client as a reset while it is still writing.
      const tooBig = kind === 'huge-cookie' && ['ECONNRESET', 'EPIPE'].includes(answer.error)
      if (answer.error && !tooBig && !recentCrash(answer.receivedAt)) {
        violation(9, `attack-${answer.error}`, `${at(answer.receivedAt)} attack ${kind}: ${answer.error}`)
      } else if (!answer.error && ![401, 431, 503].includes(answer.status) && answer.status !== 200) {
        violation(9, `attack-status-${answer.status}`, `${at(answer.receivedAt)} attack ${kind}: ${answer.status} ${answer.body.slice(0, 200)}`)
      }
    }
    const attackTimer = setInterval(() => {
      if (state.stopping) return
      const target = Math.floor(figures.requests * cfg.attackShare)
      let budget = 10
      while (figures.attacks < target && attacksInFlight < 30 && budget-- > 0) attack().catch((error) => log(`attack failed: ${error.stack}`))
    }, 100)
    timers.push(attackTimer)

    // --- run ---
    const schedule = runSchedule()
    const loops = users.map((user) =>
      userLoop(user).catch((error) => {
        violation(9, 'driver-error', `${user.id}: ${error.stack}`)
      }),
    )
    // `signal` (a test's t.after) ends the run early: everything is cleaned up.
    await delay(cfg.durationMs, undefined, cfg.signal ? { signal: cfg.signal } : undefined)
    state.stopping = true
    stopUsers.abort()
    await Promise.all(loops)
    await schedule
    emulator.resetFaults()
    const endedAt = Date.now()
    log(`${at()} users stopped; checking recovery (invariant 6)`)

    // --- invariant 6: every user's next page load succeeds ---
    let cursor = 0
    // A crashed app is back once its process manager restarted it: a load
    // that met the crash is tried again (up to three times) once it is up.
    const loadAfterRestarts = async (user, paths) => {
      for (let attempt = 1; ; attempt++) {
        await appsReady().catch(() => {})
        const answers = await pageLoad(user, { paths })
        const crashed = answers.some((answer) => answer.error && recentCrash(answer.receivedAt))
        if (!crashed || attempt === 3) return answers
        await delay(200)
      }
    }
    const recover = async (user) => {
      const ok = (answers) => answers.every((answer) => answer.status === 200 && answer.json?.userId === user.id)
      if (!user.loggedIn) login(user)
      const first = await loadAfterRestarts(user, ['/me', `/page/${1 + Math.floor(rng() * 50)}`, '/me'])
      if (ok(first)) return
      if (first.some((answer) => answer.status === 401)) {
        login(user)
        const again = await loadAfterRestarts(user, ['/me', '/page/1', '/me'])
        if (ok(again)) return
        violation(6, 'new-login-failed', `${at()} ${user.id}: after a new login ${again.map((a) => a.status ?? a.error).join(',')}`)
        return
      }
      violation(6, 'not-recovered', `${at()} ${user.id}: ${first.map((a) => `${a.path} ${a.status ?? a.error} ${a.json?.code || ''}`).join(', ')}`)
    }
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (cursor < users.length) await recover(users[cursor++])
      }),
    )

    // --- invariant 2, at the end: no instance still takes the withdrawn key ---
    if (keys.withdrawn) {
      const answers = await Promise.all(appPorts.map(withdrawnKeyProbe))
      answers.forEach((answer, i) => {
        if (answer.status === 200) {
          violation(
            2,
            'withdrawn-key-accepted-at-end',
            `${at()} instance ${i + 1}: a token signed by ${keys.withdrawn} (withdrawn ${at(keys.withdrawnAt)}) still authenticates after the quiet phase`,
          )
        }
      })
    }

    // --- invariant 5, first half: no live token in a logged-out family ---
    const lastLogout = Math.max(0, ...logouts.map((entry) => entry.answeredAt || entry.sentAt))
    const settleUntil = Math.max(lastLogout + cfg.settleMs, endedAt + 2000)
    if (settleUntil > Date.now()) {
      log(`${at()} waiting ${((settleUntil - Date.now()) / 1000).toFixed(1)} s for background revocations to settle`)
      await delay(settleUntil - Date.now())
    }
    tally()
    const predecessorOf = new Map()
    for (const { first } of families.values()) {
      let cursorSecret = first
      while (cursorSecret) {
        const next = emulator.refreshTokenState(cursorSecret).successor
        if (next) predecessorOf.set(next, cursorSecret)
        cursorSecret = next
      }
    }
    let orphans = 0
    for (const entry of logouts) {
      // A logout the app never answered (the connection failed: for ours
      // that is invariant 9) did not happen as far as the browser knows.
      if (entry.answeredAt === undefined || typeof entry.status !== 'number') {
        note(figures.excused, 'logout-not-answered')
        continue
      }
      const live = emulator.liveRefreshTokens(entry.family).filter((secret) => {
        const previous = predecessorOf.get(secret)
        // Issued in an answer nobody could use: no logout can know it.
        if (previous && lostRotation(rotationOf(emulator.refreshTokenState(previous)))) {
          orphans += 1
          return false
        }
        return true
      })
      if (live.length === 0) continue
      const st = emulator.refreshTokenState(live[0])
      const sent = entry.secret ? emulator.refreshTokenState(entry.secret) : undefined
      // The logout never revoked the token it was given (its call to
      // Crossmint failed and was not retried); or it did, but a page request
      // had refreshed that token meanwhile, or before.
      note(figures.logoutsLeavingLiveToken, entry.variant)
      let kind
      if (sent && !sent.revoked) kind = 'logout-call-failed'
      else if (st.issuedAt >= entry.sentAt) kind = 'refreshed-during-logout'
      else kind = 'earlier-successor-still-live'
      violation(
        5,
        kind,
        `${entry.user} ${entry.variant} logout sent ${at(entry.sentAt)} answered ${entry.answeredAt ? at(entry.answeredAt) : 'never'} (${entry.status}, phase ${entry.phase}) ` +
          `with ${jwtLabel(entry.jwt, entry.sentAt)} ${label(entry.secret)}${sent && sent.revokedAt ? ` revoked@${at(sent.revokedAt)}` : ' (never revoked)'}; ` +
          `live at Crossmint: ${live.map(label).join(', ')} issued ${at(st.issuedAt)}; chain ${describeChain(entry.secret)}; ` +
          `browser kept ${entry.jarAfter ? jarText(entry.jarAfter, entry.answeredAt) : 'nothing'}`,
      )
    }
    if (orphans) figures.excused['orphan-token-of-unusable-answer'] = orphans

    // --- invariant 3: no token presented again after a presentation that spent it ---
    state.replayFrom = Date.now()
    let rotations = 0
    for (const [family, { userId, first }] of families) {
      const owner = users.find((user) => user.id === userId)
      let secret = first
      while (secret) {
        const st = emulator.refreshTokenState(secret)
        const index = st.presentations.findIndex((p) => p.result === 'rotated' || p.result === 'rotated-unusable')
        if (index >= 0) {
          rotations += 1
          const spent = st.presentations[index]
          // One violation per token, however many times it came back.
          const again = st.presentations.slice(index + 1).filter((p) => p.at < state.replayFrom)
          const lost = lostRotation(spent)
          if (again.length > 0 && lost === 'undelivered-answer') {
            note(figures.excused, 'presented-again-after-an-undelivered-answer')
          } else if (again.length > 0) {
            const loggedOut = owner.logouts.find((entry) => entry.family === family && again[0].at >= entry.sentAt)
            const kind = lost ? 'after-an-unusable-answer' : loggedOut ? `after-a-${loggedOut.variant}-logout` : 'repeated'
            violation(
              3,
              kind,
              `${userId} token ${label(secret)}: spent ${presentationText(spent)}, presented again ${again.length}x: ${again.map(presentationText).join(' ')}` +
                `${loggedOut ? ` (logout sent ${at(loggedOut.sentAt)}, answered ${loggedOut.answeredAt ? at(loggedOut.answeredAt) : 'never'})` : ''}; chain ${describeChain(secret, 3)}`,
            )
          }
        }
        secret = st.successor
      }
    }

    // --- invariant 5, second half: the cookies kept after a logout do not authenticate ---
    const replayAgent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    agents.push(replayAgent)
    for (const entry of logouts) {
      // Unanswered logouts (a connection error) are skipped, as above.
      if (!entry.jarAfter || typeof entry.status !== 'number') continue
      const kept = jarText(entry.jarAfter, entry.answeredAt)
      // A JWT cannot be revoked: one still unexpired (a long --jwt-ttl) is
      // left out, so the replay asks whether the session can be resumed.
      const replayed = new Map(entry.jarAfter)
      const exp = jwtClaims(replayed.get(JWT))?.exp
      if (exp !== undefined && exp * 1000 > Date.now()) replayed.delete(JWT)
      if (replayed.size === 0) continue
      const answer = await send(replayAgent, port, 'GET', '/me', cookieHeader(replayed), cfg.requestTimeoutMs)
      figures.checks += 1
      if (answer.status === 200) {
        note(figures.logoutsLeavingUsableCookies, entry.variant)
        violation(
          5,
          'kept-cookies-authenticate',
          `${entry.user} ${entry.variant} logout sent ${at(entry.sentAt)} answered ${entry.answeredAt ? at(entry.answeredAt) : 'never'}; ` +
            `the browser kept ${kept} after every answer arrived; replayed at ${at(answer.receivedAt)}: 200 ${answer.body.slice(0, 80)}`,
        )
      }
    }

    // --- invariant 8: memory and event-loop delay (per instance; the worst) ---
    const endStats = await sampleStats(false)
    let rssGrowthMb = -Infinity
    let eld = { p50: -Infinity, p99: -Infinity, max: -Infinity }
    appPorts.forEach((appPort, i) => {
      const last = endStats[i] || samples[i][samples[i].length - 1]
      // A restarted app is judged on its last process, from its first sample.
      const incarnation = samples[i].filter((sample) => sample.pid === last?.pid && sample.at >= (baselines[i]?.at ?? 0))
      const base = baselines[i] && baselines[i].pid === last?.pid ? baselines[i] : incarnation[0]
      const growth = base ? (Math.max(...incarnation.map((sample) => sample.rss)) - base.rss) / 2 ** 20 : NaN
      rssGrowthMb = Math.max(rssGrowthMb, growth)
      const delays = last ? last.eventLoopDelayMs : { p50: NaN, p99: NaN, max: NaN }
      eld = { p50: Math.max(eld.p50, delays.p50), p99: Math.max(eld.p99, delays.p99), max: Math.max(eld.max, delays.max) }
    })
    if (cfg.sdk === 'ours' || figures.crashes === 0) {
      if (!(rssGrowthMb < cfg.rssGrowthBoundMb))
        violation(8, 'rss-growth', `RSS grew ${rssGrowthMb.toFixed(1)} MB after warm-up (bound ${cfg.rssGrowthBoundMb} MB)`)
      if (!(eld.p99 < cfg.eldP99BoundMs))
        violation(8, 'event-loop-delay', `event-loop delay p99 ${eld.p99} ms (bound ${cfg.eldP99BoundMs} ms), max ${eld.max} ms`)
    }

    // --- the summary ---
    figures.restarts = apps.reduce((sum, app) => sum + app.restarts, 0)
    const seconds = Math.round((endedAt - t0) / 1000)
    const violations = Object.values(byInvariant).reduce((a, b) => a + b, 0)
    const violationText =
      violations === 0
        ? '0 violations'
        : `${fmt(violations)} violations (${Object.entries(byInvariant)
            .filter(([, n]) => n)
            .map(([k, n]) => `${k} ${INVARIANTS[k]}: ${fmt(n)}`)
            .join(', ')})`
    const summary =
      `soak ${cfg.sdk}${cfg.instances > 1 ? ` x${cfg.instances}` : ''}: ${cfg.users} users, ${seconds} s, ${fmt(figures.checks)} checks, ` +
      `${fmt(figures.attacks)} attacks (${figures.attackKindsSent.size} kinds), ${fmt(rotations)} refreshes, ` +
      `${fmt(figures.logouts)} logouts (${fmt(figures.racingLogouts)} racing), ${violationText}, ` +
      `${fmt(figures.crashes)} crashes, rss +${Number.isFinite(rssGrowthMb) ? Math.round(rssGrowthMb) : '?'} MB` +
      `${figures.restarts ? ` (last of ${figures.restarts + cfg.instances} processes)` : ''}, eld p99 ${Number.isFinite(eld.p99) ? Math.round(eld.p99) : '?'} ms`
    const driverEld = { p99: driverDelay.percentile(99) / 1e6, max: driverDelay.max / 1e6 }
    return {
      summary,
      violations,
      byInvariant,
      byKind,
      details,
      figures: {
        ...figures,
        attackKindsSent: [...figures.attackKindsSent],
        rotations,
        seconds,
        totalSeconds: Math.round((Date.now() - t0) / 1000),
        rssGrowthMb,
        eld,
        driverEld,
        phases: phaseLog.map((p) => `${p.name}@${at(p.from)}`),
        withdrawnKeyArmedAt: keys.armedAt ? at(keys.armedAt) : null,
        seed: cfg.seed,
      },
    }
  } finally {
    for (const timer of timers) clearInterval(timer)
    stopEverything()
    await Promise.all(apps.map((app) => app.stop()))
    if (proxy) await proxy.close()
    killChildren()
    process.off('exit', killChildren)
    for (const agent of agents) agent.destroy()
    driverDelay.disable()
    await emulator.close()
  }
}

// --- command line ------------------------------------------------------------

const HELP = `node testing/soak/driver.js [--users N] [--duration SECONDS] [--sdk ours|reference]
  [--instances N] [--seed N] [--jwt-ttl SECONDS] [--timeout MS] [--settle SECONDS]
  [--phases a,b,...] [--race-share 0..1] [--no-logout-faults] [--verbose] [--json FILE]
Environment: SOAK_USERS, SOAK_DURATION, SOAK_SDK, SOAK_INSTANCES, SOAK_SEED.
Defaults: 300 users, 210 s, ours. Prints one summary line last; exit code 1 on any violation.`

function parseArgs(argv, env = process.env) {
  const options = {}
  const take = (name) => {
    const index = argv.indexOf(name)
    if (index < 0) return undefined
    const value = argv[index + 1]
    if (value === undefined || value.startsWith('--')) throw new Error(`${name} needs a value\n${HELP}`)
    return value
  }
  const users = take('--users') ?? env.SOAK_USERS
  const duration = take('--duration') ?? env.SOAK_DURATION
  const sdk = take('--sdk') ?? env.SOAK_SDK
  const instances = take('--instances') ?? env.SOAK_INSTANCES
  const seed = take('--seed') ?? env.SOAK_SEED
  const jwtTtl = take('--jwt-ttl')
  const timeout = take('--timeout')
  const settle = take('--settle')
  const phases = take('--phases')
  const raceShare = take('--race-share')
  if (users !== undefined) options.users = Number(users)
  if (duration !== undefined) options.durationMs = Number(duration) * 1000
  if (sdk !== undefined) options.sdk = sdk
  if (instances !== undefined) options.instances = Number(instances)
  if (seed !== undefined) options.seed = Number(seed)
  if (jwtTtl !== undefined) options.jwtTtlSeconds = Number(jwtTtl)
  if (timeout !== undefined) options.appTimeoutMs = Number(timeout)
  if (settle !== undefined) options.settleMs = Number(settle) * 1000
  if (raceShare !== undefined) options.raceShare = Number(raceShare)
  if (argv.includes('--no-logout-faults')) options.logoutFaults = false
  if (phases !== undefined) {
    options.phases = phases.split(',').filter(Boolean)
    const unknown = options.phases.filter((name) => !PHASES.some((phase) => phase.name === name))
    if (unknown.length) throw new Error(`unknown phases ${unknown.join(', ')}; known: ${PHASES.map((phase) => phase.name).join(', ')}`)
  }
  if (argv.includes('--verbose')) options.verbose = true
  options.jsonFile = take('--json')
  if (!['ours', 'reference'].includes(options.sdk ?? 'ours')) throw new Error(`--sdk must be ours or reference\n${HELP}`)
  if (options.instances !== undefined && !(Number.isInteger(options.instances) && options.instances >= 1)) {
    throw new Error(`--instances must be a whole number of at least 1\n${HELP}`)
  }
  return options
}

if (require.main === module) {
  if (process.argv.includes('--help')) {
    console.log(HELP)
    process.exit(0)
  }
  const { jsonFile, ...options } = parseArgs(process.argv.slice(2))
  // Ctrl-C: the 'exit' handler runSoak installed kills the app processes.
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => process.exit(130))
  runSoak(options).then(
    (result) => {
      const kinds = Object.entries(result.byKind).map(([kind, n]) => `  ${kind}: ${fmt(n)}`)
      if (kinds.length) console.log(`violations by kind:\n${kinds.join('\n')}`)
      const f = result.figures
      console.log(
        `figures: ${JSON.stringify({
          pageLoads: f.pageLoads,
          requests: f.requests,
          statuses: f.statuses,
          outages: f.outages,
          crossmintCalls: f.crossmintCalls,
          logins: f.logins,
          logoutVariants: f.logoutVariants,
          logoutsLeavingLiveToken: f.logoutsLeavingLiveToken,
          logoutsLeavingUsableCookies: f.logoutsLeavingUsableCookies,
          legitimateLosses: f.legitimateLosses,
          excused: f.excused,
          lostToCrash: f.lostToCrash,
          restarts: f.restarts,
          attackStatuses: f.attackStatuses,
          unhandled: f.unhandled,
          routeErrors: f.routeErrors,
          eld: f.eld,
          driverEld: { p99: Math.round(f.driverEld.p99), max: Math.round(f.driverEld.max) },
          withdrawnKeyArmedAt: f.withdrawnKeyArmedAt,
          totalSeconds: f.totalSeconds,
          seed: f.seed,
        })}`,
      )
      if (jsonFile) require('node:fs').writeFileSync(jsonFile, JSON.stringify(result, null, 2))
      console.log(result.summary)
      process.exitCode = result.violations === 0 ? 0 : 1
    },
    (error) => {
      console.error(error)
      process.exitCode = 2
    },
  )
}

module.exports = { runSoak, applySetCookie, cookieHeader, parseArgs, DEFAULTS, INVARIANTS }
