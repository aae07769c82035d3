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
// is all a verification depends on. Bounded in entries and in header length
// (one valid session could otherwise pad its header with junk cookies to fill
// the table with large strings): when full the table is emptied, which costs
// each active user one native lookup and never a wrong answer.

const REMEMBERED_SESSIONS_LIMIT = 2048
/** Header characters held at most (about 4 MB; headers of 1 to 2 KB reach the entry limit first). */
const REMEMBERED_HEADER_CHARS = 4 * 1024 * 1024
/** Longer headers are answered by the native lookup every time. */
const LONGEST_REMEMBERED_HEADER = 8 * 1024

class RememberedSessions {
  #entries = new Map()
  #headerChars = 0
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
    this.#headerChars -= header.length
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
    if (header.length > LONGEST_REMEMBERED_HEADER) return
    if (this.#entries.size >= REMEMBERED_SESSIONS_LIMIT || this.#headerChars + header.length > REMEMBERED_HEADER_CHARS) {
      this.#entries.clear()
      this.#headerChars = 0
    }
    this.#headerChars += header.length
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

module.exports = { rememberedSessionsFor, REMEMBERED_SESSIONS_LIMIT, LONGEST_REMEMBERED_HEADER }
