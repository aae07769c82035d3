// A JSON route that requires a session, fetch-style: getSession(request,
// response) stores refreshed (or cleared) cookies on a Response whose headers
// are then carried by the answer.
import { createCrossmint, CrossmintAuth, CrossmintAuthenticationError } from 'crossmint-server-native'
import type { NextRequest } from 'next/server'

export async function GET(request: NextRequest) {
  const crossmint = createCrossmint({
    apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint, { cookieOptions: { httpOnly: true } })
  const cookies = new Response()
  try {
    const { userId } = await crossmintAuth.getSession(request, cookies)
    return Response.json({ userId }, { headers: cookies.headers })
  } catch (error) {
    if (!(error instanceof CrossmintAuthenticationError)) throw error
    // Crossmint unreachable: the session may be fine, so no sign-out.
    const outage = error.code === 'CROSSMINT_UNAVAILABLE' || error.code === 'TIMEOUT'
    return Response.json({ error: outage ? 'Service Unavailable' : 'Unauthorized', code: error.code }, { status: outage ? 503 : 401, headers: cookies.headers })
  }
}
