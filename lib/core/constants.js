'use strict'
// The reference's exported constants. The API version is the Rust core's,
// which makes the calls.

const native = require('./native-addon.js')

module.exports = {
  CROSSMINT_API_VERSION: native.CROSSMINT_API_VERSION,
  SDK_NAME: '@crossmint/server-sdk',
  SDK_VERSION: '1.2.42',
}
