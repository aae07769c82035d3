// The ESM face of edge-runtime.js: the export names of the package and of
// each of its subpaths exist, so a bundler accepts
// `import { CrossmintAuth } from "crossmint-server-native"` (or
// `import { crossmintPlugin } from "crossmint-server-native/fastify"`), and
// evaluating the module throws the sentence that names the fix.
import './edge-runtime.js'

export const createCrossmint = undefined
export const CrossmintAuth = undefined
export const CrossmintAuthenticationError = undefined
export const verifyCrossmintJwt = undefined
export const getAuthCookieNames = undefined
export const CROSSMINT_API_VERSION = undefined
export const SDK_NAME = undefined
export const SDK_VERSION = undefined
// crossmint-server-native/express, /fastify and /hono
export const crossmintMiddleware = undefined
export const refreshRoute = undefined
export const logoutRoute = undefined
export const crossmintPlugin = undefined
export const crossmintPreHandler = undefined
// crossmint-server-native/otel
export const instrumentCrossmintAuth = undefined
export const CHANNEL_NAMES = undefined
export default undefined
