// The Crossmint client every route uses, configured from the environment:
// SERVER_CROSSMINT_API_KEY, and CROSSMINT_BASE_URL to point it elsewhere
// (the test suite's emulator). `.server` keeps it out of the browser bundle.
import { CrossmintAuth, type CrossmintAuthServerOptions, createCrossmint } from 'crossmint-server-native'

export function crossmintAuthFor(options: CrossmintAuthServerOptions = {}) {
  const crossmint = createCrossmint({
    apiKey: process.env.SERVER_CROSSMINT_API_KEY || '',
    overrideBaseUrl: process.env.CROSSMINT_BASE_URL,
  })
  return CrossmintAuth.from(crossmint, options)
}
