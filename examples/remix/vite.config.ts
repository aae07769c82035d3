// Vite config of Crossmint's Remix example, without its Tailwind and path
// plugins. No setting for crossmint-server-native: Vite leaves packages in
// node_modules out of the server bundle, so the built server loads the native
// addon from node_modules at run time. Bundling every dependency
// (ssr.noExternal: true) needs one line: see vite.config.bundled.ts.
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
})
