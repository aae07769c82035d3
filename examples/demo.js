// `npm run demo`: the guide's Express server on this package, against a
// local Crossmint emulator, behind a small web page. It walks one session
// through validation, refresh and logout, printing the curl command for each
// step and what came back, then keeps serving: open the printed URL, sign in
// as any email, watch the short-lived JWT get refreshed, log out.
// `--once` exits after the walk-through; `--serve` skips it (the browser test).
'use strict'

const crypto = require('node:crypto')
const http = require('node:http')
const path = require('node:path')
const express = require('express')
const { startCrossmintEmulator } = require('../testing/emulator.js')

const once = process.argv.includes('--once')
const serveOnly = process.argv.includes('--serve')
/** Short, so the page shows a refresh within a minute. */
const JWT_TTL_SECONDS = Number(process.env.DEMO_JWT_TTL || 20)

/** The guide's app, plus the page and a stand-in for Crossmint's client-side sign-in. */
function demoApp(emulator, guideApp, crossmintAuth) {
  const app = express()
  app.get('/', (req, res) => res.sendFile(path.join(__dirname, 'demo-page.html')))
  // The names Crossmint's current client keeps this project's session under.
  app.get('/dev/cookie-names', (req, res) => res.json(crossmintAuth.getAuthCookieNames()))
  app.post('/dev/sign-in', express.json(), (req, res) => {
    const email = String((req.body && req.body.email) || '')
      .trim()
      .toLowerCase()
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) return res.status(400).json({ error: 'Enter an email address' })
    const userId = `user-${crypto.createHash('sha256').update(email).digest('hex').slice(0, 12)}`
    const session = emulator.createSession(userId, { email, jwtTtlSeconds: JWT_TTL_SECONDS })
    crossmintAuth.storeAuthMaterial(res, session)
    res.json({ userId })
  })
  app.use(guideApp)
  return app
}

function cookieJar() {
  const jar = new Map()
  return {
    header: () => [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
    take(setCookies) {
      for (const line of setCookies) {
        const [pair] = line.split(';')
        const name = pair.slice(0, pair.indexOf('='))
        const value = pair.slice(pair.indexOf('=') + 1)
        if (value === '') jar.delete(name)
        else jar.set(name, value)
      }
    },
    set: (name, value) => jar.set(name, value),
  }
}

function shorten(text) {
  return text.replace(/[A-Za-z0-9_-]{30,}(\.[A-Za-z0-9_-]{20,}){0,2}/g, (t) => `${t.slice(0, 10)}…`)
}

async function step(title, base, jar, { method = 'GET', route, body }) {
  const cookie = jar.header()
  const curl = [`curl -i -X ${method} ${base}${route}`]
  if (cookie) curl.push(`-H 'Cookie: ${cookie}'`)
  if (body) curl.push(`-H 'Content-Type: application/json' -d '${body}'`)
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body,
  })
  const setCookies = response.headers.getSetCookie()
  jar.take(setCookies)
  const text = await response.text()
  console.log(`\n== ${title}\n$ ${shorten(curl.join(' \\\n    '))}`)
  console.log(`-> ${response.status} ${response.statusText}  ${shorten(text)}`)
  for (const c of setCookies) console.log(`   Set-Cookie: ${shorten(c)}`)
  return { status: response.status, text, setCookies }
}

async function main() {
  const emulator = await startCrossmintEmulator()
  process.env.SERVER_CROSSMINT_API_KEY = emulator.apiKey
  process.env.CROSSMINT_BASE_URL = emulator.url
  process.env.PORT = process.env.PORT || '3001'
  const { app: guideApp, crossmintAuth } = require(path.join(__dirname, 'express-server.js'))
  const server = http.createServer(demoApp(emulator, guideApp, crossmintAuth))
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(Number(process.env.PORT), '127.0.0.1', resolve)
  })
  const base = `http://127.0.0.1:${server.address().port}`
  console.log(`Crossmint emulator: ${emulator.url}\nExpress app (examples/express-server.js): ${base}`)
  if (serveOnly) {
    console.log(`Demo page: ${base}/`)
    return
  }

  const results = []
  const jar = cookieJar()
  const fresh = emulator.createSession('demo-user', { email: 'demo@example.com' })
  jar.set('crossmint-jwt', fresh.jwt)
  jar.set('crossmint-refresh-token', fresh.refreshToken.secret)
  results.push(await step('1. A valid session is accepted without calling Crossmint', base, jar, { route: '/protected' }))

  const expired = emulator.createSession('demo-user', { jwtTtlSeconds: -60 })
  jar.set('crossmint-jwt', expired.jwt)
  jar.set('crossmint-refresh-token', expired.refreshToken.secret)
  results.push(await step('2. An expired JWT is refreshed; new cookies come back', base, jar, { route: '/protected' }))

  const spare = emulator.issueRefreshToken('demo-user')
  results.push(
    await step('3. The refresh route exchanges a refresh token for new auth material (cookies under both namings)', base, cookieJar(), {
      method: 'POST',
      route: '/refresh',
      body: JSON.stringify({ refresh: spare.secret }),
    }),
  )

  results.push(await step('4. Logout revokes the refresh token and clears both cookies', base, jar, { method: 'POST', route: '/logout' }))
  results.push(await step('5. After logout the protected route refuses the browser', base, jar, { route: '/protected' }))

  const expected = [200, 200, 200, 200, 401]
  const statuses = results.map((r) => r.status)
  const ok = JSON.stringify(statuses) === JSON.stringify(expected) && results[1].setCookies.length === 2 && results[2].setCookies.length === 4
  console.log(`\n${ok ? 'Demo walk-through passed' : `Demo walk-through FAILED: statuses ${statuses}`}`)

  if (once || !ok) {
    server.close()
    await emulator.close()
    process.exitCode = ok ? 0 : 1
    return
  }
  const another = emulator.createSession('you', { email: 'you@example.com' })
  console.log(`\nOpen ${base}/ to sign in, watch the session refresh (JWTs live ${JWT_TTL_SECONDS} s) and log out.`)
  console.log(
    `Or a fresh session for curl:\n  curl -i ${base}/protected -H 'Cookie: crossmint-jwt=${another.jwt}; crossmint-refresh-token=${another.refreshToken.secret}'\nCtrl-C to stop.`,
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
