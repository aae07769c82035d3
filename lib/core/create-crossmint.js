'use strict'
// createCrossmint: the config object the reference returns, its API key
// checked (by the Rust core) before anything else happens.

const native = require('./native-addon.js')
const { rethrowPlain } = require('./errors.js')

function optionalString(value) {
  return value ? String(value) : undefined
}

function createCrossmint(config, apiKeyExpectations) {
  if (config == null || typeof config !== 'object') {
    throw new TypeError('createCrossmint expects a config object with an apiKey')
  }
  const { apiKey, jwt, overrideBaseUrl, appId, extensionId, experimental_customAuth } = config
  const { usageOrigin, environment } = apiKeyExpectations || {}
  rethrowPlain(() => native.checkApiKey(typeof apiKey === 'string' ? apiKey : '', optionalString(usageOrigin), optionalString(environment)))
  return {
    apiKey,
    jwt,
    overrideBaseUrl,
    appId,
    extensionId,
    experimental_customAuth,
    experimental_setCustomAuth(customAuth) {
      return createCrossmint({ ...config, jwt: customAuth.jwt, experimental_customAuth: customAuth }, apiKeyExpectations)
    },
    setJwt(newJwt) {
      return createCrossmint({ ...config, jwt: newJwt }, apiKeyExpectations)
    },
  }
}

module.exports = { createCrossmint, optionalString }
