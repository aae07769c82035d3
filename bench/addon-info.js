'use strict'
// Which addon the bench is about to measure. `npm test` rebuilds the same
// file in debug mode, so a bench run with `node bench/run.js` alone can
// silently measure an unoptimised build; the release profile strips symbols,
// the debug profile keeps .debug_info. Read from the ELF section names.

const fs = require('node:fs')
const path = require('node:path')

const ADDON_FILE = 'crossmint-server-native.linux-x64-gnu.node'

function elfSectionNames(buffer) {
  // ELF64 little-endian only (the one target in package.json).
  if (buffer.readUInt32BE(0) !== 0x7f454c46 || buffer[4] !== 2 || buffer[5] !== 1) return null
  const sectionTableOffset = Number(buffer.readBigUInt64LE(0x28))
  const sectionEntrySize = buffer.readUInt16LE(0x3a)
  const sectionCount = buffer.readUInt16LE(0x3c)
  const namesSectionIndex = buffer.readUInt16LE(0x3e)
  const sectionHeader = (index) => sectionTableOffset + index * sectionEntrySize
  const namesOffset = Number(buffer.readBigUInt64LE(sectionHeader(namesSectionIndex) + 0x18))
  const names = []
  for (let index = 0; index < sectionCount; index++) {
    const nameStart = namesOffset + buffer.readUInt32LE(sectionHeader(index))
    names.push(buffer.toString('latin1', nameStart, buffer.indexOf(0, nameStart)))
  }
  return names
}

function describeAddon(packageRoot = path.join(__dirname, '..')) {
  const file = path.join(packageRoot, ADDON_FILE)
  if (!fs.existsSync(file)) return { file, exists: false, kind: 'missing' }
  const { size, mtime } = fs.statSync(file)
  let sections = null
  try {
    sections = elfSectionNames(fs.readFileSync(file))
  } catch {
    sections = null
  }
  let kind = 'unknown'
  if (sections) kind = sections.includes('.debug_info') ? 'debug (has .debug_info)' : 'release (no debug info)'
  return { file, exists: true, kind, isDebug: kind.startsWith('debug'), sizeMb: size / (1024 * 1024), builtAt: mtime.toISOString() }
}

module.exports = { describeAddon }
