'use strict'
// Where the package's log lines go: the instance's `logger` (`false`
// silences it), else the console, at the level each line calls for.

const { CrossmintAuthenticationError } = require('./errors.js')

const REJECTION_LEVELS = ['error', 'warn', 'info', 'debug']

/** `logRejections`, checked: `"error"` (the default), another level, or false. */
function rejectionLevel(value) {
  if (value === undefined || value === true) return 'error'
  if (value === false || REJECTION_LEVELS.includes(value)) return value
  throw new TypeError(`logRejections must be one of ${REJECTION_LEVELS.map((l) => `"${l}"`).join(', ')} or false`)
}

class Logger {
  #logger
  #rejectionLevel

  constructor(logger, logRejections) {
    this.#logger = logger
    this.#rejectionLevel = rejectionLevel(logRejections)
  }

  /** One line at `level`, on the logger's method for it or the console's. */
  #log(level, args) {
    const logger = this.#logger
    if (logger === false) return
    if (logger && typeof logger[level] === 'function') logger[level](...args)
    else console[level](...args)
  }

  error(...args) {
    this.#log('error', args)
  }

  /** Warnings raised in Rust (key set outages, coordination) since the last call. */
  warnings(lines) {
    for (const line of lines) this.#log('warn', [line])
  }

  /**
   * A session refused (or not established because Crossmint is down). By
   * default the reference's line with the error and its stack; a level logs
   * one line instead, and `false` nothing: rejections are routine on a public
   * site (expired sessions, bots), and the answer already carries the code.
   */
  rejection({ code, message }) {
    const level = this.#rejectionLevel
    if (level === 'error') this.error('Failed to get session', new CrossmintAuthenticationError(message, code))
    else if (level !== false) this.#log(level, [`Failed to get session (${code}): ${message}`])
  }
}

module.exports = { Logger }
