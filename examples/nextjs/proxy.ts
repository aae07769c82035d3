// The Next.js middleware from Crossmint's guide, unchanged but for the import,
// the base URL (CROSSMINT_BASE_URL, so it can point at the local emulator)
// and its name: Next.js 16 runs `proxy.ts` on Node.js, where a native addon
// loads; `middleware.ts` would run on the Edge runtime (see the README).
import { NextResponse } from 'next/server'
import type { NextRequest } from 'next/server'
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'

export async function proxy(request: NextRequest) {
  // Skip middleware for API routes and static files
  if (request.nextUrl.pathname.startsWith('/api') || request.nextUrl.pathname.startsWith('/_next')) {
    return NextResponse.next()
  }

  const response = NextResponse.next()

  const jwt = request.cookies.get('crossmint-jwt')?.value
  const refreshToken = request.cookies.get('crossmint-refresh-token')?.value

  if (refreshToken == null) {
    return response
  }

  try {
    const crossmint = createCrossmint({
      apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
      overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
    })
    const crossmintAuth = CrossmintAuth.from(crossmint)

    const { jwt: newJwt, refreshToken: newRefreshToken } = await crossmintAuth.getSession({
      jwt,
      refreshToken,
    })

    // Only update response cookies if tokens have changed
    if (newJwt !== jwt || newRefreshToken.secret !== refreshToken) {
      response.cookies.set('crossmint-jwt', newJwt)
      response.cookies.set('crossmint-refresh-token', newRefreshToken.secret)
    }
  } catch (_) {
    // If auth fails, clear cookies and redirect to home
    response.cookies.delete('crossmint-jwt')
    response.cookies.delete('crossmint-refresh-token')
  }

  return response
}
