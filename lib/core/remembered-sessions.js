'use strict'
// getSession's answer for a Cookie header it has answered before from the
// native verification record, so the same user's next requests skip the
// native crossing (header conversion, cookie split, token digest, record
// lookup, strings built back) that would give the same answer; a hit makes
// one small native call, which reads the count of record invalidations.
//
// An entry is made only from a verification on record, for as long as the
// native side says the record holds (its `exp` and its key set's freshness:
// `reusableForMs`), and only while nothing the record rests on changed since
// (the count of key set refetches that dropped a key and of JWT revocations
// by a logout). Keyed by the whole header string: only an identical header
// is answered. One table per native half, whose configuration (key set,
// issuer, audience, tolerance) is all a verification depends on. Bounded in
// entries and in characters held (one valid session could otherwise pad its
// header with junk cookies to fill the table with large strings): when full
// the table is emptied, which costs each active user one native lookup and
// never a wrong answer.

const { BoundedMap } = require('./bounded-map.js')

// The monotonic clock as the process started: a test's fake timers (which
// replace performance.now) must not stretch a remembered answer past the
// real time the native record is checked against.
const monotonicMs = performance.now.bind(performance)

const REMEMBERED_SESSIONS_LIMIT = 2048
/** Characters held at most per table (headers and the tokens cut from them). */
const REMEMBERED_CHARS = 4 * 1024 * 1024
/** Longer headers are answered by the native lookup every time. */
const LONGEST_REMEMBERED_HEADER = 8 * 1024

class RememberedSessions {
  #entries = new BoundedMap(REMEMBERED_SESSIONS_LIMIT, { weightLimit: REMEMBERED_CHARS, weightOf: (header, entry) => entry.chars })
  #recordInvalidations

  /** `recordInvalidations()` is the native count of the same name. */
  constructor(recordInvalidations) {
    this.#recordInvalidations = recordInvalidations
  }

  /** The entry `{ jwt, refreshToken, userId }` for `header` while it holds, else undefined. */
  lookup(header) {
    if (header.length > LONGEST_REMEMBERED_HEADER) return undefined
    const entry = this.#entries.get(header)
    if (entry === undefined) return undefined
    if (monotonicMs() < entry.validUntil && this.#recordInvalidations() === entry.recordInvalidations) return entry
    this.#entries.delete(header)
    return undefined
  }

  /** `performance.now()` for `remember`'s `startedAt`, from the clock `lookup` uses. */
  static now() {
    return monotonicMs()
  }

  /**
   * Remembers `NativeAuth.cookieSession(header)`'s answer when it came from
   * a record that may be reused and names both tokens; `startedAt` is
   * `RememberedSessions.now()` read before that call, so the entry never
   * outlives the native bound.
   */
  remember(header, [jwt, refreshToken, userId, reusableForMs, recordInvalidations], startedAt) {
    if (userId == null || !jwt || !refreshToken || typeof reusableForMs !== 'number') return
    if (header.length > LONGEST_REMEMBERED_HEADER) return
    const chars = header.length + jwt.length + refreshToken.length + userId.length
    this.#entries.set(header, { jwt, refreshToken, userId, validUntil: startedAt + reusableForMs, recordInvalidations, chars })
  }
}

const tables = new WeakMap()

/** The table shared by every instance built on `nativeAuth`. */
function rememberedSessionsFor(nativeAuth, recordInvalidations) {
  let table = tables.get(nativeAuth)
  if (table === undefined) {
    table = new RememberedSessions(recordInvalidations)
    tables.set(nativeAuth, table)
  }
  return table
}

module.exports = { rememberedSessionsFor, RememberedSessions, REMEMBERED_SESSIONS_LIMIT, REMEMBERED_CHARS, LONGEST_REMEMBERED_HEADER }
