'use strict'
// Never-seen tokens (every one a real signature check) arriving three ways,
// each measured beside its node:crypto twin, in rounds:
//
// - one at a time (`await` each call)            vs synchronous crypto.verify
// - bursts of 64 awaited together (Promise.all)  vs the callback form (libuv's thread pool), same bursts
// - 64 kept in flight                            vs the callback form, 64 in flight
//
// with the event loop's delay measured during both 64-in-flight cells, and
// (RS256) the all-core limit from bench/verify_limit.rs in every round. This
// 2-core machine is shared and how much CPU it gives moves by tens of
// percent within a minute, so each ratio is taken within a round (the cells
// it compares run back to back) and the median of the rounds is reported.

const { measureThroughput, collectGarbage, median } = require('./timing.js')
const { measureVerifyLimit } = require('./verify-limit.js')

const IN_FLIGHT = 64

const PATTERNS = [
  { id: 'sequential', label: 'one at a time', ours: { concurrency: 1 }, node: 'verifySync', nodeLabel: 'synchronous crypto.verify' },
  {
    id: 'burst',
    label: `bursts of ${IN_FLIGHT} awaited together`,
    ours: { concurrency: IN_FLIGHT, burst: true },
    node: 'verifyOnThreadPool',
    nodeLabel: "crypto.verify on libuv's thread pool, same bursts",
  },
  {
    id: 'continuous',
    label: `${IN_FLIGHT} kept in flight`,
    ours: { concurrency: IN_FLIGHT, eventLoopDelay: true },
    node: 'verifyOnThreadPool',
    nodeLabel: `crypto.verify on libuv's thread pool, ${IN_FLIGHT} in flight`,
  },
]

/** How many tokens one round of ours uses, per pattern: `{ warmupLimit, measureLimit }` each. */
function tokensPerRound(limits) {
  return PATTERNS.reduce((sum, pattern) => sum + limits[pattern.id].warmupLimit + limits[pattern.id].measureLimit, 0)
}

/**
 * Measures the patterns in `rounds` rounds. `distinctOp(index)` runs getSession
 * on never-seen token `index` (and checks the answer); `floor` is the
 * node:crypto signature check of one token; `limit` (RS256 only) is
 * `{ executable, jwt, jwk }` for bench/verify_limit.rs.
 */
async function measureNeverSeen({ alg, distinctOp, floor, limit, limits, timing, rounds, log }) {
  let nextToken = 0
  const op = () => distinctOp(nextToken++)
  const perRound = []
  for (let round = 0; round < rounds; round++) {
    const cells = {}
    if (limit) {
      cells.limit = await measureVerifyLimit(limit.executable, { jwt: limit.jwt, jwk: limit.jwk, measureMs: Math.min(timing.measureMs, 1000) })
    }
    for (const pattern of PATTERNS) {
      collectGarbage()
      const firstToken = nextToken
      const ours = await measureThroughput(op, { warmupMs: timing.warmupMs, measureMs: timing.measureMs, ...pattern.ours, ...limits[pattern.id] })
      // Warm-up and measurement used their own tokens; the next cell starts after them.
      nextToken = firstToken + limits[pattern.id].warmupLimit + limits[pattern.id].measureLimit
      collectGarbage()
      const { concurrency, burst, eventLoopDelay } = pattern.ours
      const node = await measureThroughput(async () => floor[pattern.node](), {
        concurrency,
        burst,
        eventLoopDelay,
        warmupMs: timing.warmupMs,
        measureMs: timing.measureMs,
      })
      cells[pattern.id] = { ours, node }
    }
    perRound.push(cells)
    log(
      `  ${alg.padEnd(5)} never-seen round ${round + 1}: ${PATTERNS.map((pattern) => `${pattern.id} ${rate(cells[pattern.id].ours)} vs ${rate(cells[pattern.id].node)}`).join(', ')}${cells.limit ? `; limit ${Math.round(cells.limit.allCores).toLocaleString('en-US')}/s on ${cells.limit.threads}` : ''}`,
    )
  }
  return summarize(alg, perRound)
}

function rate(result) {
  return Math.round(result.opsPerSec).toLocaleString('en-US')
}

/** Per pattern: every round's cells, and the medians the report and targets use. */
function summarize(alg, perRound) {
  const limitRounds = perRound.map((cells) => cells.limit).filter(Boolean)
  const patterns = PATTERNS.map((pattern) => {
    const rounds = perRound.map((cells) => ({ ...cells[pattern.id], limit: cells.limit }))
    const medianOf = (pick) => median(rounds.map(pick))
    const medianRound = (side) => [...rounds].sort((a, b) => a[side].opsPerSec - b[side].opsPerSec)[Math.floor(rounds.length / 2)][side]
    return {
      id: pattern.id,
      label: pattern.label,
      nodeLabel: pattern.nodeLabel,
      rounds,
      // The median round's whole measurement, for the main table's rows.
      medianRounds: { ours: medianRound('ours'), node: medianRound('node') },
      ours: medianOf((r) => r.ours.opsPerSec),
      node: medianOf((r) => r.node.opsPerSec),
      oursOverNode: medianOf((r) => r.ours.opsPerSec / r.node.opsPerSec),
      oursOverLimit: limitRounds.length ? medianOf((r) => r.ours.opsPerSec / r.limit.allCores) : null,
      nodeOverLimit: limitRounds.length ? medianOf((r) => r.node.opsPerSec / r.limit.allCores) : null,
      oursCores: medianOf((r) => r.ours.coresUsed),
      ...(pattern.ours.eventLoopDelay && {
        oursDelayP99: medianOf((r) => r.ours.eventLoopDelayMs.p99),
        nodeDelayP99: medianOf((r) => r.node.eventLoopDelayMs.p99),
        oursDelayP50: medianOf((r) => r.ours.eventLoopDelayMs.p50),
        nodeDelayP50: medianOf((r) => r.node.eventLoopDelayMs.p50),
      }),
    }
  })
  const limit = limitRounds.length
    ? {
        threads: limitRounds[0].threads,
        allCores: median(limitRounds.map((l) => l.allCores)),
        oneCore: median(limitRounds.map((l) => l.oneCore)),
        rounds: limitRounds,
      }
    : null
  return { alg, patterns, limit }
}

module.exports = { measureNeverSeen, tokensPerRound, PATTERNS, IN_FLIGHT }
