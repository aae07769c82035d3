// Vite config of the React Router 7 app. No setting for
// crossmint-server-native: Vite leaves packages in node_modules out of the
// server bundle, so the built server loads the native addon from node_modules
// at run time. Bundling every dependency (ssr.noExternal: true) needs one
// line: see vite.config.bundled.ts.
import { reactRouter } from '@react-router/dev/vite'
import { defineConfig } from 'vite'

export default defineConfig({
  plugins: [reactRouter()],
})
