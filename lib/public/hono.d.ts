import type { Context, MiddlewareHandler } from 'hono'
import type { CrossmintAuth, RefreshToken } from '../../index'

export interface CrossmintSession {
  userId: string
  jwt: string
  refreshToken: RefreshToken
}

/** The Hono env a required `crossmintMiddleware` gives its routes: `c.var.crossmint` is a session. */
export type CrossmintEnv = { Variables: { crossmint: CrossmintSession } }
/** The env of `crossmintMiddleware(auth, { required: false })`: `c.var.crossmint` may be null. */
export type OptionalCrossmintEnv = { Variables: { crossmint: CrossmintSession | null } }

/**
 * Sets `c.var.crossmint`. Without a session: 401 `{ error: "Unauthorized", code, message }`
 * (or null with `required: false`); 503 with Retry-After when Crossmint is unreachable;
 * other errors go to `app.onError`.
 */
export declare function crossmintMiddleware(crossmintAuth: CrossmintAuth, options?: { required?: true }): MiddlewareHandler<CrossmintEnv>
export declare function crossmintMiddleware(crossmintAuth: CrossmintAuth, options: { required: boolean }): MiddlewareHandler<OptionalCrossmintEnv>

/** POST handler: the refresh answer (200 with cookies, 401, or 503 with Retry-After). */
export declare function refreshRoute(crossmintAuth: CrossmintAuth): (c: Context) => Promise<Response>
/** POST handler: revokes the session; 200 with the cookies cleared. */
export declare function logoutRoute(crossmintAuth: CrossmintAuth): (c: Context) => Promise<Response>
