'use strict'
// getAuthCookieNames: the names Crossmint's current browser client (1.3)
// stores a project's session under. The naming rule is the native half's
// (src/cookies.rs), so this, the instances' reading and their writing agree.

const native = require('./native-addon.js')

/** `{ jwt, refreshToken }` for `projectId` (see CrossmintAuth#getProjectId); the native half refuses a bad id. */
function getAuthCookieNames(projectId) {
  return native.authCookieNames(projectId === undefined ? null : projectId)
}

module.exports = { getAuthCookieNames }
