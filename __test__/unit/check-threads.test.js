'use strict'
// Never-seen tokens checked on the addon's own threads (src/check_threads.rs):
// every JavaScript environment gets its own answers while sharing the
// threads, and checks out on the threads keep the process alive exactly as
// long as they are out.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const { execFile } = require('node:child_process')
const { Worker } = require('node:worker_threads')
const { withEmulator, authFor, now, childScript } = require('../helpers/harness.js')

const CHILD = childScript('never-seen-burst')

/** A burst of distinct tokens for `label`, with a forged and an expired one among them. */
function burst(emulator, label, count) {
  const calls = Array.from({ length: count }, (_, i) => {
    if (i === 41) return { jwt: emulator.signJwt({ sub: `${label}-forged`, exp: now() + 600 }, { key: 'unpublished' }), expected: null }
    if (i === 97) return { jwt: emulator.signJwt({ sub: `${label}-expired`, exp: now() - 10 }), expected: null }
    return { jwt: emulator.signJwt({ sub: `${label}-${i}`, exp: now() + 600 }), expected: `${label}-${i}` }
  })
  return {
    input: {
      url: emulator.url,
      apiKey: emulator.apiKey,
      warmUp: emulator.signJwt({ sub: `${label}-warm-up`, exp: now() + 600 }),
      jwts: calls.map((call) => call.jwt),
    },
    expected: calls.map((call) => call.expected),
  }
}

function inWorker(input) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CHILD, { workerData: input })
    let answer
    worker.once('message', (message) => (answer = message))
    worker.once('error', reject)
    // The worker ends on its own once answered: its channel does not hold it.
    worker.once('exit', (code) => (code === 0 && answer ? resolve(answer) : reject(new Error(`worker exited with ${code}, answer ${answer}`))))
  })
}

