'use strict'
// A browser profile in a worker thread: one cookie jar, page loads in jsdom,
// and Crossmint's published client (`@crossmint/client-sdk-auth`, the version
// named by workerData.version) running in each page as it runs in a browser.
// Driven by crossmint-browser.js over postMessage; each worker loads one client
// version (two copies in one realm print Datadog's "loaded more than once"),
// and its jsdom globals never touch the thread the servers run in.
//
// Node's fetch knows nothing of jsdom, so the page's fetch is wrapped as a
// browser's fetch behaves: relative URLs resolve against the page, and
// same-origin requests carry the jar's cookies (HttpOnly included) and store
// every Set-Cookie back into it. Cross-origin requests (the client calling
// Crossmint directly) carry no cookies, as with credentials 'same-origin'.

const { parentPort, workerData } = require('node:worker_threads')
const { JSDOM, CookieJar } = require('jsdom')

const { version, origin, apiKey, crossmintUrl } = workerData
const client = require(`crossmint-client-auth-${version}`)

const nodeFetch = globalThis.fetch
let jar = new CookieJar()
let page = null
/** Every request the pages made: `{ method, url, status, body, setCookie }` or `{ ..., error }`. */
let network = []
let inFlight = 0
/** What the client logged (console.error/warn/debug), for failure messages. */
const logs = []
for (const level of ['error', 'warn', 'debug', 'log']) {
  console[level] = (...args) =>
    logs.push(`${level}: ${args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`)
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function pageFetch(input, init = {}) {
  const url = new URL(String(input instanceof Request ? input.url : input), page ? page.dom.window.location.href : `${origin}/`)
  const sameOrigin = url.origin === origin
  const headers = new Headers(init.headers)
  if (sameOrigin || init.credentials === 'include') {
    const cookie = jar.getCookieStringSync(url.href)
    if (cookie) headers.set('cookie', cookie)
  }
  const entry = { method: init.method || 'GET', url: url.href, requestBody: typeof init.body === 'string' ? init.body : undefined }
  network.push(entry)
  inFlight++
  try {
    const response = await nodeFetch(url.href, { ...init, headers })
    entry.status = response.status
    entry.setCookie = response.headers.getSetCookie()
    if (sameOrigin || init.credentials === 'include') for (const line of entry.setCookie) jar.setCookieSync(line, url.href)
    entry.body = await response
      .clone()
      .text()
      .catch(() => undefined)
    return response
  } catch (error) {
    entry.error = error.message
    throw error
  } finally {
    inFlight--
  }
}

function closePage() {
  if (!page) return
  try {
    page.auth?.cancelScheduledRefresh()
  } catch {}
  page.dom.window.close()
  page = null
  delete globalThis.window
  delete globalThis.document
  delete globalThis.requestAnimationFrame
  delete globalThis.cancelAnimationFrame
  globalThis.fetch = nodeFetch
}

/** A fresh page (document) on the app's origin sharing the profile's jar; no client yet. */
function openPage() {
  closePage()
  const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: `${origin}/`, cookieJar: jar, pretendToBeVisual: true })
  globalThis.window = dom.window
  globalThis.document = dom.window.document
  globalThis.requestAnimationFrame = dom.window.requestAnimationFrame.bind(dom.window)
  globalThis.cancelAnimationFrame = dom.window.cancelAnimationFrame.bind(dom.window)
  globalThis.fetch = pageFetch
  page = { dom, auth: null, events: [] }
  return page
}

/** Waits until no request is in flight and nothing new happened for `quietMs`. */
async function settle(quietMs = 60, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  let seen = -1
  while (Date.now() < deadline) {
    const marker = `${network.length}/${page ? page.events.length : 0}/${inFlight}`
    if (inFlight === 0 && marker === seen) return
    seen = marker
    await sleep(quietMs)
  }
  throw new Error(`the page did not settle within ${timeoutMs} ms (${inFlight} requests in flight)`)
}

async function waitForEvent(from, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (page.events.length <= from) {
    if (Date.now() > deadline) throw new Error(`no onTokenRefresh or onLogout within ${timeoutMs} ms`)
    await sleep(10)
  }
}

function cookies() {
  return jar
    .getCookiesSync(`${origin}/`)
    .map((c) => ({ name: c.key, value: c.value, httpOnly: c.httpOnly, expires: c.expires === 'Infinity' ? null : String(c.expires) }))
}

/** The JWT the page's client code can read, as each version's React provider reads it at mount. */
async function readableJwt() {
  if (version === '1.3') return (await client.getScopedStorageProvider(apiKey).get('crossmint-jwt')) ?? null
  return client.getCookie('crossmint-jwt') ?? null
}

async function snapshot() {
  return {
    events: page ? page.events : [],
    documentCookie: page ? page.dom.window.document.cookie : null,
    readableJwt: page ? await readableJwt() : null,
    cookies: cookies(),
    network,
    logs: [...logs],
  }
}

const operations = {
  /** Sets cookies as page script would (`document.cookie = line`), or with `httpOnly` through the jar as a server would. */
  seed({ lines, httpOnly = false }) {
    if (httpOnly) {
      for (const line of lines) jar.setCookieSync(`${line}; Path=/; HttpOnly`, `${origin}/`)
    } else {
      const { dom } = page || openPage()
      for (const line of lines) dom.window.document.cookie = `${line}; path=/; SameSite=Lax`
    }
    return cookies()
  },
  /** A page load: a new document sharing the jar, the client created as an app does, its initial refresh awaited. */
  async load({ refreshRoute, logoutRoute, timeoutMs = 5000 } = {}) {
    const current = openPage()
    const crossmint = client.createCrossmint({ apiKey, overrideBaseUrl: crossmintUrl })
    const options = {
      callbacks: {
        onTokenRefresh: (material) =>
          current.events.push({ type: 'onTokenRefresh', userId: material.user?.id, jwt: material.jwt, refreshToken: material.refreshToken?.secret }),
        onLogout: () => current.events.push({ type: 'onLogout' }),
      },
    }
    if (refreshRoute) options.refreshRoute = refreshRoute
    if (logoutRoute) options.logoutRoute = logoutRoute
    current.auth = client.CrossmintAuth.from(crossmint, options)
    await waitForEvent(0, timeoutMs)
    await settle()
    return snapshot()
  },
  /** The client's own logout(), as a "Sign out" button calls it. */
  async logout() {
    if (!page?.auth) throw new Error('no page with a client is loaded')
    const from = page.events.length
    await page.auth.logout()
    await waitForEvent(from, 5000)
    await settle()
    return snapshot()
  },
  /** A request the page makes (a navigation or fetch) with the jar's cookies; Set-Cookie goes back into the jar. */
  async request({ path, method = 'GET', body, headers }) {
    if (!page) openPage()
    const response = await pageFetch(path, { method, body, headers })
    const text = await response.text()
    let json
    try {
      json = JSON.parse(text)
    } catch {}
    return { status: response.status, body: json ?? text, setCookie: response.headers.getSetCookie(), cookies: cookies() }
  },
  snapshot,
  /** Forgets what was logged and requested (the jar is kept). */
  clearLog() {
    network = []
    logs.length = 0
  },
  /** A new, empty profile. */
  reset() {
    closePage()
    jar = new CookieJar()
    network = []
    logs.length = 0
  },
  close() {
    closePage()
  },
}

parentPort.on('message', async ({ id, op, args }) => {
  try {
    const result = await operations[op](args || {})
    parentPort.postMessage({ id, result })
  } catch (error) {
    parentPort.postMessage({ id, error: { message: error.message, stack: error.stack, logs: [...logs], network } })
  }
})
