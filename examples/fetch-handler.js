// A fetch-style handler, `(request: Request) => Promise<Response>`, the shape
// Hono, Bun.serve, Deno.serve and Next.js route handlers use.
const { createCrossmint, CrossmintAuth } = require('crossmint-server-native')

function createHandler({ apiKey, baseUrl } = {}) {
  const crossmint = createCrossmint({
    apiKey: apiKey || process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: baseUrl || process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint)

  return async function handle(request) {
    const { pathname } = new URL(request.url)
    if (request.method === 'POST' && pathname === '/api/refresh') {
      return crossmintAuth.handleCustomRefresh(request)
    }
    if (request.method === 'POST' && pathname === '/api/logout') {
      return crossmintAuth.logout(request)
    }
    if (pathname === '/api/me') {
      // Refreshed cookies, if any, are stored on this response.
      const response = new Response(null, { headers: { 'Content-Type': 'application/json' } })
      try {
        const { userId } = await crossmintAuth.getSession(request, response)
        const answer = new Response(JSON.stringify({ userId }), { headers: response.headers })
        return answer
      } catch (error) {
        return Response.json({ error: 'Unauthorized', code: error.code }, { status: 401, headers: response.headers })
      }
    }
    return new Response('Not found', { status: 404 })
  }
}

module.exports = { createHandler }
