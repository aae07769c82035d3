'use strict'
// getSession's answer for a Cookie header it has answered before from the
// native verification record, so the same user's next requests skip the
// native crossing (header conversion, cookie parse, token digest, record
// lookup) that would give the same answer. On Express that crossing is most
// of what authentication adds to a request.
//
// An entry is made only from a verification on record and is checked on every
// use against everything the record itself is checked against: the token's
// `exp` (plus the clock tolerance, in whole seconds as the record counts), the
// key set's freshness (on the monotonic clock) and the count of key set
// generation changes (a refetched set that dropped or changed a key). Keyed by
// the whole header string: only an identical header is answered. One table
// per native half, whose configuration (key set, issuer, audience, tolerance)
// is all a verification depends on. Bounded: when full the table is emptied,
// which costs each active user one native lookup and never a wrong answer.

const REMEMBERED_SESSIONS_LIMIT = 2048

class RememberedSessions {
  #entries = new Map()
  #generationChanges

  /** `generationChanges()` is the native `keySetGenerationChanges`. */
  constructor(generationChanges) {
    this.#generationChanges = generationChanges
  }

  /** The entry `{ jwt, refreshToken, userId }` for `header` while it holds, else undefined. */
  lookup(header) {
    const entry = this.#entries.get(header)
    if (entry === undefined) return undefined
    if (
      Math.floor(Date.now() / 1000) < entry.goodBeforeSecs &&
      performance.now() < entry.freshUntil &&
      this.#generationChanges() === entry.generationChanges
    ) {
      return entry
    }
    this.#entries.delete(header)
    return undefined
  }

  /**
   * Remembers `NativeAuth.cookieSession(header)`'s answer `found` when it
   * came from a record and names both tokens; `startedAt` is
   * `performance.now()` read before that call, so the freshness bound is
   * never later than the native one.
   */
  remember(header, found, startedAt) {
    const [jwt, refreshToken, userId, goodBeforeSecs, freshForMs, generationChanges] = found
    if (userId == null || !jwt || !refreshToken || typeof goodBeforeSecs !== 'number') return
    if (this.#entries.size >= REMEMBERED_SESSIONS_LIMIT) this.#entries.clear()
    this.#entries.set(header, {
      jwt,
      refreshToken,
      userId,
      goodBeforeSecs,
      freshUntil: startedAt + freshForMs,
      generationChanges,
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

module.exports = { rememberedSessionsFor, REMEMBERED_SESSIONS_LIMIT }
