// vite.config.ts for a server build that bundles every dependency
// (`ssr.noExternal: true`, to ship build/ without most of node_modules). The
// package must stay out of the bundle: its ESM entry loads the native addon
// at run time, which a bundle cannot hold. One line; without it the built
// server stops at startup with "Cannot require() ES Module
// build/server/index.js in a cycle". The test suite builds this one too.
import { vitePlugin as remix } from '@remix-run/dev'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [
    remix({
      future: {
        v3_fetcherPersist: true,
        v3_relativeSplatPath: true,
        v3_throwAbortReason: true,
      },
    }),
  ],
  ssr: {
    noExternal: true,
    external: ['crossmint-server-native'], // the one line
  },
})
