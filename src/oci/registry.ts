/**
 * OCI distribution-spec registry client implementing {@link OCIStore} over an injectable `fetch`.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { type Authenticator, type AuthScope, type CredentialProvider, createAuthenticator } from './auth.js'
import { computeDigest, isDigest, parseDigest, verifyDigest } from './digest.js'
import { MAX_MANIFEST_BYTES, manifestMediaType, parseManifest } from './manifest.js'
import { isIndexMediaType, isManifestMediaType, MANIFEST_ACCEPT_HEADER } from './media-types.js'
import { repositoryName } from './reference.js'
import { discardBody, readLimited, registryError, registryErrorFromParts } from './registry-errors.js'
import type {
  Descriptor,
  FetchBlobOptions,
  FetchedManifest,
  OCIStore,
  Reference,
  Repository,
  StoreCallOptions,
} from './types.js'

/**
 * What the {@link RegistryClientOptions.onRequest} hook is told about each HTTP request.
 *
 * @example
 * ```ts
 * createRegistryClient({ onRequest: (info: RegistryRequestInfo) => console.log(info.method, info.status) })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RegistryRequestInfo {
  readonly method: string
  /** Origin and path only: the query string is dropped because upload URLs may carry signed state. */
  readonly url: string
  /** HTTP status, or 0 when the request failed before a response. */
  readonly status: number
}

/**
 * Options for {@link createRegistryClient}.
 *
 * @example
 * ```ts
 * createRegistryClient({ timeoutMs: 30_000, plainHTTP: (r) => r === 'registry.local:5000' })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RegistryClientOptions {
  /** The fetch implementation; defaults to `globalThis.fetch`. */
  readonly fetch?: typeof fetch
  /** Where credentials come from; anonymous when absent. */
  readonly credentials?: CredentialProvider
  /**
   * Try https and fall back to http when the connection fails (ggcr `name.Insecure`). Skipping TLS
   * verification is the caller's job (a custom `fetch`, e.g. from `countersign/node`).
   */
  readonly insecure?: boolean
  /** Speak plain http to all registries, or to those the function selects. Loopback hosts always use http. */
  readonly plainHTTP?: boolean | ((registry: string) => boolean)
  /** `User-Agent` header; defaults to `countersign`. */
  readonly userAgent?: string
  /** Largest manifest to read; defaults to {@link MAX_MANIFEST_BYTES} (4 MiB). */
  readonly maxManifestBytes?: number
  /** Default largest blob for `fetchBlob` without `maxSize`; defaults to 128 MiB (cosign's attachment limit). */
  readonly maxBlobBytes?: number
  /** Per-operation timeout in milliseconds (covers auth round trips and the body); none by default. */
  readonly timeoutMs?: number
  /** Most `tags/list` pages followed through `Link` headers; defaults to 100. */
  readonly tagListMaxPages?: number
  /** Called after every HTTP request (including token requests), e.g. to count them. */
  readonly onRequest?: (info: RegistryRequestInfo) => void
  /** Clock for token expiry; defaults to `Date.now`. */
  readonly now?: () => number
}

/**
 * The registry client: an {@link OCIStore} with `kind: 'registry'`.
 *
 * @example
 * ```ts
 * const registry: RegistryClient = createRegistryClient()
 * ```
 *
 * Exported from `countersign/oci`.
 */
export type RegistryClient = OCIStore & { readonly kind: 'registry' }

const DEFAULT_MAX_BLOB_BYTES = 128 * 1024 * 1024
const MAX_TAG_PAGE_BYTES = 4 * 1024 * 1024
const LOOPBACK_RE = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i

interface Op {
  readonly signal: AbortSignal | undefined
}

interface SendRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST'
  readonly scope: AuthScope
  /** Path below the registry origin (`/v2/…`), or an absolute URL (upload locations, pagination). */
  readonly target: string
  readonly headers?: Record<string, string>
  readonly body?: Uint8Array
}

