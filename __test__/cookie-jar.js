'use strict'
// A browser's cookie jar, as far as these tests need one: one host, cookies
// by name, Set-Cookie lines applied in the order the answers arrive, a
// cookie whose Expires has passed (or Max-Age is not positive) deleted.

class CookieJar {
  #cookies = new Map()

  /** A jar holding a session as Crossmint's client stores it after sign-in. */
  static of(session) {
    const jar = new CookieJar()
    jar.set('crossmint-jwt', session.jwt)
    jar.set('crossmint-refresh-token', session.refreshToken.secret)
    return jar
  }

  set(name, value) {
    this.#cookies.set(name, value)
  }

  get(name) {
    return this.#cookies.get(name)
  }

  /** Applies the Set-Cookie lines of one answer. */
  receive(setCookieLines) {
    for (const line of setCookieLines) {
      const [pair, ...attributes] = line.split(';')
      const at = pair.indexOf('=')
      if (at <= 0) continue
      const name = pair.slice(0, at).trim()
      let expired = false
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.split('=')
        const value = rest.join('=').trim()
        if (/^\s*expires\s*$/i.test(key) && Date.parse(value) <= Date.now()) expired = true
        if (/^\s*max-age\s*$/i.test(key) && Number(value) <= 0) expired = true
      }
      if (expired) this.#cookies.delete(name)
      else this.#cookies.set(name, pair.slice(at + 1).trim())
    }
  }

  /** The Cookie header the browser would send ('' when the jar is empty). */
  header() {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

module.exports = { CookieJar }
