// ESM entry: the same objects as the CommonJS entry, as named exports.
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'

// Inlined into a bundle (Vite's ssr.noExternal, webpack), './index.js' would
// name the bundle itself and Node would report a require cycle that names
// nothing of ours; the loader (native.js) beside this file says we are home.
if (!existsSync(new URL('./native.js', import.meta.url))) {
  throw new Error(
    `crossmint-server-native was bundled into ${import.meta.url}; a native addon cannot be bundled. Mark it external: Vite \`ssr: { external: ['crossmint-server-native'] }\`, webpack \`externals\`, Next.js \`serverExternalPackages\`.`,
  )
}

const require = createRequire(import.meta.url)
const sdk = require('./index.js')

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
