// The Next.js middleware from Crossmint's guide, unchanged but for the import,
// the base URL (CROSSMINT_BASE_URL, so it can point at the local emulator),
// the cookie names of Crossmint's current client (getAuthCookieNames) and its name: Next.js 16 runs `proxy.ts` on Node.js, where a native addon
// loads; `middleware.ts` would run on the Edge runtime (see the README).
import { NextResponse } from 'next/server'
import type { NextRequest } from 'next/server'
import { createCrossmint, CrossmintAuth, getAuthCookieNames } from 'crossmint-server-native'

export async function proxy(request: NextRequest) {
  // Skip middleware for API routes and static files
  if (request.nextUrl.pathname.startsWith('/api') || request.nextUrl.pathname.startsWith('/_next')) {
    return NextResponse.next()
  }

  const response = NextResponse.next()

  const crossmint = createCrossmint({
    apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint)
  // Crossmint's current client (@crossmint/client-sdk-auth 1.3) keeps the
  // session under project-scoped names; clients up to 1.2.50 under the
  // unscoped ones the guide reads. The answer keeps the naming it found.
  const scoped = getAuthCookieNames(crossmintAuth.getProjectId())
  const names = request.cookies.has(scoped.refreshToken) ? scoped : { jwt: 'crossmint-jwt', refreshToken: 'crossmint-refresh-token' }

  const jwt = request.cookies.get(names.jwt)?.value
  const refreshToken = request.cookies.get(names.refreshToken)?.value

  if (refreshToken == null) {
    return response
  }

  try {
    const { jwt: newJwt, refreshToken: newRefreshToken } = await crossmintAuth.getSession({
      jwt,
      refreshToken,
    })

    // Only update response cookies if tokens have changed
    if (newJwt !== jwt || newRefreshToken.secret !== refreshToken) {
      response.cookies.set(names.jwt, newJwt)
      response.cookies.set(names.refreshToken, newRefreshToken.secret)
    }
  } catch (_) {
    // If auth fails, clear cookies and redirect to home
    response.cookies.delete(names.jwt)
    response.cookies.delete(names.refreshToken)
  }

  return response
}
