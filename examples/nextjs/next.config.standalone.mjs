// next.config.mjs for `output: "standalone"`: the one line beyond Next's
// defaults. The package loads its native addon with Node's own require, which
// output file tracing cannot follow, so the loader and the platform package
// are named for it.
export default {
  output: 'standalone',
  outputFileTracingIncludes: { '/**': ['./node_modules/crossmint-server-native*/**'] },
}
