'use strict'
// Where a never-seen token's signature check runs. Tokens already verified
// are answered from the native record without any check. For the others:
//
// - A lone call (none of this environment's checks out, no other check
//   made in the same synchronous run) is checked on the JS thread, as a
//   synchronous verify would be: handing it to a thread only adds the
//   hand-off. A caller awaiting one call after another is a series of lone
//   calls.
// - Any other call (a burst: `Promise.all` over many tokens, or calls made
//   while checks are out) queues its check for the check threads
//   (src/check_threads.rs), which start on it at once. At the end of the
//   synchronous run the JS thread takes its own share from the same queue
//   (`help`, in slices), so a burst is checked on every core.
// - The JS thread spends at most TURN_BUDGET_US per event-loop turn on
//   checks (its own and its share). Past it, checks wait for the threads
//   and the JS thread lets the event loop turn (timers, other requests)
//   before it helps again: a server with checks always in flight still
//   answers its other work within about one budget.
//
// Answers from the threads come back through one channel per JavaScript
// environment, a wake-up for everything finished since the last one (or
// taken directly at the end of `help`). The channel holds the event loop
// open only while checks are out. CROSSMINT_NATIVE_TURN_BUDGET_US and
// CROSSMINT_NATIVE_SLICE_US tune the two numbers (bench/ measured them: a
// longer budget or slice gave no more throughput and a later event loop).

const native = require('./native-addon.js')

/**
 * Microseconds, from the environment when it holds a number above 0. Never
 * 0: a turn's help always takes at least one check (src/check_threads.rs),
 * but only while its budget is above 0, and a lone queued check wakes no
 * thread, so a budget of 0 would leave it waiting for ever.
 */
function microseconds(name, fallback) {
  const value = Number(process.env[name])
  return process.env[name] !== undefined && Number.isFinite(value) && value > 0 ? value : fallback
}

const TURN_BUDGET_US = microseconds('CROSSMINT_NATIVE_TURN_BUDGET_US', 200)
/**
 * The JS thread's share is taken in slices this long, the answers settled
 * between them: callers' continuations (building results, starting the next
 * calls) then run while the check threads still have work, instead of all
 * at the end of a burst while the threads wait.
 */
const SLICE_US = microseconds('CROSSMINT_NATIVE_SLICE_US', 50)

/** What is left of this turn's budget for checks on the JS thread, in microseconds. */
let budgetUs = TURN_BUDGET_US
let newTurnScheduled = false
let helpScheduled = false
/**
 * Set by a check on the JS thread, cleared at the next microtask: a call
 * that finds it set was started in the same synchronous run as that check
 * (a burst), one that finds it clear came after a microtask boundary (a
 * caller awaiting each call in turn).
 */
let checkedInThisRun = false

/** id -> resolve, for this environment's checks out on the threads. */
const waiting = new Map()
let nextCheckId = 0
let channel
/**
 * `[0]`: the microseconds of the check `subjectNow` last made on this thread,
 * set natively and cleared here once counted (0: none since).
 */
const checkTime = new Float64Array(1)

/**
 * Runs `callback` at the end of the current synchronous run. A reaction on a
 * settled promise rather than `queueMicrotask`, which also builds an async
 * resource per callback, work these internal callbacks never need (the
 * difference was below what bench/ can show; see docs/performance.md).
 * Neither callback can throw.
 */
const settled = Promise.resolve()
function atEndOfRun(callback) {
  settled.then(callback)
}

function endOfRun() {
  checkedInThisRun = false
}

function newTurn() {
  newTurnScheduled = false
  budgetUs = TURN_BUDGET_US
  if (waiting.size > 0) help()
}

/** Counts `microseconds` of checking on the JS thread against this turn's budget. */
function spend(microseconds) {
  budgetUs -= microseconds
  if (!newTurnScheduled) {
    newTurnScheduled = true
    setImmediate(newTurn)
  }
}

function checkedHere(microseconds) {
  spend(microseconds)
  if (!checkedInThisRun) {
    checkedInThisRun = true
    atEndOfRun(endOfRun)
  }
}

/** Whether a check may run on the JS thread now (a lone call, with budget left). */
function mayCheckHere() {
  return budgetUs > 0 && waiting.size === 0 && !checkedInThisRun
}

/** Runs `check` (a synchronous signature check) here, counted against the budget. */
function timedCheckHere(check) {
  const startedAt = performance.now()
  try {
    return check()
  } finally {
    checkedHere((performance.now() - startedAt) * 1000)
  }
}

/** `nativeAuth`, its queued checks answered through this environment's channel. */
function withCheckChannel(nativeAuth) {
  if (channel === undefined) channel = new native.CheckChannel(settleFinished, checkTime)
  nativeAuth.answerChecksThrough(channel)
  return nativeAuth
}

/**
 * The user id of `jwt` as a session: a string when known now, `null` when
 * only `session` can tell (not verifiable with the key set held, or no
 * string `sub`), or a promise of either while its check runs on a thread.
 * `nativeAuth` was built through `withCheckChannel`.
 */
function subjectOf(nativeAuth, jwt) {
  const id = nextCheckId
  const answer = nativeAuth.subjectNow(jwt, mayCheckHere(), id)
  if (answer === undefined) return queued(id)
  if (checkTime[0] !== 0) {
    checkedHere(checkTime[0])
    checkTime[0] = 0
  }
  return answer
}

function queued(id) {
  // Ids wrap at 2^32 (the native side's u32), long after any check settled.
  nextCheckId = (id + 1) >>> 0
  if (waiting.size === 0) channel.keepAlive(true)
  scheduleHelp()
  return new Promise((resolve) => waiting.set(id, resolve))
}

/** Helps at the end of the current synchronous run (once, however many ask). */
function scheduleHelp() {
  if (helpScheduled) return
  helpScheduled = true
  atEndOfRun(helpAtEndOfRun)
}

function helpAtEndOfRun() {
  helpScheduled = false
  help()
}

/** The JS thread's share of the queued checks, within the budget left. */
function help() {
  // Past the budget, the new turn already scheduled (by `spend`) helps.
  if (budgetUs <= 0) return
  const [spentUs, stillQueued] = channel.help(Math.min(budgetUs, SLICE_US))
  // Nothing run or waited for: nothing to count, and no new turn to ask for.
  if (spentUs > 0) spend(spentUs)
  settleFinished()
  if (stillQueued && budgetUs > 0) scheduleHelp()
}

function settleFinished() {
  // [id, userId, id, userId, ...]
  const finished = channel.takeFinished()
  for (let index = 0; index < finished.length; index += 2) {
    const id = finished[index]
    const resolve = waiting.get(id)
    waiting.delete(id)
    // Always found (ids are ours); checked so that a surprise here can never
    // throw out of the channel's callback and take the process down.
    if (resolve !== undefined) resolve(finished[index + 1])
  }
  if (waiting.size === 0) channel.keepAlive(false)
}

module.exports = { subjectOf, withCheckChannel, mayCheckHere, timedCheckHere }
