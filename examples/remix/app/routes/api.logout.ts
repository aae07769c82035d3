// POST /api/logout, the logout action of Crossmint's Remix example
// (app/routes/api.logout.tsx), passing the request so the refresh token is
// revoked at Crossmint: logout(request) answers with the cleared cookies.
import type { ActionFunctionArgs } from '@remix-run/node'
import { crossmintAuthFor } from '../crossmint.server'

export async function action({ request }: ActionFunctionArgs) {
  try {
    const crossmintAuth = crossmintAuthFor()
    const response = await crossmintAuth.logout(request)

    return response
  } catch (error) {
    console.error(error)
    return new Response(null, { status: 500 })
  }
}
