'use strict'
// The bench's handle on the emulator process (bench/emulator-host.js): the
// same calls as the emulator object, made over IPC and returning promises.

const { fork } = require('node:child_process')
const path = require('node:path')

async function startEmulatorProcess() {
  const child = fork(path.join(__dirname, 'emulator-host.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map()
  let nextId = 1

  await new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`emulator process exited early (code ${code})`))
    child.once('exit', onExit)
    child.once('message', (message) => {
      child.off('exit', onExit)
      if (message && message.ready) resolve()
      else reject(new Error(`unexpected first message from the emulator process: ${JSON.stringify(message)}`))
    })
  })

  child.on('message', ({ id, result, error }) => {
    const call = pending.get(id)
    if (!call) return
    pending.delete(id)
    if (error) call.reject(new Error(`emulator: ${error}`))
    else call.resolve(result)
  })
  child.on('exit', (code) => {
    for (const call of pending.values()) call.reject(new Error(`emulator process exited (code ${code})`))
    pending.clear()
  })

  const call = (method, ...args) =>
    new Promise((resolve, reject) => {
      const id = nextId++
      pending.set(id, { resolve, reject })
      child.send({ id, method, args })
    })

  const info = await call('info')
  return {
    url: info.url,
    apiKey: info.apiKey,
    jwks: info.jwks,
    jwksUri: `${info.url}/.well-known/jwks.json`,
    createSession: (userId, options) => call('createSession', userId, options),
    signJwt: (claims, options) => call('signJwt', claims, options),
    keyPems: (kid) => call('keyPems', kid),
    requestCounts: () => call('requestCounts'),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.disconnect()
      }),
  }
}

module.exports = { startEmulatorProcess }
