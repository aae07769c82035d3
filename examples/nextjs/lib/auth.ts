// getAuthSession / requireAuth for server components, from Crossmint's guide,
// unchanged but for the import.
import { cookies } from 'next/headers'
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'

export async function getAuthSession(refreshRoute?: string) {
  const cookieStore = await cookies()
  const jwt = cookieStore.get('crossmint-jwt')?.value
  const refreshToken = cookieStore.get('crossmint-refresh-token')?.value

  if (!refreshToken) {
    return null
  }

  try {
    const crossmint = createCrossmint({
      apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
      overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
    })
    const crossmintAuth = CrossmintAuth.from(crossmint, {
      refreshRoute,
    })

    const session = await crossmintAuth.getSession({
      jwt,
      refreshToken,
    })
    return session
  } catch (error) {
    console.error('Session error:', error)
    return null
  }
}

export async function requireAuth(refreshRoute?: string) {
  const session = await getAuthSession(refreshRoute)

  if (!session) {
    throw new Error('Authentication required')
  }

  return session
}
