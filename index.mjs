// ESM entry: the same objects as the CommonJS entry, as named exports.
import { createRequire } from 'node:module'

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
