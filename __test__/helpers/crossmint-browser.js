'use strict'
// A browser profile running one published version of Crossmint's client
// (`@crossmint/client-sdk-auth`, installed as the devDependencies
// `crossmint-client-auth-1.3` and `crossmint-client-auth-1.2`) in jsdom, in a
// worker thread (crossmint-browser.worker.js). Every method is one exchange
// with the worker, with a deadline; a failure in the worker comes back as an
// Error carrying what the client logged and what the pages requested.

const path = require('node:path')
const { Worker } = require('node:worker_threads')

/**
 * A browser for test `t` (terminated when it ends) on the app at `origin`,
 * whose client talks to Crossmint at `emulator.url` with `emulator.apiKey`.
 * `version` is '1.3' (1.3.10) or '1.2' (1.2.50).
 */
async function openBrowser(t, { version, origin, emulator, timeoutMs = 10000 }) {
  const worker = new Worker(path.join(__dirname, 'crossmint-browser.worker.js'), {
    workerData: { version, origin, apiKey: emulator.apiKey, crossmintUrl: emulator.url },
  })
  const pending = new Map()
  let nextId = 0
  let exited = null
  worker.on('message', ({ id, result, error }) => {
    const call = pending.get(id)
    if (!call) return
    pending.delete(id)
    clearTimeout(call.timer)
    if (!error) return call.resolve(result)
    const failure = new Error(`${call.op} failed in the ${version} browser: ${error.message}`)
    failure.stack = `${failure.message}\n${error.stack}`
    failure.logs = error.logs
    failure.network = error.network
    call.reject(failure)
  })
  const failAll = (why) => {
    exited = why
    for (const call of pending.values()) {
      clearTimeout(call.timer)
      call.reject(new Error(`${call.op}: the ${version} browser worker ${why}`))
    }
    pending.clear()
  }
  worker.on('error', (error) => failAll(`threw: ${error.stack || error.message}`))
  worker.on('exit', (code) => failAll(`exited (${code})`))

  const call = (op, args) =>
    new Promise((resolve, reject) => {
      if (exited) return reject(new Error(`${op}: the ${version} browser worker ${exited}`))
      const id = nextId++
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`${op}(${JSON.stringify(args)}) got no answer from the ${version} browser within ${timeoutMs} ms`))
      }, timeoutMs)
      pending.set(id, { op, resolve, reject, timer })
      worker.postMessage({ id, op, args })
    })

  t.after(async () => {
    await call('close').catch(() => {})
    await worker.terminate()
  })

  return {
    version,
    origin,
    /** Cookies set by page script (`document.cookie`), or HttpOnly ones as a server sets them (`httpOnly: true`); `lines` are `name=value`. */
    seed: (lines, { httpOnly = false } = {}) => call('seed', { lines, httpOnly }),
    /** A page load: the client created (`refreshRoute`, `logoutRoute`), its first callback and requests awaited; a snapshot. */
    load: (options = {}) => call('load', options),
    /** The client's `logout()` in the current page, awaited with its requests; a snapshot. */
    logout: () => call('logout'),
    /** A request from the page with the jar's cookies: `{ status, body, setCookie, cookies }`. */
    request: (requestPath, init = {}) => call('request', { path: requestPath, ...init }),
    /** `{ events, documentCookie, readableJwt, cookies, network, logs }` now. */
    snapshot: () => call('snapshot'),
    clearLog: () => call('clearLog'),
    reset: () => call('reset'),
  }
}

module.exports = { openBrowser }
