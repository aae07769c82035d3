'use strict'
// A Map bounded in entries (and, optionally, in a weight such as characters
// held) that is emptied when full: for tables whose entries can always be
// rebuilt, where a miss after the emptying costs one recomputation and never
// a wrong answer. The same rule as the Rust core's bounded_map.rs.

class BoundedMap extends Map {
  #limit
  #weightLimit
  #weightOf
  #weight = 0

  /**
   * `limit` entries at most; with `weightOf(key, value)`, also `weightLimit`
   * in total weight (an entry heavier than the limit alone is not kept).
   */
  constructor(limit, { weightLimit = Infinity, weightOf } = {}) {
    super()
    this.#limit = limit
    this.#weightLimit = weightLimit
    this.#weightOf = weightOf
  }

  set(key, value) {
    const weight = this.#weightOf === undefined ? 0 : this.#weightOf(key, value)
    if (weight > this.#weightLimit) return this
    this.delete(key)
    if (this.size >= this.#limit || this.#weight + weight > this.#weightLimit) this.clear()
    this.#weight += weight
    return super.set(key, value)
  }

  delete(key) {
    if (this.#weightOf !== undefined && super.has(key)) this.#weight -= this.#weightOf(key, super.get(key))
    return super.delete(key)
  }

  clear() {
    this.#weight = 0
    super.clear()
  }
}

module.exports = { BoundedMap }
