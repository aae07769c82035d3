'use strict'
// getSession's answer for a Cookie header it has answered before from the
// native verification record, so the same user's next requests skip the
// native crossing (header conversion, cookie split, token digest, record
// lookup, strings built back) that would give the same answer; a hit makes
// one small native call, which reads the key set change count. On Express
// that crossing was most of what authentication added to a request.
//
// An entry is made only from a verification on record and is checked on every
// use against everything the record itself is checked against: the token's
// `exp` (plus the clock tolerance, in whole seconds as the record counts), the
// key set's freshness (on the monotonic clock) and the count of key set
// generation changes (a refetched set that dropped or changed a key). Keyed by
// the whole header string: only an identical header is answered. One table
// per native half, whose configuration (key set, issuer, audience, tolerance)
// is all a verification depends on. Bounded in entries and in characters
// held (one valid session could otherwise pad its header with junk cookies to
// fill the table with large strings): when full the table is emptied, which
// costs each active user one native lookup and never a wrong answer.

// The clocks as the process started: a test's fake timers (which replace
// Date.now and performance.now) must not stretch a remembered answer past the
// real exp or freshness that the native record is checked against.
const wallClockMs = Date.now
const monotonicMs = performance.now.bind(performance)

const REMEMBERED_SESSIONS_LIMIT = 2048
/** Characters held at most per table (headers and the tokens cut from them). */
const REMEMBERED_CHARS = 4 * 1024 * 1024
/** Longer headers are answered by the native lookup every time. */
const LONGEST_REMEMBERED_HEADER = 8 * 1024

class RememberedSessions {
  #entries = new Map()
  #chars = 0
  #generationChanges

  /** `generationChanges()` is the native `recordInvalidations` (key set changes and JWT revocations). */
  constructor(generationChanges) {
    this.#generationChanges = generationChanges
  }

  /** The entry `{ jwt, refreshToken, userId }` for `header` while it holds, else undefined. */
  lookup(header) {
    if (header.length > LONGEST_REMEMBERED_HEADER) return undefined
    const entry = this.#entries.get(header)
    if (entry === undefined) return undefined
    if (
      Math.floor(wallClockMs() / 1000) < entry.goodBeforeSecs &&
      monotonicMs() < entry.freshUntil &&
      this.#generationChanges() === entry.generationChanges
    ) {
      return entry
    }
    this.#entries.delete(header)
    this.#chars -= entry.chars
    return undefined
  }

  /** `performance.now()` for `remember`'s `startedAt`, from the clock `lookup` uses. */
  static now() {
    return monotonicMs()
  }

  /**
   * Remembers `NativeAuth.cookieSession(header)`'s answer `found` when it
   * came from a record and names both tokens; `startedAt` is
   * `RememberedSessions.now()` read before that call, so the freshness bound
   * is never later than the native one.
   */
  remember(header, found, startedAt) {
    const [jwt, refreshToken, userId, goodBeforeSecs, freshForMs, generationChanges] = found
    if (userId == null || !jwt || !refreshToken || typeof goodBeforeSecs !== 'number') return
    if (header.length > LONGEST_REMEMBERED_HEADER) return
    const chars = header.length + jwt.length + refreshToken.length + userId.length
    if (this.#entries.size >= REMEMBERED_SESSIONS_LIMIT || this.#chars + chars > REMEMBERED_CHARS) {
      this.#entries.clear()
      this.#chars = 0
    }
    this.#chars += chars
    this.#entries.set(header, {
      jwt,
      refreshToken,
      userId,
      goodBeforeSecs,
      freshUntil: startedAt + freshForMs,
      generationChanges,
      chars,
    })
  }
}

const tables = new WeakMap()

/** The table shared by every instance built on `nativeAuth`. */
function rememberedSessionsFor(nativeAuth, generationChanges) {
  let table = tables.get(nativeAuth)
  if (table === undefined) {
    table = new RememberedSessions(generationChanges)
    tables.set(nativeAuth, table)
  }
  return table
}

module.exports = { rememberedSessionsFor, RememberedSessions, REMEMBERED_SESSIONS_LIMIT, REMEMBERED_CHARS, LONGEST_REMEMBERED_HEADER }
