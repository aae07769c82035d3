// A Server Component for apps on Crossmint's current client
// (@crossmint/client-sdk-auth 1.3), which keeps the session under
// project-scoped cookie names: getAuthCookieNames gives them. The proxy has
// refreshed an expired JWT before this runs (a Server Component cannot set
// cookies, so it must not be the one to spend a refresh token).
import { cookies } from 'next/headers'
import { createCrossmint, CrossmintAuth, getAuthCookieNames } from 'crossmint-server-native'

export default async function Account() {
  const crossmint = createCrossmint({
    apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
  })
  const crossmintAuth = CrossmintAuth.from(crossmint)
  const names = getAuthCookieNames(crossmintAuth.getProjectId())
  const cookieStore = await cookies()
  const jwt = cookieStore.get(names.jwt)?.value
  const refreshToken = cookieStore.get(names.refreshToken)?.value

  if (refreshToken) {
    try {
      const { userId } = await crossmintAuth.getSession({ jwt, refreshToken })
      const user = await crossmintAuth.getUser(userId)
      return <div>Account of {user.email}</div>
    } catch (error) {
      console.error('Session error:', error)
    }
  }
  return <div>Please log in to see your account.</div>
}
