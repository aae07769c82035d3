import type { FastifyPluginCallback, preHandlerAsyncHookHandler, RouteHandlerMethod } from 'fastify'
import type { CrossmintAuth, RefreshToken } from '../../index'

export interface CrossmintRequestSession {
  userId: string
  jwt: string
  refreshToken: RefreshToken
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `crossmintPreHandler`: the session, or null when optional and absent (or before the hook ran). */
    crossmint: CrossmintRequestSession | null
  }
}

export interface CrossmintPluginOptions {
  crossmintAuth: CrossmintAuth
  /** Registers `POST <refreshPath>` (handleCustomRefresh) when given. */
  refreshPath?: string
  /** Registers `POST <logoutPath>` (logout) when given. */
  logoutPath?: string
}

/** Declares `request.crossmint` and registers the refresh and logout routes asked for. */
export declare const crossmintPlugin: FastifyPluginCallback<CrossmintPluginOptions>

/**
 * preHandler: sets `request.crossmint`; 401 without a session when required
 * (the default), null when `required: false`; 503 with Retry-After when
 * Crossmint is unreachable; other errors go to Fastify's error handler.
 */
export declare function crossmintPreHandler(crossmintAuth: CrossmintAuth, options?: { required?: boolean }): preHandlerAsyncHookHandler

export declare function refreshRoute(crossmintAuth: CrossmintAuth): RouteHandlerMethod
export declare function logoutRoute(crossmintAuth: CrossmintAuth): RouteHandlerMethod
