'use strict'
// Where a never-seen token's signature check runs. getSession may check a
// signature on the JS thread when the key set is already held: cheaper than
// handing it to a check thread and being woken for the answer. A lone call
// (nothing on the threads, no other check started in the same synchronous
// run) is always checked here. But a burst of new tokens checked that way
// would run one after another on one core, so within a burst only a few such
// checks are done per turn of the event loop, and only while the check
// threads (src/check_threads.rs) are either idle or already have a check per
// core to work on (so the JS thread never starves them); the rest go to the
// threads and run in parallel. Tokens already verified are answered on the
// JS thread without any check.
//
// Checks go to the threads in one call per batch of tokens (one string
// conversion each, one lock), as soon as TOKENS_PER_BATCH are waiting or at
// the end of the event-loop turn. Answers come back through one channel per
// JavaScript environment, a wake-up for everything finished since the last
// one. The channel holds the event loop open only while checks are out.
// The CROSSMINT_NATIVE_* variables tune the three numbers (bench/).

const native = require('./native-addon.js')

const SYNC_CHECKS_PER_TURN = Number(process.env.CROSSMINT_NATIVE_SYNC_CHECKS_PER_TURN ?? 8)
const THREAD_CHECKS_WANTED = Number(process.env.CROSSMINT_NATIVE_THREAD_CHECKS_WANTED ?? require('node:os').availableParallelism())
const TOKENS_PER_BATCH = Number(process.env.CROSSMINT_NATIVE_TOKENS_PER_BATCH ?? 8)

let syncChecksThisTurn = 0
/**
 * Set by a check on the JS thread, cleared at the next microtask: a call
 * that finds it set was started in the same synchronous run as that check
 * (a burst: `Promise.all` over many tokens), one that finds it clear came
 * after a microtask boundary (a caller awaiting each call in turn).
 */
let checkedInThisRun = false
const endOfRun = () => {
  checkedInThisRun = false
}

/** Whether this call may check a signature on the JS thread now. */
function takeSyncCheck() {
  if (threadChecks.size > 0 && threadChecks.size < THREAD_CHECKS_WANTED) return false
  // A lone call (nothing on the threads, no other check in this run) is
  // checked here, as a synchronous verify would be: handing it to a thread
  // only adds the hand-off. A caller awaiting one call after another is a
  // series of lone calls, however long it runs within one turn.
  if (!checkedInThisRun && threadChecks.size === 0) {
    checkedInThisRun = true
    queueMicrotask(endOfRun)
    return true
  }
  if (syncChecksThisTurn >= SYNC_CHECKS_PER_TURN) return false
  if (syncChecksThisTurn++ === 0) setImmediate(() => (syncChecksThisTurn = 0))
  if (!checkedInThisRun) {
    checkedInThisRun = true
    queueMicrotask(endOfRun)
  }
  return true
}

/** id -> resolve, for the checks out on the threads. */
const threadChecks = new Map()
let nextCheckId = 0
let checkChannel
/** nativeAuth -> { jwts, settlers } waiting for the end of the turn. */
const waitingForThreads = new Map()
let threadFlushScheduled = false

function settleFinishedChecks() {
  const { ids, subjects } = checkChannel.takeFinished()
  for (let index = 0; index < ids.length; index++) {
    const resolve = threadChecks.get(ids[index])
    threadChecks.delete(ids[index])
    // Always found (ids are ours); checked so that a surprise here can never
    // throw out of the channel's callback and take the process down.
    if (resolve !== undefined) resolve(subjects[index])
  }
  if (threadChecks.size === 0) checkChannel.keepAlive(false)
}

/** The subject of `jwt` if it verifies against the key set held (on a check thread), else null. */
function checkOnThreads(nativeAuth, jwt) {
  return new Promise((resolve) => {
    let batch = waitingForThreads.get(nativeAuth)
    if (batch === undefined) {
      batch = { jwts: [], settlers: [] }
      waitingForThreads.set(nativeAuth, batch)
    }
    batch.jwts.push(jwt)
    batch.settlers.push(resolve)
    if (batch.jwts.length >= TOKENS_PER_BATCH) {
      waitingForThreads.delete(nativeAuth)
      sendToThreads(nativeAuth, batch)
    } else if (!threadFlushScheduled) {
      threadFlushScheduled = true
      setImmediate(flushThreadBatches)
    }
  })
}

function flushThreadBatches() {
  threadFlushScheduled = false
  for (const [nativeAuth, batch] of waitingForThreads) sendToThreads(nativeAuth, batch)
  waitingForThreads.clear()
}

function sendToThreads(nativeAuth, { jwts, settlers }) {
  if (checkChannel === undefined) checkChannel = new native.CheckChannel(settleFinishedChecks)
  if (threadChecks.size === 0) checkChannel.keepAlive(true)
  // Ids wrap at 2^32 (the native side's u32), long after any check settled.
  const firstId = nextCheckId
  nextCheckId = (nextCheckId + jwts.length) >>> 0
  for (let index = 0; index < settlers.length; index++) threadChecks.set((firstId + index) >>> 0, settlers[index])
  try {
    nativeAuth.checkOnThreads(checkChannel, firstId, jwts)
  } catch {
    // Not expected; the session path then decides, with its own errors.
    settlers.forEach((resolve, index) => {
      threadChecks.delete((firstId + index) >>> 0)
      resolve(null)
    })
    if (threadChecks.size === 0) checkChannel.keepAlive(false)
  }
}

module.exports = { takeSyncCheck, checkOnThreads }
