// The types of the Fastify and Hono helpers, compiled with `tsc --strict`
// by the tests; each `@ts-expect-error` is a mistake the types must catch.
import Fastify from 'fastify'
import { Hono } from 'hono'
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'
import { crossmintPlugin, crossmintPreHandler, refreshRoute, logoutRoute, type CrossmintRequestSession } from 'crossmint-server-native/fastify'
import * as hono from 'crossmint-server-native/hono'

const crossmintAuth = CrossmintAuth.from(createCrossmint({ apiKey: process.env.SERVER_CROSSMINT_API_KEY || '' }))

// ---- Fastify ----
export async function fastifyApp() {
  const app = Fastify()
  await app.register(crossmintPlugin, { crossmintAuth, refreshPath: '/refresh', logoutPath: '/logout' })
  // @ts-expect-error crossmintAuth is required
  await app.register(crossmintPlugin, { refreshPath: '/refresh' })
  app.post('/refresh-again', refreshRoute(crossmintAuth))
  app.post('/logout-again', logoutRoute(crossmintAuth))
  // A route with typed parts still takes the preHandler.
  app.post<{ Body: { note: string }; Reply: { userId: string; note: string } }>(
    '/notes',
    { preHandler: crossmintPreHandler(crossmintAuth) },
    async (request) => {
      const session: CrossmintRequestSession | null = request.crossmint
      // @ts-expect-error may be null (optional routes, or before the hook)
      request.crossmint.userId
      return { userId: session ? session.userId : '', note: request.body.note }
    },
  )
  app.get('/home', { preHandler: [crossmintPreHandler(crossmintAuth, { required: false })] }, async (request) => ({
    signedIn: request.crossmint !== null,
  }))
  return app
}

// ---- Hono ----
export function honoApp() {
  const app = new Hono()
  app.get('/me', hono.crossmintMiddleware(crossmintAuth), (c) => {
    const expiresAt: string = c.var.crossmint.refreshToken.expiresAt
    return c.json({ userId: c.var.crossmint.userId, expiresAt })
  })
  app.get('/home', hono.crossmintMiddleware(crossmintAuth, { required: false }), (c) => {
    // @ts-expect-error optional: null without a session
    c.var.crossmint.userId
    return c.json({ signedIn: c.var.crossmint !== null })
  })
  app.post('/refresh', hono.refreshRoute(crossmintAuth))
  app.post('/logout', hono.logoutRoute(crossmintAuth))
  // The SDK's Fetch-style calls return Response, as a Hono handler must.
  app.post('/refresh-direct', (c) => crossmintAuth.handleCustomRefresh(c.req.raw))
  return app
}
