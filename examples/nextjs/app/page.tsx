// A public page: no session needed, and none is looked at.
export default function Home() {
  return (
    <main>
      Public page. <a href="/protected">Protected page</a>
    </main>
  )
}
