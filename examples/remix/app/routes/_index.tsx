// The page of Crossmint's Remix example (app/routes/_index.tsx), unchanged but
// for the import and the shared client: the loader calls
// getSession(request, new Response()) and copies that response's headers
// (refreshed or cleared cookies) onto its own answer. Remix keeps a loader's
// Set-Cookie on the document it renders.
import { type LoaderFunctionArgs, json } from '@remix-run/node'
import { useLoaderData } from '@remix-run/react'
import { crossmintAuthFor } from '../crossmint.server'

type LoaderData = {
  userId?: string
}

export const loader = async ({ request }: LoaderFunctionArgs) => {
  let userId: string | undefined
  const inProgressResponse = new Response()

  try {
    const url = new URL(request.url)
    const crossmintAuth = crossmintAuthFor({ refreshRoute: `${url.origin}/api/refresh` })

    const { userId: fetchedUserId } = await crossmintAuth.getSession(request, inProgressResponse)
    userId = fetchedUserId
  } catch (error) {
    console.error(error)
  }

  const response = json<LoaderData>({ userId })
  inProgressResponse.headers.forEach((value, key) => {
    response.headers.append(key, value)
  })

  return response
}

export default function Index() {
  const { userId } = useLoaderData<LoaderData>()

  return (
    <main>
      <h1>Welcome to Crossmint Auth Remix Demo</h1>
      {userId ? (
        <div>
          <p>You are logged in!</p>
          <p>Your user ID is: {userId}</p>
        </div>
      ) : (
        <p>You are not logged in.</p>
      )}
    </main>
  )
}
