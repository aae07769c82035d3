// A logout route handler: revokes the refresh token at Crossmint and answers
// with the cleared cookies (a Fetch Response, since no response is passed).
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'
import type { NextRequest } from 'next/server'

export async function POST(request: NextRequest) {
  const crossmint = createCrossmint({
    apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint)
  return crossmintAuth.logout(request)
}
