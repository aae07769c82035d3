// GET /api/me, a resource route (a loader and no component) that requires a
// session: getSession(request, new Response()) stores refreshed (or cleared)
// cookies on that response, whose headers the JSON answer then carries.
// Remix's json(), not Response.json: remix-serve replaces the global Response
// with one that has no static json().
import { type LoaderFunctionArgs, json } from '@remix-run/node'
import { CrossmintAuthenticationError } from 'crossmint-server-native'
import { crossmintAuthFor } from '../crossmint.server'

export async function loader({ request }: LoaderFunctionArgs) {
  const crossmintAuth = crossmintAuthFor({ cookieOptions: { httpOnly: true } })
  const cookies = new Response()
  try {
    const { userId } = await crossmintAuth.getSession(request, cookies)
    return json({ userId }, { headers: cookies.headers })
  } catch (error) {
    if (!(error instanceof CrossmintAuthenticationError)) throw error
    // Crossmint unreachable: the session may be fine, so no sign-out.
    const outage = error.code === 'CROSSMINT_UNAVAILABLE' || error.code === 'TIMEOUT'
    return json({ error: outage ? 'Service Unavailable' : 'Unauthorized', code: error.code }, { status: outage ? 503 : 401, headers: cookies.headers })
  }
}
