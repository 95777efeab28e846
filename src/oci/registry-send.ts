/**
 * How a registry client reaches a registry: the scheme each registry answers on (https; plain http for loopback and
 * `plainHTTP`; probed once for `insecure`), and the request helper that sends cached authorisation and answers a 401
 * challenge once.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { discardBody } from '../http/body.js'
import type { Authenticator, AuthScope } from './auth.js'
import type { RegistryClientOptions } from './registry.js'
import type { Op } from './registry-operation.js'

const LOOPBACK_RE = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i

/**
 * One HTTP request through the client's transport; `retry` (default true) says whether it may be repeated.
 *
 * @example
 * ```ts
 * const rawFetch: RawFetch = (url, init, retry = true) => transport(url, init, { retry })
 * ```
 */
export type RawFetch = (url: string, init: RequestInit, retry?: boolean) => Promise<Response>

/**
 * One registry request, before scheme and authorisation are added.
 *
 * @example
 * ```ts
 * const req: SendRequest = { method: 'GET', scope, target: '/v2/org/app/tags/list' }
 * ```
 */
export interface SendRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE'
  readonly scope: AuthScope
  /** Path below the registry origin (`/v2/…`), or an absolute URL (upload locations, pagination). */
  readonly target: string
  readonly headers?: Record<string, string>
  /** Bytes, or a stream (a blob upload read from disk), which is sent once and never replayed. */
  readonly body?: Uint8Array | ReadableStream<Uint8Array>
  /** Whether the transport may repeat it (idempotent, replayable body); defaults to true. */
  readonly retry?: boolean
}

/**
 * A response and the URL it came from (the base for `Link` and `Location` headers).
 *
 * @example
 * ```ts
 * const { res, url }: Sent = await send(op, req)
 * ```
 */
export interface Sent {
  readonly res: Response
  readonly url: string
}

/**
 * Send a registry request with cached auth; on a 401 challenge authorise and retry once.
 *
 * @example
 * ```ts
 * const { res } = await send(op, { method: 'HEAD', scope, target: `/v2/${repo}/blobs/${digest}` })
 * ```
 */
export type Send = (op: Op, req: SendRequest) => Promise<Sent>

/**
 * What {@link createSender} needs.
 *
 * @example
 * ```ts
 * const s: SenderOptions = { rawFetch, auth, userAgent: 'countersign', options: {} }
 * ```
 */
export interface SenderOptions {
  readonly rawFetch: RawFetch
  readonly auth: Authenticator
  readonly userAgent: string
  /** Read on every request, like the rest of the client's options. */
  readonly options: Pick<RegistryClientOptions, 'insecure' | 'plainHTTP'>
}

interface Schemes {
  /** Base URL for a registry: the scheme it answered on, https until known. */
  origin(registry: string): string
  /** Whether the registry is spoken to over plain http. */
  isPlain(registry: string): boolean
  /** Fetch a path of the registry, probing https then http once for `insecure`. */
  fetch(registry: string, path: string, init: RequestInit, retry: boolean): Promise<[Response, string]>
}

function apiHost(registry: string): string {
  return registry === 'index.docker.io' || registry === 'docker.io' ? 'registry-1.docker.io' : registry
}

function createSchemes(rawFetch: RawFetch, options: SenderOptions['options']): Schemes {
  const schemes = new Map<string, 'http' | 'https'>()
  const forcedPlain = (registry: string) => {
    const p = options.plainHTTP
    if (LOOPBACK_RE.test(registry)) return true
    return typeof p === 'function' ? p(registry) : p === true
  }
  const origin = (registry: string) => `${schemes.get(registry) ?? 'https'}://${apiHost(registry)}`
  return {
    origin,
    isPlain: (registry) => schemes.get(registry) === 'http',
    async fetch(registry, path, init, retry) {
      if (forcedPlain(registry)) schemes.set(registry, 'http')
      const known = schemes.get(registry)
      if (known !== undefined || options.insecure !== true) {
        const url = `${origin(registry)}${path}`
        return [await rawFetch(url, init, retry), url]
      }
      const httpsURL = `https://${apiHost(registry)}${path}`
      try {
        const res = await rawFetch(httpsURL, init, retry)
        schemes.set(registry, 'https')
        return [res, httpsURL]
      } catch (e) {
        if (!(e instanceof CountersignError && e.code === 'ERR_NETWORK')) throw e
        const httpURL = `http://${apiHost(registry)}${path}`
        const res = await rawFetch(httpURL, init, retry)
        schemes.set(registry, 'http')
        return [res, httpURL]
      }
    },
  }
}

function requestInit(op: Op, req: SendRequest, userAgent: string, authorization: string | undefined): RequestInit {
  const headers: Record<string, string> = { 'User-Agent': userAgent, ...req.headers }
  if (authorization !== undefined) headers.Authorization = authorization
  const init: RequestInit = { method: req.method, headers, redirect: 'follow' }
  if (req.body instanceof Uint8Array) init.body = req.body as Uint8Array<ArrayBuffer>
  else if (req.body !== undefined) {
    // Fetch requires `duplex: 'half'` with a stream body. It also clones a request it may redirect, teeing the
    // body into a copy that is never read and so holds every byte sent: `redirect: 'error'` with no window is the
    // one mode that sends the request as it is (a stream could not follow a redirect anyway).
    Object.assign(init, { body: req.body, duplex: 'half', redirect: 'error', window: null })
  }
  if (op.signal !== undefined) init.signal = op.signal
  return init
}

/**
 * Create the request helper of one registry client; it remembers each registry's scheme.
 *
 * @example
 * ```ts
 * const send = createSender({ rawFetch, auth, userAgent: 'countersign', options: {} })
 * ```
 */
export function createSender({ rawFetch, auth, userAgent, options }: SenderOptions): Send {
  const schemes = createSchemes(rawFetch, options)
  return async (op, req) => {
    const registry = req.scope.registry
    const absolute = /^https?:\/\//i.test(req.target)
    const retry = req.retry ?? true
    const go = async (authorization: string | undefined): Promise<Sent> => {
      if (!absolute) {
        const init = requestInit(op, req, userAgent, authorization)
        const [res, url] = await schemes.fetch(registry, req.target, init, retry)
        return { res, url }
      }
      // Absolute URLs (upload locations, Link pages) only get credentials on the registry's own origin.
      const sameOrigin = new URL(req.target).origin === new URL(schemes.origin(registry)).origin
      const init = requestInit(op, req, userAgent, sameOrigin ? authorization : undefined)
      return { res: await rawFetch(req.target, init, retry), url: req.target }
    }
    const first = await go(auth.cached(req.scope))
    if (first.res.status !== 401) return first
    const challenge = first.res.headers.get('www-authenticate')
    if (challenge === null) return first
    await discardBody(first.res)
    const header = await auth.respond(req.scope, challenge, {
      ...(op.signal !== undefined ? { signal: op.signal } : {}),
      plainHTTP: schemes.isPlain(registry),
    })
    if (req.body !== undefined && !(req.body instanceof Uint8Array)) {
      // A stream cannot be sent twice. The new authorisation is cached now, so the caller's restarted upload
      // session sends it from its first request.
      throw new CountersignError(
        'ERR_OCI_HTTP',
        `${req.method} ${registry}: authorisation was asked for again during a streamed upload`,
        { details: { status: 401, temporary: true } },
      )
    }
    const second = await go(header)
    if (second.res.status === 401 || second.res.status === 403) auth.invalidate(req.scope)
    return second
  }
}
