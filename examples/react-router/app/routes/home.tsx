// The page of Crossmint's Remix example on React Router 7: the loader calls
// getSession(request, new Response()) and hands that response's headers
// (refreshed or cleared cookies) to data(), since `json()` is gone in v7.
// React Router keeps a loader's Set-Cookie on the document it renders.
import { type LoaderFunctionArgs, data, useLoaderData } from 'react-router'
import { crossmintAuthFor } from '../crossmint.server'

export async function loader({ request }: LoaderFunctionArgs) {
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

  return data({ userId }, { headers: inProgressResponse.headers })
}

export default function Home() {
  const { userId } = useLoaderData<typeof loader>()

  return (
    <main>
      <h1>Welcome to Crossmint Auth React Router Demo</h1>
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
