'use strict'
// Time-boxed throughput loops. `concurrency` async workers share one op
// counter; with concurrency 1 this is exactly `for (;;) await op(i)`. With
// `burst`, one caller starts `concurrency` ops at once and awaits them all
// (`Promise.all`) before starting the next wave.

const { performance, monitorEventLoopDelay } = require('node:perf_hooks')
const v8 = require('node:v8')
const vm = require('node:vm')

// Reading the clock costs ~40 ns, noticeable next to a 1.5 µs cached
// getSession, so each worker looks at it every few ops; the elapsed time is
// still measured exactly, so stopping a few ops late costs no accuracy.
const CLOCK_CHECK_EVERY = 16

async function runPhase(op, { concurrency, burst, durationMs, limit, firstIndex }) {
  let started = 0
  let stop = false
  const startedAt = performance.now()
  const deadline = startedAt + durationMs
  if (burst) {
    const wave = Array.from({ length: concurrency })
    while (!stop && started < limit) {
      const size = Math.min(concurrency, limit - started)
      for (let index = 0; index < size; index++) wave[index] = op(firstIndex + started++)
      wave.length = size
      await Promise.all(wave)
      if (performance.now() >= deadline) stop = true
    }
    const elapsedMs = performance.now() - startedAt
    return { ops: started, elapsedMs, opsPerSec: (started * 1000) / elapsedMs }
  }
  const worker = async () => {
    let sinceClockCheck = 0
    while (!stop && started < limit) {
      await op(firstIndex + started++)
      if (++sinceClockCheck === CLOCK_CHECK_EVERY) {
        sinceClockCheck = 0
        if (performance.now() >= deadline) stop = true
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  const elapsedMs = performance.now() - startedAt
  return { ops: started, elapsedMs, opsPerSec: (started * 1000) / elapsedMs }
}

/**
 * Warms up, then measures. `op(index)` gets a running index that is unique
 * across warm-up and measurement (the distinct-token rows use it to pick a
 * never-seen token); `warmupLimit`/`measureLimit` bound how many ops each
 * phase may run when only so many inputs exist. With `eventLoopDelay` the
 * result carries the event loop's delay during the measurement (ms: p50,
 * p99, max), sampled every millisecond: how late a timer, and so any other
 * request the process serves, runs while these ops are in flight.
 */
async function measureThroughput(op, options) {
  const { concurrency = 1, burst = false, warmupMs = 500, measureMs = 2000, warmupLimit = Infinity, measureLimit = Infinity } = options
  const warmup = await runPhase(op, { concurrency, burst, durationMs: warmupMs, limit: warmupLimit, firstIndex: 0 })
  collectGarbage()
  const delay = options.eventLoopDelay ? monitorEventLoopDelay({ resolution: 1 }) : null
  delay?.enable()
  const cpuBefore = process.cpuUsage()
  const measured = await runPhase(op, { concurrency, burst, durationMs: measureMs, limit: measureLimit, firstIndex: warmup.ops })
  const cpu = process.cpuUsage(cpuBefore)
  delay?.disable()
  const eventLoopDelayMs = delay && {
    p50: delay.percentile(50) / 1e6,
    p99: delay.percentile(99) / 1e6,
    max: delay.max / 1e6,
  }
  return {
    ...measured,
    concurrency,
    burst,
    exhausted: measured.ops >= measureLimit,
    warmupElapsedMs: warmup.elapsedMs,
    // CPU time of the whole process (every thread) per wall second.
    coresUsed: (cpu.user + cpu.system) / 1000 / measured.elapsedMs,
    ...(eventLoopDelayMs && { eventLoopDelayMs }),
  }
}

// Garbage left by one row should not be collected on the next row's time.
// --expose-gc cannot be passed through `npm run bench`, so the flag is set at
// run time and `gc` picked up from a fresh context.
let gcFunction = typeof global.gc === 'function' ? global.gc : null
function collectGarbage() {
  if (!gcFunction) {
    v8.setFlagsFromString('--expose-gc')
    gcFunction = vm.runInNewContext('gc')
  }
  gcFunction()
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

module.exports = { measureThroughput, collectGarbage, median }
