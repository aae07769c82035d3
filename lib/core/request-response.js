'use strict'
// The request and response objects frameworks hand to a handler, recognised
// in one place: Node's IncomingMessage/ServerResponse (node:http, Express),
// Fetch Request/Response (Next.js, Hono, Deno, Bun), a Fastify request/reply
// and a Koa context (or its request/response). For each it finds what the SDK
// reads (the Cookie header) and writes (cookies, a status, the refresh
// answer) the way that framework expects, so an answer is never lost behind
// a wrapper. Request bodies are read in request-body.js.

const { IncomingMessage, ServerResponse } = require('node:http')

/** Seconds a client is asked to wait after a Crossmint outage (503). */
const RETRY_AFTER_SECONDS = 5

const isObject = (value) => value != null && typeof value === 'object'

// `instanceof` first: a prototype walk, where the property probes below miss
// V8's inline caches on Express's long prototype chains on every request.
function isNodeRequest(request) {
  return request instanceof IncomingMessage || (isObject(request) && 'httpVersion' in request)
}

function isNodeResponse(response) {
  return response instanceof ServerResponse || (isObject(response) && 'setHeader' in response)
}

function isFetchHeaders(headers) {
  return headers != null && typeof headers.get === 'function'
}

function isFetchResponse(response) {
  return response != null && response.headers != null && typeof response.headers.append === 'function'
}

function isFastifyReply(reply) {
  return (
    isObject(reply) && isNodeResponse(reply.raw) && typeof reply.header === 'function' && typeof reply.code === 'function' && typeof reply.send === 'function'
  )
}

function isFastifyRequest(request) {
  return isObject(request) && isNodeRequest(request.raw)
}

/** The Koa context behind `ctx`, `ctx.request` or `ctx.response`, else null. */
function koaContext(value) {
  if (!isObject(value)) return null
  if (isObject(value.request) && isObject(value.response) && isNodeRequest(value.req) && isNodeResponse(value.res)) {
    return value
  }
  const ctx = value.ctx
  if (isObject(ctx) && (ctx.request === value || ctx.response === value) && isNodeResponse(ctx.res)) return ctx
  return null
}

/**
 * What kind of response this is, or null for anything the SDK cannot write
 * to. Checked before any call to Crossmint: a refresh token spent for an
 * answer that cannot be delivered logs the user out.
 */
function responseKind(response) {
  if (response instanceof ServerResponse) return 'node'
  // Fastify and Koa before the duck-typed Node check: their objects are not
  // ServerResponses themselves, but a Koa context delegates `set`/`append`
  // and could look like one.
  if (isFastifyReply(response)) return 'fastify'
  if (koaContext(response) !== null) return 'koa'
  if (isNodeResponse(response)) return 'node'
  if (isFetchResponse(response)) return 'fetch'
  return null
}

function describe(value) {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  const name = value.constructor && value.constructor.name
  return name ? `a ${name}` : 'an object'
}

/** Throws, before anything is done, when `response` is given but unusable. */
function assertResponse(response, method) {
  if (response == null || responseKind(response) !== null) return
  throw new TypeError(
    `${method}: cannot write to the response given (${describe(response)}). Pass a Node ServerResponse ` +
      '(node:http, Express res), a Fetch Response, a Fastify reply or a Koa ctx; or omit it.',
  )
}

/**
 * Whether `response` is a Fetch Response with immutable headers
 * (`Response.redirect()`, `Response.error()`, a `fetch()` answer): cookies
 * written to it throw.
 */
function hasImmutableHeaders(response) {
  if (typeof Response !== 'function' || !(response instanceof Response)) return false
  try {
    // Deleting a header the response does not have changes nothing, and
    // throws only when the headers are immutable.
    response.headers.delete('x-crossmint-writable-probe')
    return false
  } catch (error) {
    if (error instanceof TypeError) return true
    throw error
  }
}

/**
 * Why `response` cannot take cookies now (immutable headers, or a server
 * response whose headers went out), or undefined when it can.
 */
function unwritableReason(response) {
  if (headersSent(response)) return "the response's headers were already sent"
  if (hasImmutableHeaders(response)) return 'the Response given has immutable headers (Response.redirect(), Response.error() or a fetch() answer)'
  return undefined
}

