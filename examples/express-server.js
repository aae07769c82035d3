// The Express server from Crossmint's server-side auth guide, unchanged but
// for the import line (and CROSSMINT_BASE_URL, so it can point at the local
// emulator instead of crossmint.com; it listens on loopback only, and only
// when run directly: the demo mounts the same app behind its web page).
const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')
const express = require('express')

const app = express()

// Create Crossmint instances
const crossmint = createCrossmint({
  apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
  overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
})
const crossmintAuth = CrossmintAuth.from(crossmint)

app.use(express.json())

// Token refresh endpoint
app.post('/refresh', async (req, res) => {
  try {
    await crossmintAuth.handleCustomRefresh(req, res)
  } catch (error) {
    console.error('Error refreshing token', error)
  }
  res.end()
})

// Logout endpoint
app.post('/logout', async (req, res) => {
  try {
    await crossmintAuth.logout(req, res)
  } catch (error) {
    console.error('Error logging out', error)
  }
  res.end()
})

// Authentication middleware
const authMiddleware = async (req, res, next) => {
  if (req.method !== 'GET') {
    next()
    return
  }

  try {
    const { jwt, userId } = await crossmintAuth.getSession(req, res)
    req.user = { userId, jwt }
    next()
  } catch (error) {
    console.error(error)
    res.status(401).json({ error: 'Authentication failed' })
  }
}

app.use(authMiddleware)

// Protected route
app.get('/protected', (req, res) => {
  res.json({ message: 'Protected route', userId: req.user.userId })
})

const PORT = process.env.PORT || 3001

if (require.main === module) {
  app.listen(PORT, '127.0.0.1', () => {
    console.log(`Server running on port ${PORT}`)
  })
}

module.exports = { app, crossmintAuth }
