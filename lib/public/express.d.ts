import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CrossmintAuth, RefreshToken } from '../../index'

export interface CrossmintRequestSession {
  userId: string
  jwt: string
  refreshToken: RefreshToken
}

declare module 'node:http' {
  interface IncomingMessage {
    /** Set by `crossmintMiddleware`: the session, or null when optional and absent. */
    crossmint?: CrossmintRequestSession | null
  }
}

type Next = (error?: unknown) => void
type Handler = (req: IncomingMessage, res: ServerResponse & { status(code: number): { json(body: unknown): void } }, next: Next) => Promise<void>

export declare function crossmintMiddleware(crossmintAuth: CrossmintAuth, options?: { required?: boolean }): Handler
export declare function refreshRoute(crossmintAuth: CrossmintAuth): Handler
export declare function logoutRoute(crossmintAuth: CrossmintAuth): Handler