/** The raw `Cookie` header, or null when the request has none. */
function cookieHeader(request) {
  const headers = request == null ? undefined : request.headers
  if (headers == null) return null
  const value = isFetchHeaders(headers) ? headers.get('cookie') : headers.cookie
  if (value == null) return null
  return Array.isArray(value) ? value.join('; ') : String(value)
}

/**
 * Adds `cookies` to a Node response's Set-Cookie headers, after what the app
 * set already (a CSRF cookie, its own session), as the other kinds of
 * response do; the reference replaced them.
 */
function addNodeSetCookies(response, cookies) {
  const existing = typeof response.getHeader === 'function' ? response.getHeader('Set-Cookie') : undefined
  response.setHeader('Set-Cookie', existing == null ? cookies : [].concat(existing, cookies))
}

/** Appends Set-Cookie headers in the response's own way. */
function setCookies(response, cookies) {
  switch (responseKind(response)) {
    case 'node':
      addNodeSetCookies(response, cookies)
      return
    case 'fetch':
      for (const cookie of cookies) response.headers.append('Set-Cookie', cookie)
      return
    case 'fastify': {
      // Fastify collects set-cookie values and writes them with its answer;
      // a route that hijacks the reply (streaming on `reply.raw`) never sends
      // those, so they go on the raw response too. When Fastify answers, the
      // headers it passes to writeHead replace the raw ones of the same name:
      // each cookie is sent once either way.
      response.header('set-cookie', cookies)
      if (!response.raw.headersSent) addNodeSetCookies(response.raw, cookies)
      return
    }
    case 'koa':
      koaContext(response).response.append('Set-Cookie', cookies)
      return
    default:
      assertResponse(response, 'storeAuthMaterial')
  }
}

function headersSent(response) {
  switch (responseKind(response)) {
    case 'node':
      return Boolean(response.headersSent)
    case 'fastify':
      return Boolean(response.sent || response.raw.headersSent)
    case 'koa':
      return Boolean(koaContext(response).res.headersSent)
    default:
      return false
  }
}

/**
 * Writes a JSON answer for a server-side response and returns what the caller
 * should hand back: the Node response (written, not ended, as the reference
 * leaves it), the Fastify reply (sent), or the Koa context (body set; Koa
 * sends it). Fetch answers are built by the caller.
 */
function writeJsonAnswer(response, { status, statusText, json, headers = {} }) {
  const kind = responseKind(response)
  if (kind === 'node') {
    if (!response.headersSent) {
      // Frameworks such as Koa preset 404; success must say 200 itself.
      response.statusCode = status
      if (statusText !== undefined) response.statusMessage = statusText
      response.setHeader('Content-Type', 'application/json')
      for (const name in headers) response.setHeader(name, headers[name])
    }
    response.write(json)
    return response
  }
  if (kind === 'fastify') {
    if (headersSent(response)) return response
    response.code(status)
    response.header('content-type', 'application/json')
    for (const name in headers) response.header(name, headers[name])
    response.send(json)
    return response
  }
  if (kind === 'koa') {
    const { response: koaResponse } = koaContext(response)
    koaResponse.status = status
    koaResponse.type = 'application/json'
    for (const name in headers) koaResponse.set(name, headers[name])
    koaResponse.body = json
    return response
  }
  throw new TypeError('writeJsonAnswer expects a server-side response')
}

/**
 * What an async call that wrote to `response` resolves with: the response
 * itself, except a Fastify reply, which is a thenable that settles only once
 * it is sent: resolving a promise with it would wait for a `reply.send()` the
 * caller can only make after that promise settles.
 */
function settledValue(response) {
  return isFastifyReply(response) ? undefined : response
}

/** A success that writes no body (logout): the status says 200 where a framework preset another. */
function markSuccess(response) {
  const kind = responseKind(response)
  if (kind === 'node' && !response.headersSent) response.statusCode = 200
  else if (kind === 'fastify' && !headersSent(response)) response.code(200)
  else if (kind === 'koa') koaContext(response).response.status = 200
}

module.exports = {
  RETRY_AFTER_SECONDS,
  koaContext,
  isFastifyRequest,
  isNodeRequest,
  isNodeResponse,
  isFetchResponse,
  responseKind,
  assertResponse,
  unwritableReason,
  cookieHeader,
  setCookies,
  headersSent,
  writeJsonAnswer,
  markSuccess,
  settledValue,
}
