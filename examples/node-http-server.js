// Plain node:http with the answers a browser app expects: 401 (not 500)
// without a session, 503 with Retry-After when Crossmint cannot be reached.
// (http-server.js is the guide's server, kept as the guide has it.)
// The refresh route reads `{ refresh }` from the request stream itself.
const http = require('node:http')
const { createCrossmint, CrossmintAuth, CrossmintAuthenticationError } = require('crossmint-server-native')

// Crossmint could not answer: the session is not known to be bad.
const OUTAGE_CODES = new Set(['CROSSMINT_UNAVAILABLE', 'TIMEOUT', 'REDIRECT_REFUSED'])

function sendJson(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function createServer({ apiKey, baseUrl } = {}) {
  const crossmint = createCrossmint({
    apiKey: apiKey || process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: baseUrl || process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint, { cookieOptions: { httpOnly: true } })

  return http.createServer(async (req, res) => {
    const { pathname } = new URL(req.url, 'http://localhost')
    try {
      if (req.method === 'POST' && pathname === '/refresh') {
        await crossmintAuth.handleCustomRefresh(req, res) // status, cookies and body written
        res.end()
        return
      }
      if (req.method === 'POST' && pathname === '/logout') {
        await crossmintAuth.logout(req, res) // cookies cleared
        res.end()
        return
      }
      if (req.method === 'GET' && pathname === '/me') {
        // Refreshed (or cleared) cookies are set on `res` before this settles.
        const { userId } = await crossmintAuth.getSession(req, res)
        sendJson(res, 200, { userId })
        return
      }
      sendJson(res, 404, { error: 'Not Found' })
    } catch (error) {
      if (res.headersSent) {
        res.end()
      } else if (!(error instanceof CrossmintAuthenticationError)) {
        console.error(error)
        sendJson(res, 500, { error: 'Internal Server Error' })
      } else if (OUTAGE_CODES.has(error.code)) {
        sendJson(res, 503, { error: 'Service Unavailable', code: error.code, message: error.message }, { 'Retry-After': '5' })
      } else {
        sendJson(res, 401, { error: 'Unauthorized', code: error.code, message: error.message })
      }
    }
  })
}

module.exports = { createServer }

if (require.main === module) {
  const server = createServer().listen(Number(process.env.PORT || 3001), '127.0.0.1', () =>
    console.log(`Listening on http://127.0.0.1:${server.address().port}`),
  )
}
