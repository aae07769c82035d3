// The protected page from Crossmint's guide, unchanged but for the imports
// and the base URL (CROSSMINT_BASE_URL, for the local emulator).
import { getAuthSession } from '@/lib/auth'
import { createCrossmint, CrossmintAuth } from 'crossmint-server-native'

export default async function ProtectedRoute() {
  const session = await getAuthSession()
  const userId = session?.userId

  if (userId != null) {
    // Fetch user data or perform authorized actions
    const crossmint = createCrossmint({
      apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
      overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
    })
    const crossmintAuth = CrossmintAuth.from(crossmint)
    const userData = await crossmintAuth.getUser(userId)

    return <div>Welcome, {userData.email}!</div>
  }

  // Handle unauthenticated state
  return <div>Please log in to access this page.</div>
}
