// ESM entry: the same objects as the CommonJS entry, as named exports.
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
let sdk
try {
  sdk = require('./index.js')
} catch (error) {
  // Inlined into an ES module bundle (Vite's ssr.noExternal), './index.js'
  // names the bundle itself: Node reports a require cycle that names
  // nothing of ours.
  if (error && error.code === 'ERR_REQUIRE_CYCLE_MODULE') {
    throw new Error(
      `crossmint-server-native was bundled into ${import.meta.url}; a native addon cannot be bundled. Mark it external: Vite \`ssr: { external: ['crossmint-server-native'] }\`, webpack \`externals\`, Next.js \`serverExternalPackages\`.`,
      { cause: error },
    )
  }
  throw error
}

export const {
  createCrossmint,
  CrossmintAuth,
  CrossmintAuthenticationError,
  verifyCrossmintJwt,
  getAuthCookieNames,
  CROSSMINT_API_VERSION,
  SDK_NAME,
  SDK_VERSION,
} = sdk
export default sdk
