// The routes: the page, and three resource routes (a loader or an action, no
// component) at the paths of Crossmint's Remix example.
import { type RouteConfig, index, route } from '@react-router/dev/routes'

export default [
  index('routes/home.tsx'),
  route('api/me', 'routes/api.me.ts'),
  route('api/refresh', 'routes/api.refresh.ts'),
  route('api/logout', 'routes/api.logout.ts'),
] satisfies RouteConfig
