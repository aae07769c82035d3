'use strict'
// A built framework app served by its own server (next start, remix-serve,
// react-router-serve, a standalone server.js) on a loopback port, as the
// framework tests run them.

const { spawn } = require('node:child_process')
const { sleep } = require('./common.js')

/**
 * Starts `node <args>` in `cwd` with `env` and waits until `http://127.0.0.1:<port>/`
 * answers; stopped when the test ends. `{ base, log }`.
 */
async function startServedApp(t, { args, cwd, env, port, name, attempts = 300 }) {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const stopped = new Promise((resolve) => child.once('exit', resolve))
  t.after(async () => {
    child.kill()
    await stopped
  })
  const base = `http://127.0.0.1:${port}`
  for (let attempt = 0; ; attempt++) {
    try {
      await fetch(`${base}/`)
      break
    } catch {
      if (attempt > attempts || child.exitCode !== null) throw new Error(`${name} did not start: ${log}`)
      await sleep(100)
    }
  }
  return { base, log: () => log }
}

/** The text a page renders, without React's `<!-- -->` separators and tags. */
function pageText(body) {
  return String(body)
    .replace(/<!-- -->/g, '')
    .replace(/<[^>]+>/g, ' ')
}

module.exports = { startServedApp, pageText }