/** The child on its own; with `cpus` (e.g. '0'), pinned to those CPUs by taskset, which the addon's thread count follows. */
function inChildProcess(input, env = {}, cpus = undefined) {
  return new Promise((resolve, reject) => {
    const [command, args] = cpus === undefined ? [process.execPath, [CHILD]] : ['taskset', ['-c', cpus, process.execPath, CHILD]]
    const child = execFile(command, args, { timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`))
      else resolve(stdout)
    })
    child.stdin.end(JSON.stringify(input))
  })
}

test('worker threads and the main thread check bursts at the same time, each getting its own answers', { timeout: 60_000 }, async (t) => {
  const emulator = await withEmulator(t)
  const bursts = ['main', 'worker-a', 'worker-b'].map((label) => burst(emulator, label, 300))
  const [mainBurst, ...workerBursts] = bursts
  const runMain = async () => {
    const auth = authFor(emulator)
    await auth.getSession({ jwt: mainBurst.input.warmUp, refreshToken: 'not-a-refresh-token' })
    const outcomes = await Promise.allSettled(mainBurst.input.jwts.map((jwt) => auth.getSession({ jwt, refreshToken: 'not-a-refresh-token' })))
    return outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.userId : null))
  }
  const answers = await Promise.all([runMain(), ...workerBursts.map(({ input }) => inWorker(input))])
  for (const [index, userIds] of answers.entries()) assert.deepEqual(userIds, bursts[index].expected, `burst ${index}`)

  // The workers' environments are gone; the shared threads still answer the main thread.
  const after = burst(emulator, 'after-workers', 150)
  const auth = authFor(emulator)
  await auth.getSession({ jwt: after.input.warmUp, refreshToken: 'not-a-refresh-token' })
  const outcomes = await Promise.allSettled(after.input.jwts.map((jwt) => auth.getSession({ jwt, refreshToken: 'not-a-refresh-token' })))
  assert.deepEqual(
    outcomes.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.userId : null)),
    after.expected,
  )
})

test('a script awaiting only checks on the threads waits for them, then exits by itself', async (t) => {
  const emulator = await withEmulator(t)
  const valid = Array.from({ length: 400 }, (_, i) => emulator.signJwt({ sub: `script-${i}`, exp: now() + 600 }))
  const input = { url: emulator.url, apiKey: emulator.apiKey, warmUp: emulator.signJwt({ sub: 'script-warm-up', exp: now() + 600 }), jwts: valid }
  // Nothing else holds the child's event loop once the key set is fetched:
  // without the channel's hold it would exit with the burst unanswered, and
  // with a hold never released it would not exit at all (the 60 s timeout).
  const stdout = await inChildProcess(input)
  assert.deepEqual(
    JSON.parse(stdout),
    valid.map((_, i) => `script-${i}`),
  )
})

test('every check is answered with the smallest budget and slice, or a budget of 0 (refused)', { timeout: 120_000 }, async (t) => {
  const emulator = await withEmulator(t)
  // A lone queued check wakes no thread: the JS thread must always come
  // back for it, whatever the budget, or the call would never settle.
  for (const env of [
    { CROSSMINT_NATIVE_TURN_BUDGET_US: '1', CROSSMINT_NATIVE_SLICE_US: '1' },
    { CROSSMINT_NATIVE_TURN_BUDGET_US: '0', CROSSMINT_NATIVE_SLICE_US: '0' },
    { CROSSMINT_NATIVE_TURN_BUDGET_US: 'not a number' },
  ]) {
    for (const oneAtATime of [false, true]) {
      const label = `budget-${env.CROSSMINT_NATIVE_TURN_BUDGET_US}-${oneAtATime ? 'serial' : 'burst'}`.replace(/ /g, '-')
      const { input, expected } = burst(emulator, label, 200)
      const stdout = await inChildProcess({ ...input, oneAtATime }, env)
      assert.deepEqual(JSON.parse(stdout), expected, `${label}: ${JSON.stringify(env)}`)
    }
  }
})

test('on a single core (no spinning, one check thread) every check is answered, in bursts and one at a time', { timeout: 120_000 }, async (t) => {
  const emulator = await withEmulator(t)
  for (const oneAtATime of [false, true]) {
    const { input, expected } = burst(emulator, `one-core-${oneAtATime ? 'serial' : 'burst'}`, 300)
    const stdout = await inChildProcess({ ...input, oneAtATime }, {}, '0')
    assert.deepEqual(JSON.parse(stdout), expected)
  }
})

test('a caller awaiting never-seen tokens one after another still lets the event loop turn within the budget', { timeout: 60_000 }, async (t) => {
  const emulator = await withEmulator(t)
  const auth = authFor(emulator)
  await auth.getSession({ jwt: emulator.signJwt({ sub: 'turns-warm-up', exp: now() + 600 }), refreshToken: 'r' })
  const jwts = Array.from({ length: 400 }, (_, i) => emulator.signJwt({ sub: `turns-${i}`, exp: now() + 600 }))
  // Each event-loop turn records how many calls had settled by then.
  let settled = 0
  const settledAtTurns = []
  let turning = true
  const turn = () => {
    settledAtTurns.push(settled)
    if (turning) setImmediate(turn)
  }
  setImmediate(turn)
  for (const [i, jwt] of jwts.entries()) {
    assert.equal((await auth.getSession({ jwt, refreshToken: 'r' })).userId, `turns-${i}`)
    settled++
  }
  turning = false
  // A signature check takes well over 10 µs on any machine, so a 200 µs
  // budget allows at most ~20 lone checks between two turns, however slow
  // the machine is (slower checks mean fewer per turn). Without the budget
  // the whole chain runs as microtasks, in one turn.
  const mostBetweenTurns = Math.max(...settledAtTurns.map((count, index) => count - (settledAtTurns[index - 1] ?? 0)))
  assert.ok(mostBetweenTurns <= 30, `${mostBetweenTurns} calls settled between two turns (turns: ${settledAtTurns.length})`)
  assert.ok(settledAtTurns.length >= 400 / 30, `only ${settledAtTurns.length} turns for 400 calls`)
})
