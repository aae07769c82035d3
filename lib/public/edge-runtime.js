'use strict'
// What the package resolves to under the export conditions of runtimes that
// cannot load a native addon (Next.js Edge middleware, Vercel Edge Functions,
// Cloudflare Workers, browsers). Without it those bundlers would trace the
// Node entry and fail on `node:module` for every request of the site; this
// fails on import instead, with the one thing to change.

const message =
  'crossmint-server-native runs on the Node.js runtime only, and this code is bundled for an Edge runtime or a browser. ' +
  'On Next.js 16 rename middleware.ts to proxy.ts (proxy runs on Node.js); on Next.js 15.5 or later keep middleware.ts ' +
  'and add `export const config = { runtime: "nodejs" }`; elsewhere move this code to a Node.js route or function.'

const error = new Error(message)
error.code = 'ERR_CROSSMINT_EDGE_RUNTIME'
throw error