function safeURL(u: string): string {
  // Drop query and fragment from messages: upload URLs carry opaque state.
  try {
    const url = new URL(u)
    return `${url.origin}${url.pathname}`
  } catch {
    return '(invalid URL)'
  }
}

function contentType(res: Response): string | undefined {
  const ct = res.headers.get('content-type')
  if (ct === null) return undefined
  return ct.split(';')[0]!.trim().toLowerCase()
}

function headerDigest(res: Response): string | undefined {
  const h = res.headers.get('docker-content-digest')
  return h === null ? undefined : h.trim()
}

function parseLength(res: Response): number | undefined {
  const cl = res.headers.get('content-length')
  if (cl === null || !/^\d{1,15}$/.test(cl.trim())) return undefined
  return Number(cl.trim())
}

function mismatch(message: string, expected: string, actual: string): CountersignError {
  return new CountersignError('ERR_OCI_DIGEST_MISMATCH', message, { details: { expected, actual } })
}

function nextLink(res: Response, current: string): string | undefined {
  const link = res.headers.get('link')
  if (link === null) return undefined
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part)
    if (m && /;\s*rel="?next"?/i.test(m[2]!)) {
      try {
        return new URL(m[1]!, current).href
      } catch {
        throw new CountersignError('ERR_OCI_HTTP', 'registry sent an invalid Link header')
      }
    }
  }
  return undefined
}

