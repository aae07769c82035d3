// The ESM face of edge-runtime.js: the package's export names exist, so a
// bundler accepts `import { CrossmintAuth } from "crossmint-server-native"`,
// and evaluating the module throws the sentence that names the fix.
import './edge-runtime.js'

export const createCrossmint = undefined
export const CrossmintAuth = undefined
export const CrossmintAuthenticationError = undefined
export const verifyCrossmintJwt = undefined
export const CROSSMINT_API_VERSION = undefined
export const SDK_NAME = undefined
export const SDK_VERSION = undefined
export const crossmintMiddleware = undefined
export const refreshRoute = undefined
export const logoutRoute = undefined
export default undefined
