'use strict'
// `crossmint-server-native/testing`: the local Crossmint emulator, so apps can
// test their own protected routes offline.
module.exports = require('../../testing/emulator.js')
