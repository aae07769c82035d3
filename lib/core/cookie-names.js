'use strict'
// getAuthCookieNames: the names Crossmint's current browser client (1.3)
// stores a project's session under. The naming rule is the native half's
// (src/cookies.rs), so this, the instances' reading and their writing agree.

const native = require('./native-addon.js')

/** `{ jwt, refreshToken }` for `projectId` (see CrossmintAuth#getProjectId). */
function getAuthCookieNames(projectId) {
  if (typeof projectId !== 'string' || projectId === '') throw new TypeError('getAuthCookieNames expects a project id (a non-empty string)')
  return native.authCookieNames(projectId)
}

module.exports = { getAuthCookieNames }
