// Every public type in use, compiled with `tsc --noEmit --strict` by the
// tests: code written against @crossmint/server-sdk keeps compiling.
import http from 'node:http'
import express from 'express'
import {
  createCrossmint,
  CrossmintAuth,
  CrossmintAuthenticationError,
  verifyCrossmintJwt,
  CROSSMINT_API_VERSION,
  SDK_NAME,
  SDK_VERSION,
  type AuthSession,
  type AuthMaterial,
  type CookieOptions,
  type CrossmintAuthServerOptions,
  type JWTPayload,
  type JWKSInput,
  type RefreshCoordination,
} from 'crossmint-server-native'
import { crossmintMiddleware, refreshRoute, logoutRoute } from 'crossmint-server-native/express'
import { startCrossmintEmulator, type CrossmintEmulator } from 'crossmint-server-native/testing'

const cookieOptions: CookieOptions = { httpOnly: true, secure: true, sameSite: 'Strict', domain: 'example.com' }
const options: CrossmintAuthServerOptions = { cookieOptions, timeoutMs: 5000, clockToleranceSeconds: 5, logger: false }

const crossmint = createCrossmint({ apiKey: process.env.SERVER_CROSSMINT_API_KEY || '' })
const crossmintAuth: CrossmintAuth = CrossmintAuth.from(crossmint, options)
const version: string = `${SDK_NAME}@${SDK_VERSION} (API ${CROSSMINT_API_VERSION})`

export async function fromMaterial(jwt: string | undefined, refreshToken: string): Promise<string> {
  const session: AuthSession = await crossmintAuth.getSession({ jwt, refreshToken })
  const expiresAt: string = session.refreshToken.expiresAt
  return `${session.userId} ${expiresAt}`
}

export async function fetchRoute(request: Request): Promise<Response> {
  // A Fetch request without a response: typed Promise<Response>, no cast.
  const answer: Response = await crossmintAuth.handleCustomRefresh(request)
  return answer
}

export const server = http.createServer(async (req, res) => {
  try {
    const { userId } = await crossmintAuth.getSession(req, res)
    const user = await crossmintAuth.getUser(userId)
    res.end(JSON.stringify({ email: user.email as string | undefined }))
  } catch (error) {
    if (error instanceof CrossmintAuthenticationError) {
      res.statusCode = 401
      res.end(error.code ?? 'UNKNOWN')
      return
    }
    throw error
  }
})

// Node-style calls return the response they were given.
export async function nodeRoutes(req: http.IncomingMessage, res: http.ServerResponse): Promise<http.ServerResponse> {
  const written: http.ServerResponse = await crossmintAuth.handleCustomRefresh(req, res)
  return crossmintAuth.logout(req, written)
}

const strictAuth = CrossmintAuth.from(crossmint, { logRejections: 'debug', logger: console })
void strictAuth

// Several processes: refreshes shared through Redis when REDIS_URL is set.
const coordination: RefreshCoordination | undefined = process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : undefined
const clusteredAuth = CrossmintAuth.from(crossmint, { refreshCoordination: coordination, refreshGraceSeconds: 10 })
void clusteredAuth
// @ts-expect-error a redisUrl (or redisUrls) is required
CrossmintAuth.from(crossmint, { refreshCoordination: {} })
// Off, each spelled as the options accept it.
CrossmintAuth.from(crossmint, { refreshCoordination: false, localCoordination: { enabled: false } })

export const app = express()
app.post('/refresh', refreshRoute(crossmintAuth))
app.post('/logout', logoutRoute(crossmintAuth))
app.get('/me', crossmintMiddleware(crossmintAuth, { required: true }), (req, res) => {
  res.json({ userId: req.crossmint?.userId, version })
})

export function store(response: Response, material: AuthMaterial): void {
  crossmintAuth.storeAuthMaterial(response, material)
}

export async function verify(token: string, jwks: JWKSInput): Promise<string | undefined> {
  const payload: JWTPayload = await verifyCrossmintJwt(token, jwks)
  const own: JWTPayload = await crossmintAuth.verifyCrossmintJwt(token)
  return payload.sub ?? own.sub
}

export async function offline(): Promise<void> {
  const emulator: CrossmintEmulator = await startCrossmintEmulator()
  const auth = CrossmintAuth.from(createCrossmint({ apiKey: emulator.apiKey, overrideBaseUrl: emulator.url }))
  const session = emulator.createSession('user-1', { email: 'a@example.com' })
  await auth.getSession({ jwt: session.jwt, refreshToken: session.refreshToken.secret })
  const jwksUri: string = auth.getJwksUri()
  await auth.logout(undefined, new Response())
  void jwksUri
  await emulator.close()
}
