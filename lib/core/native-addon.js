'use strict'
// Loads the platform's native addon (through native.js, which napi
// generates) once, for every module of the package.

/**
 * Node's own `require`, even when this file was bundled (Next.js bundles
 * server code with Turbopack or webpack). A bundler must not follow the
 * require of the loader: it would try to place the `.node` addon in a
 * JavaScript chunk and fail the build ("not placeable in ESM chunks").
 * webpack provides `__non_webpack_require__`; Turbopack leaves a `require`
 * that is held in a variable to Node at run time.
 */
const nodeRequire = typeof __non_webpack_require__ === 'function' ? __non_webpack_require__ : require

/** native.js at the package root, or, from a bundle, by package name. */
function requireLoader() {
  try {
    return nodeRequire('../../native.js')
  } catch (error) {
    // Relative to a bundle's chunk there is no native.js; the package is
    // still installed in node_modules, where Node resolves it by name.
    if (error.code !== 'MODULE_NOT_FOUND') throw error
    return nodeRequire('crossmint-server-native/native.js')
  }
}

/** The platform binary, or an error whose first sentence says why not and what to do. */
function loadNative() {
  try {
    return requireLoader()
  } catch (cause) {
    throw require('./native-load-error.js').nativeLoadError(cause)
  }
}

module.exports = loadNative()
