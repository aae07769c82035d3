// Deno 2: Deno.serve with the package installed into node_modules
// (`npm install` beside this file's package.json), run with the permissions
// the native addon's loader needs and no more (see the README, "Deno and Bun"):
//
//   deno run --allow-ffi --allow-env --allow-read --allow-sys=report --allow-net=127.0.0.1 main.ts
//
// Env: SERVER_CROSSMINT_API_KEY, CROSSMINT_BASE_URL (optional), PORT (0 = any).
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'

const crossmint = createCrossmint({
  apiKey: Deno.env.get('SERVER_CROSSMINT_API_KEY') ?? '',
  overrideBaseUrl: Deno.env.get('CROSSMINT_BASE_URL'),
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

Deno.serve(
  {
    hostname: '127.0.0.1',
    port: Number(Deno.env.get('PORT') ?? 8000),
    onListen: ({ hostname, port }) => console.log(`Listening on http://${hostname}:${port}`),
  },
  handle,
)
