// The plain node:http server from Crossmint's server-side auth guide,
// unchanged but for the import line (and CROSSMINT_BASE_URL, so it can point
// at the local emulator instead of crossmint.com; it listens on loopback only).
const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')
const http = require('node:http')

const crossmint = createCrossmint({
  apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
  overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
})
const crossmintAuth = CrossmintAuth.from(crossmint)

const server = http.createServer(async (req, res) => {
  // Handle token refresh
  if (req.method === 'POST' && req.url === '/refresh') {
    try {
      await crossmintAuth.handleCustomRefresh(req, res)
    } catch (error) {
      console.error('Error refreshing token', error)
    }
    res.end()
    return
  }

  // Handle logout
  if (req.method === 'POST' && req.url === '/logout') {
    try {
      await crossmintAuth.logout(req, res)
    } catch (error) {
      console.error('Error logging out', error)
    }
    res.end()
    return
  }

  // Protected route - validate session
  try {
    const { jwt, refreshToken, userId } = await crossmintAuth.getSession(req, res)
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ jwt, refreshToken, userId }))
  } catch (error) {
    console.error(error)
    res.writeHead(500, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify({ error: error.message }))
  }
})

const PORT = process.env.PORT || 3001

server.listen(PORT, '127.0.0.1', () => {
  console.log(`Server running on port ${PORT}`)
})

module.exports = server