/**
 * Create a registry client (OCI distribution-spec v1.1) that implements {@link OCIStore}.
 *
 * Transport: https, except plain http for `localhost`, `127.0.0.1` and `[::1]` (any port) and for registries
 * `plainHTTP` selects; `insecure` tries https first and falls back to http when the connection fails. Docker
 * Hub (`index.docker.io`, `docker.io`) is reached at `registry-1.docker.io`.
 *
 * Auth: a 401 with a challenge triggers Basic or Bearer authorisation (`pull` for reads, `pull,push` for
 * writes) and one retry; the result is cached so later calls send it up front.
 *
 * Integrity: everything fetched by digest is digest-checked; manifests fetched by tag are returned with their
 * computed digest, and a `Docker-Content-Digest` header that disagrees is an error.
 *
 * @throws {CountersignError} from its methods: ERR_OCI_NOT_FOUND, ERR_OCI_UNAUTHORIZED, ERR_OCI_HTTP,
 * ERR_OCI_DIGEST_MISMATCH, ERR_OCI_SIZE_LIMIT, ERR_OCI_MANIFEST_INVALID, ERR_NETWORK, ERR_ABORTED.
 * @example
 * ```ts
 * import { createRegistryClient, parseReference } from 'countersign/oci'
 * const registry = createRegistryClient()
 * const { descriptor } = await registry.fetchManifest(parseReference('alpine:3.20'))
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function createRegistryClient(options: RegistryClientOptions = {}): RegistryClient {
  const baseFetch: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const userAgent = options.userAgent ?? 'countersign'
  const maxManifestBytes = options.maxManifestBytes ?? MAX_MANIFEST_BYTES
  const maxBlobBytes = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES
  const maxPages = options.tagListMaxPages ?? 100
  const schemes = new Map<string, 'http' | 'https'>()

  // Every HTTP request goes through here: counting, and turning fetch failures into ERR_NETWORK.
  const rawFetch = async (url: string, init: RequestInit): Promise<Response> => {
    const method = init.method ?? 'GET'
    let res: Response
    try {
      res = await baseFetch(url, init)
    } catch (cause) {
      options.onRequest?.({ method, url: safeURL(url), status: 0 })
      if (init.signal?.aborted) throw cause // mapped to ERR_ABORTED / timeout by the operation wrapper
      throw new CountersignError(
        'ERR_NETWORK',
        `${method} ${safeURL(url)} failed: could not connect or the connection broke${networkReason(cause)}`,
        { cause },
      )
    }
    options.onRequest?.({ method, url: safeURL(url), status: res.status })
    return res
  }

  const auth: Authenticator = createAuthenticator({
    fetch: rawFetch,
    ...(options.credentials !== undefined ? { credentials: options.credentials } : {}),
    userAgent,
    ...(options.now !== undefined ? { now: options.now } : {}),
  })

  const apiHost = (registry: string) =>
    registry === 'index.docker.io' || registry === 'docker.io' ? 'registry-1.docker.io' : registry

  const forcedPlain = (registry: string) => {
    const p = options.plainHTTP
    if (LOOPBACK_RE.test(registry)) return true
    return typeof p === 'function' ? p(registry) : p === true
  }

  /** Run one store operation with the caller's signal and the timeout, mapping aborts to error codes. */
  const operation = async <T>(callOptions: StoreCallOptions | undefined, fn: (op: Op) => Promise<T>): Promise<T> => {
    const callerSignal = callOptions?.signal
    if (callerSignal?.aborted)
      throw new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: callerSignal.reason })
    const timeoutMs = options.timeoutMs
    if (callerSignal === undefined && timeoutMs === undefined) return fn({ signal: undefined })
    const controller = new AbortController()
    let timedOut = false
    const onAbort = () => controller.abort(callerSignal?.reason)
    callerSignal?.addEventListener('abort', onAbort, { once: true })
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            controller.abort(new DOMException('the registry operation timed out', 'TimeoutError'))
          }, timeoutMs)
    try {
      return await fn({ signal: controller.signal })
    } catch (e) {
      if (callerSignal?.aborted) throw new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: e })
      if (timedOut)
        throw new CountersignError('ERR_NETWORK', `the registry operation timed out after ${timeoutMs} ms`, {
          cause: e,
        })
      throw e
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      callerSignal?.removeEventListener('abort', onAbort)
    }
  }

  /** Base URL for a registry, probing https then http once for `insecure`. */
  const origin = (registry: string) => `${schemes.get(registry) ?? 'https'}://${apiHost(registry)}`

  const fetchWithScheme = async (registry: string, path: string, init: RequestInit): Promise<[Response, string]> => {
    if (forcedPlain(registry)) schemes.set(registry, 'http')
    const known = schemes.get(registry)
    if (known !== undefined || options.insecure !== true) {
      const url = `${origin(registry)}${path}`
      return [await rawFetch(url, init), url]
    }
    const httpsURL = `https://${apiHost(registry)}${path}`
    try {
      const res = await rawFetch(httpsURL, init)
      schemes.set(registry, 'https')
      return [res, httpsURL]
    } catch (e) {
      if (!(e instanceof CountersignError && e.code === 'ERR_NETWORK')) throw e
      const httpURL = `http://${apiHost(registry)}${path}`
      const res = await rawFetch(httpURL, init)
      schemes.set(registry, 'http')
      return [res, httpURL]
    }
  }

  /** Send a request with cached auth; on a 401 challenge authorise and retry once. */
  const send = async (op: Op, req: SendRequest): Promise<{ res: Response; url: string }> => {
    const registry = req.scope.registry
    const absolute = /^https?:\/\//i.test(req.target)
    const build = (authorization: string | undefined): RequestInit => {
      const headers: Record<string, string> = { 'User-Agent': userAgent, ...req.headers }
      if (authorization !== undefined) headers.Authorization = authorization
      const init: RequestInit = { method: req.method, headers, redirect: 'follow' }
      if (req.body !== undefined) init.body = req.body as Uint8Array<ArrayBuffer>
      if (op.signal !== undefined) init.signal = op.signal
      return init
    }
    const go = async (authorization: string | undefined): Promise<{ res: Response; url: string }> => {
      if (!absolute) {
        const [res, url] = await fetchWithScheme(registry, req.target, build(authorization))
        return { res, url }
      }
      // Absolute URLs (upload locations, Link pages) only get credentials on the registry's own origin.
      const sameOrigin = new URL(req.target).origin === new URL(origin(registry)).origin
      return { res: await rawFetch(req.target, build(sameOrigin ? authorization : undefined)), url: req.target }
    }
    const cached = auth.cached(req.scope)
    const first = await go(cached)
    if (first.res.status !== 401) return first
    const challenge = first.res.headers.get('www-authenticate')
    if (challenge === null) return first
    await discardBody(first.res)
    const header = await auth.respond(req.scope, challenge, {
      ...(op.signal !== undefined ? { signal: op.signal } : {}),
      plainHTTP: schemes.get(registry) === 'http',
    })
    const second = await go(header)
    if (second.res.status === 401 || second.res.status === 403) auth.invalidate(req.scope)
    return second
  }

  const scopeOf = (repo: Repository, actions: AuthScope['actions']): AuthScope => ({
    registry: repo.registry,
    repository: repo.repository,
    actions,
  })

  const v2 = (repo: Repository, rest: string) => `/v2/${repo.repository}/${rest}`

  const manifestTarget = (ref: Reference): string => {
    const id = ref.digest ?? ref.tag
    if (id === undefined) throw new CountersignError('ERR_INVALID_INPUT', 'reference needs a tag or a digest')
    return id
  }

  const describe = (method: string, what: string, ref: Repository, id?: string) =>
    `${method} ${what} ${repositoryName(ref)}${id === undefined ? '' : id.includes(':') ? `@${id}` : `:${id}`}`

  const fail = async (res: Response, what: string): Promise<never> => {
    throw await registryError(res, { what })
  }

  const getManifest = async (op: Op, ref: Reference): Promise<FetchedManifest> => {
    const id = manifestTarget(ref)
    const what = describe('GET', 'manifest', ref, id)
    const { res } = await send(op, {
      method: 'GET',
      scope: scopeOf(ref, 'pull'),
      target: v2(ref, `manifests/${id}`),
      headers: { Accept: MANIFEST_ACCEPT_HEADER },
    })
    if (res.status !== 200) await fail(res, what)
    const bytes = await readLimited(res, maxManifestBytes, 'manifest')
    const fromHeader = headerDigest(res)
    const algorithm = ref.digest !== undefined ? parseDigest(ref.digest).algorithm : 'sha256'
    const digest = await computeDigest(bytes, algorithm)
    if (ref.digest !== undefined && digest !== ref.digest) {
      throw mismatch(`${what}: content digest ${digest} does not match the requested digest`, ref.digest, digest)
    }
    if (fromHeader !== undefined) {
      let headerAlgorithm: 'sha256' | 'sha512'
      try {
        headerAlgorithm = parseDigest(fromHeader).algorithm
      } catch {
        throw mismatch(`${what}: registry sent an invalid Docker-Content-Digest`, fromHeader.slice(0, 200), digest)
      }
      const check = headerAlgorithm === algorithm ? digest : await computeDigest(bytes, headerAlgorithm)
      if (check !== fromHeader) {
        throw mismatch(
          `${what}: Docker-Content-Digest ${fromHeader} does not match the content (${check})`,
          fromHeader,
          check,
        )
      }
    }
    const hint = contentType(res)
    const manifest = parseManifest(bytes, hint)
    return { descriptor: { mediaType: manifestMediaType(manifest, hint), digest, size: bytes.length }, bytes, manifest }
  }

  const client: RegistryClient = {
    kind: 'registry',

    resolve(ref, callOptions) {
      return operation(callOptions, async (op) => {
        const id = manifestTarget(ref)
        const what = describe('HEAD', 'manifest', ref, id)
        const { res } = await send(op, {
          method: 'HEAD',
          scope: scopeOf(ref, 'pull'),
          target: v2(ref, `manifests/${id}`),
          headers: { Accept: MANIFEST_ACCEPT_HEADER },
        })
        await discardBody(res)
        if (res.status !== 200) throw registryErrorFromParts(res.status, [], { what })
        const digest = headerDigest(res)
        const size = parseLength(res)
        const mediaType = contentType(res)
        const usable =
          digest !== undefined &&
          isDigest(digest) &&
          size !== undefined &&
          size <= maxManifestBytes &&
          mediaType !== undefined &&
          (isManifestMediaType(mediaType) || isIndexMediaType(mediaType))
        if (!usable) {
          // Some registries omit headers on HEAD; ggcr falls back to GET as well.
          return (await getManifest(op, ref)).descriptor
        }
        if (ref.digest !== undefined && digest !== ref.digest) {
          throw mismatch(`${what}: registry reports digest ${digest}`, ref.digest, digest)
        }
        return { mediaType, digest, size }
      })
    },

    fetchManifest(ref, callOptions) {
      return operation(callOptions, (op) => getManifest(op, ref))
    },

    pushManifest(ref, bytes, mediaType, callOptions) {
      return operation(callOptions, async (op) => {
        if (bytes.length > maxManifestBytes) {
          throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest is larger than ${maxManifestBytes} bytes`)
        }
        parseManifest(bytes, mediaType)
        const algorithm = ref.digest !== undefined ? parseDigest(ref.digest).algorithm : 'sha256'
        const digest = await computeDigest(bytes, algorithm)
        if (ref.digest !== undefined && ref.digest !== digest) {
          throw mismatch(`manifest digest ${digest} does not match the reference digest`, ref.digest, digest)
        }
        const id = ref.tag ?? digest
        const what = describe('PUT', 'manifest', ref, id)
        const { res } = await send(op, {
          method: 'PUT',
          scope: scopeOf(ref, 'pull,push'),
          target: v2(ref, `manifests/${id}`),
          headers: { 'Content-Type': mediaType },
          body: bytes,
        })
        if (res.status < 200 || res.status > 299) await fail(res, what)
        await discardBody(res)
        const reported = headerDigest(res)
        if (reported !== undefined && algorithm === 'sha256' && reported !== digest) {
          throw mismatch(`${what}: registry stored digest ${reported}, expected ${digest}`, digest, reported)
        }
        return { mediaType, digest, size: bytes.length }
      })
    },

    blobExists(repo, digest, callOptions) {
      return operation(callOptions, async (op) => {
        parseDigest(digest)
        return blobHead(op, repo, digest, 'pull')
      })
    },

    fetchBlob(repo, digest, callOptions?: FetchBlobOptions) {
      return operation(callOptions, async (op) => {
        parseDigest(digest)
        const max = callOptions?.maxSize ?? maxBlobBytes
        const what = describe('GET', 'blob', repo, digest)
        const { res } = await send(op, {
          method: 'GET',
          scope: scopeOf(repo, 'pull'),
          target: v2(repo, `blobs/${digest}`),
        })
        if (res.status !== 200) await fail(res, what)
        const bytes = await readLimited(res, max, 'blob')
        await verifyDigest(bytes, digest)
        return bytes
      })
    },

    pushBlob(repo, bytes, mediaType, callOptions) {
      return operation(callOptions, async (op) => {
        const digest = await computeDigest(bytes)
        const descriptor: Descriptor = { mediaType, digest, size: bytes.length }
        if (await blobHead(op, repo, digest, 'pull,push')) return descriptor
        const scope = scopeOf(repo, 'pull,push')
        const start = await send(op, {
          method: 'POST',
          scope,
          target: v2(repo, 'blobs/uploads/'),
          // An explicit empty body makes fetch send Content-Length: 0 (the header itself is forbidden in browsers).
          body: new Uint8Array(0),
        })
        const what = describe('POST', 'blob upload', repo)
        if (start.res.status !== 202) await fail(start.res, what)
        await discardBody(start.res)
        const location = start.res.headers.get('location')
        if (location === null) throw new CountersignError('ERR_OCI_HTTP', `${what}: registry sent no Location header`)
        let upload: URL
        try {
          upload = new URL(location, start.url)
        } catch {
          throw new CountersignError('ERR_OCI_HTTP', `${what}: registry sent an invalid Location header`)
        }
        if (upload.protocol !== 'https:' && upload.protocol !== 'http:') {
          throw new CountersignError('ERR_OCI_HTTP', `${what}: upload location has scheme ${upload.protocol}`)
        }
        if (upload.protocol === 'http:' && new URL(start.url).protocol === 'https:') {
          throw new CountersignError('ERR_OCI_HTTP', `${what}: refusing an upload location that downgrades to http`)
        }
        upload.hash = ''
        const put = `${upload.href}${upload.search === '' ? '?' : '&'}digest=${encodeURIComponent(digest)}`
        const done = await send(op, {
          method: 'PUT',
          scope,
          target: put,
          headers: { 'Content-Type': 'application/octet-stream' },
          body: bytes,
        })
        if (done.res.status !== 201 && done.res.status !== 204 && done.res.status !== 200) {
          await fail(done.res, describe('PUT', 'blob', repo, digest))
        }
        await discardBody(done.res)
        const reported = headerDigest(done.res)
        if (reported !== undefined && reported !== digest) {
          throw mismatch(`registry stored blob digest ${reported}, expected ${digest}`, digest, reported)
        }
        return descriptor
      })
    },

    listTags(repo, callOptions) {
      return operation(callOptions, async (op) => {
        const tags: string[] = []
        let target = v2(repo, 'tags/list')
        const what = describe('GET', 'tags of', repo)
        for (let page = 1; ; page++) {
          const { res, url } = await send(op, {
            method: 'GET',
            scope: scopeOf(repo, 'pull'),
            target,
            headers: { Accept: 'application/json' },
          })
          if (res.status !== 200) await fail(res, what)
          const body = await readLimited(res, MAX_TAG_PAGE_BYTES, 'tag list page')
          let doc: unknown
          try {
            doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body))
          } catch {
            throw new CountersignError('ERR_OCI_HTTP', `${what}: response is not valid JSON`, {
              details: { status: 200 },
            })
          }
          const list = typeof doc === 'object' && doc !== null ? (doc as { tags?: unknown }).tags : undefined
          if (list !== null && list !== undefined) {
            if (!Array.isArray(list) || !list.every((t) => typeof t === 'string')) {
              throw new CountersignError('ERR_OCI_HTTP', `${what}: "tags" is not an array of strings`)
            }
            tags.push(...(list as string[]))
          }
          const next = nextLink(res, url)
          if (next === undefined) return tags
          // oras-go TagListMaxPages: a hostile registry must not be able to keep us paging forever.
          if (page >= maxPages) {
            throw new CountersignError('ERR_OCI_SIZE_LIMIT', `${what}: more than ${maxPages} pages of tags`)
          }
          if (new URL(next).origin !== new URL(url).origin) {
            throw new CountersignError('ERR_OCI_HTTP', `${what}: refusing a pagination link to another origin`)
          }
          target = next
        }
      })
    },
  }

  const blobHead = async (
    op: Op,
    repo: Repository,
    digest: string,
    actions: AuthScope['actions'],
  ): Promise<boolean> => {
    const { res } = await send(op, {
      method: 'HEAD',
      scope: scopeOf(repo, actions),
      target: v2(repo, `blobs/${digest}`),
    })
    await discardBody(res)
    if (res.status === 200) return true
    if (res.status === 404) return false
    throw registryErrorFromParts(res.status, [], { what: describe('HEAD', 'blob', repo, digest) })
  }

  return client
}

/**
 * The low-level reason behind a failed fetch (fetch wraps it as `cause`: ECONNREFUSED, a TLS verification code …),
 * so "self-signed certificate" reaches the user instead of just "fetch failed". Only codes and fixed messages from
 * the runtime are used; URLs and headers never are.
 */
function networkReason(error: unknown): string {
  const inner = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  const code = typeof inner?.code === 'string' ? inner.code : undefined
  const message = typeof inner?.message === 'string' ? inner.message.slice(0, 200) : undefined
  if (code && message) return ` (${code}: ${message})`
  return code || message ? ` (${code ?? message})` : ''
}
