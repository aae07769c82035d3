// Bun: Bun.serve with the package installed into node_modules
// (`bun install` or `npm install` beside this file's package.json).
//
//   bun run server.ts
//
// Env: SERVER_CROSSMINT_API_KEY, CROSSMINT_BASE_URL (optional), PORT (0 = any).
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'

const crossmint = createCrossmint({
  apiKey: process.env.SERVER_CROSSMINT_API_KEY ?? '',
  overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
})
const crossmintAuth = CrossmintAuth.from(crossmint)

async function handle(request: Request): Promise<Response> {
  const { pathname } = new URL(request.url)
  if (request.method === 'POST' && pathname === '/refresh') {
    return (await crossmintAuth.handleCustomRefresh(request)) as Response
  }
  if (request.method === 'POST' && pathname === '/logout') {
    return (await crossmintAuth.logout(request)) as Response
  }
  if (request.method === 'GET' && pathname === '/me') {
    // A refreshed session's cookies are stored on this response's headers.
    const cookies = new Response(null)
    try {
      const { userId } = await crossmintAuth.getSession(request, cookies)
      return Response.json({ userId }, { headers: cookies.headers })
    } catch (error) {
      const code = (error as { code?: string }).code
      return Response.json({ error: 'Unauthorized', code }, { status: 401, headers: cookies.headers })
    }
  }
  return new Response('Not found', { status: 404 })
}

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 3000),
  fetch: handle,
})
console.log(`Listening on http://127.0.0.1:${server.port}`)
