// The refresh route handler from Crossmint's guide, unchanged but for the import.
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'
import type { NextRequest } from 'next/server'

export async function POST(request: NextRequest) {
  try {
    const crossmint = createCrossmint({
      apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
      overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
    })
    const crossmintAuth = CrossmintAuth.from(crossmint, {
      cookieOptions: {
        httpOnly: true, // Secure cookies
      },
    })
    const response = await crossmintAuth.handleCustomRefresh(request)

    return response as Response
  } catch (error) {
    console.error('Refresh error:', error)
    return Response.json({ error: 'Authentication failed' }, { status: 401 })
  }
}
