'use strict'
// Run by check-threads.test.js, as a child process or as a worker thread:
// builds an instance, verifies one token so the key set is held, then sends
// a burst of never-seen tokens through getSession at once (most of them go
// to the check threads) and reports each call's userId, or null when it was
// refused. Input: { url, apiKey, warmUp, jwts, oneAtATime } as workerData or
// JSON on stdin; with `oneAtATime` each call is awaited before the next.
const { isMainThread, workerData, parentPort } = require('node:worker_threads')
const { authFor } = require('./common.js')

async function readInput() {
  if (!isMainThread) return workerData
  let text = ''
  for await (const chunk of process.stdin) text += chunk
  return JSON.parse(text)
}

;(async () => {
  const input = await readInput()
  const auth = authFor(input)
  await auth.getSession({ jwt: input.warmUp, refreshToken: 'not-a-refresh-token' })
  const getSession = (jwt) => auth.getSession({ jwt, refreshToken: 'not-a-refresh-token' })
  const outcomes = []
  if (input.oneAtATime) {
    for (const jwt of input.jwts) outcomes.push(...(await Promise.allSettled([getSession(jwt)])))
  } else {
    outcomes.push(...(await Promise.allSettled(input.jwts.map(getSession))))
  }
  const userIds = outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.userId : null))
  if (isMainThread) console.log(JSON.stringify(userIds))
  else parentPort.postMessage(userIds)
})()
