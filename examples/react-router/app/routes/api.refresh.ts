// POST /api/refresh, the refresh action of Crossmint's Remix example
// (app/routes/api.refresh.tsx) as a React Router 7 resource route, unchanged
// but for the imports and the shared client: handleCustomRefresh(request)
// answers with the new session's cookies.
import type { ActionFunctionArgs } from 'react-router'
import { crossmintAuthFor } from '../crossmint.server'

export async function action({ request }: ActionFunctionArgs) {
  if (request.method !== 'POST') {
    return new Response(null, { status: 405 })
  }

  try {
    const crossmintAuth = crossmintAuthFor()
    const response = await crossmintAuth.handleCustomRefresh(request)

    return response
  } catch (error) {
    console.error(error)
    return new Response(null, { status: 500 })
  }
}
