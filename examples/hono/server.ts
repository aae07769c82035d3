// Hono 4 on Node (@hono/node-server), in TypeScript checked with
// `tsc --strict`: the package's middleware sets a typed `c.var.crossmint`,
// and the SDK's Fetch-style calls type as `Promise<Response>`, so a handler
// can return them as they are.
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'
import { crossmintMiddleware, refreshRoute, type CrossmintSession } from 'crossmint-server-native/hono'

export function createApp(apiKey: string, baseUrl?: string): Hono {
  const crossmint = createCrossmint({ apiKey, overrideBaseUrl: baseUrl })
  const crossmintAuth = CrossmintAuth.from(crossmint, { cookieOptions: { httpOnly: true } })

  const app = new Hono()
  app.post('/refresh', refreshRoute(crossmintAuth))
  // The helper is one line; this is the same call written out.
  app.post('/logout', (c) => crossmintAuth.logout(c.req.raw))
  app.get('/me', crossmintMiddleware(crossmintAuth), (c) => {
    const session: CrossmintSession = c.var.crossmint
    return c.json({ userId: session.userId })
  })
  app.get('/home', crossmintMiddleware(crossmintAuth, { required: false }), (c) => {
    const session = c.var.crossmint
    return c.json({ greeting: session ? `Welcome back, ${session.userId}` : 'Hello, guest' })
  })
  return app
}

if (require.main === module) {
  const app = createApp(process.env.SERVER_CROSSMINT_API_KEY || '', process.env.CROSSMINT_BASE_URL)
  serve({ fetch: app.fetch, port: Number(process.env.PORT || 3001), hostname: '127.0.0.1' }, (info) => {
    console.log(`Listening on http://127.0.0.1:${info.port}`)
  })
}
