'use strict'
// The package's entry: the reference SDK's exports, re-exported from
// lib/core/, where they are implemented over the native addon.

const { createCrossmint } = require('./lib/core/create-crossmint.js')
const { CrossmintAuth } = require('./lib/core/crossmint-auth.js')
const { CrossmintAuthenticationError } = require('./lib/core/errors.js')
const { verifyCrossmintJwt } = require('./lib/core/verify.js')
const { getAuthCookieNames } = require('./lib/core/cookie-names.js')
const { CROSSMINT_API_VERSION, SDK_NAME, SDK_VERSION } = require('./lib/core/constants.js')

module.exports = {
  createCrossmint,
  CrossmintAuth,
  CrossmintAuthenticationError,
  verifyCrossmintJwt,
  getAuthCookieNames,
  CROSSMINT_API_VERSION,
  SDK_NAME,
  SDK_VERSION,
}
