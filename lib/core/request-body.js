'use strict'
// The refresh body: already parsed by a framework (Express `req.body`,
// Fastify `request.body`, Koa body parsers' `ctx.request.body`) or read from
// the Node stream or the Fetch body, bounded in size and time.

const { koaContext, isFastifyRequest, isNodeRequest } = require('./request-response.js')

/** Largest request body read for a refresh; a refresh body is ~100 bytes. */
const MAX_BODY_BYTES = 64 * 1024

function parseJson(text) {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * The refresh body: already parsed by a framework (Express `req.body`,
 * Fastify `request.body`, Koa body parsers' `ctx.request.body`) or read from
 * the stream. Resolves undefined, never rejects, when the body is missing,
 * too large, cut off (`close`/`aborted`) or slower than `timeoutMs`.
 */
function readRefreshBody(request, timeoutMs) {
  const ctx = koaContext(request)
  if (ctx !== null) return nodeBody(ctx.request.body, ctx.req, timeoutMs)
  if (isFastifyRequest(request)) return nodeBody(request.body, request.raw, timeoutMs)
  if (isNodeRequest(request)) return nodeBody(request.body, request, timeoutMs)
  // A plain object is read as a Node request (its parsed `body`), as its
  // headers are; only a Fetch body (a stream) is read here.
  if (!isFetchBody(request)) return nodeBody(request == null ? undefined : request.body, request, timeoutMs)
  return readFetchBody(request, timeoutMs)
}

/** Whether `request` carries a Fetch body: a stream to read, not a parsed value. */
function isFetchBody(request) {
  return request != null && request.body != null && typeof request.body.getReader === 'function'
}

function nodeBody(parsed, stream, timeoutMs) {
  if (parsed !== undefined) return Promise.resolve(parsed)
  if (stream == null || stream.readableEnded || stream.destroyed || typeof stream.on !== 'function') return Promise.resolve(undefined)
  return new Promise((resolve) => {
    const chunks = []
    let size = 0
    const done = (value) => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onGone)
      stream.off('close', onGone)
      stream.off('aborted', onGone)
      resolve(value)
    }
    const onData = (chunk) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) return done(undefined)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
    }
    const onEnd = () => done(parseJson(Buffer.concat(chunks).toString('utf8')))
    const onGone = () => done(undefined)
    const timer = setTimeout(onGone, timeoutMs)
    stream.on('data', onData)
    stream.on('end', onEnd)
    stream.on('error', onGone)
    stream.on('close', onGone)
    stream.on('aborted', onGone)
  })
}

async function readFetchBody(request, timeoutMs) {
  if (!isFetchBody(request) || request.bodyUsed) return undefined
  let reader
  try {
    // Throws on a body another reader holds (locked): no body, as when used.
    reader = request.body.getReader()
  } catch {
    return undefined
  }
  let timer
  const deadline = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs)
  })
  const chunks = []
  let size = 0
  try {
    for (;;) {
      const read = await Promise.race([reader.read(), deadline])
      if (read === null || size + (read.value ? read.value.byteLength : 0) > MAX_BODY_BYTES) {
        reader.cancel().catch(() => {})
        return undefined
      }
      if (read.done) break
      size += read.value.byteLength
      chunks.push(read.value)
    }
  } catch {
    return undefined
  } finally {
    clearTimeout(timer)
  }
  return parseJson(Buffer.concat(chunks).toString('utf8'))
}

module.exports = { MAX_BODY_BYTES, readRefreshBody }
