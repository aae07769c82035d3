'use strict'

// A browser's cookie jar for one host, as the soak and the logout-race tests
// need it: a Map of name to value, Set-Cookie lines applied in the order the
// answers arrive.

/** Applies one Set-Cookie header as a browser would: empty or expired deletes. */
function applySetCookie(jar, header, nowMs = Date.now()) {
  const [pair, ...attributes] = header.split(';')
  const eq = pair.indexOf('=')
  if (eq <= 0) return
  const name = pair.slice(0, eq).trim()
  const value = pair.slice(eq + 1).trim()
  let maxAge
  let expires
  for (const attribute of attributes) {
    const at = attribute.indexOf('=')
    const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase()
    const raw = at < 0 ? '' : attribute.slice(at + 1).trim()
    if (key === 'max-age' && /^-?\d+$/.test(raw)) maxAge = Number(raw)
    if (key === 'expires') {
      const parsed = Date.parse(raw)
      if (!Number.isNaN(parsed)) expires = parsed // an unparseable date makes a session cookie
    }
  }
  const gone = value === '' || (maxAge !== undefined ? maxAge <= 0 : expires !== undefined && expires <= nowMs)
  if (gone) jar.delete(name)
  else jar.set(name, value)
}

const cookieHeader = (jar) => [...jar].map(([name, value]) => `${name}=${value}`).join('; ')

module.exports = { applySetCookie, cookieHeader }
