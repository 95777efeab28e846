/**
 * OCI distribution-spec registry client implementing {@link OCIStore} over an injectable `fetch`.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { discardBody, readLimited } from '../http/body.js'
import { backoffDelay, createTransport, defaultSleep, type RetryOptions } from '../http/transport.js'
import { type Authenticator, type AuthScope, type CredentialProvider, createAuthenticator } from './auth.js'
import {
  checkDeclaredSize,
  collectStream,
  type HasherFactory,
  nobleHasher,
  verifiedBlobStream,
} from './blob-download.js'
import { type BlobSource, type UploadSend, uploadBlob } from './blob-upload.js'
import { computeDigest, isDigest, parseDigest } from './digest.js'
import { MAX_MANIFEST_BYTES, manifestMediaType, parseManifest } from './manifest.js'
import {
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT_HEADER,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
} from './media-types.js'
import { repositoryName } from './reference.js'
import { parseRegistryErrors, registryError, registryErrorFromParts } from './registry-errors.js'
import { contentType, headerDigest, nextLink, parseLength } from './transport-headers.js'
import type {
  Descriptor,
  FetchBlobOptions,
  FetchedManifest,
  OCIStore,
  PushedManifest,
  Reference,
  Repository,
  StoreCallOptions,
} from './types.js'

/**
 * What the {@link RegistryClientOptions.onRequest} hook is told about each HTTP request. Every attempt counts:
 * a request retried after a 503 is reported twice.
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
  /** 0 for a request's first attempt, 1 for its first retry, … */
  readonly attempt?: number
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
  /** Per-operation timeout in milliseconds (covers auth round trips, retries and the body); none by default. */
  readonly timeoutMs?: number
  /**
   * Per-request timeout in milliseconds: how long one attempt may wait for response headers. A request that
   * times out counts as a failed attempt and is retried when it is idempotent. None by default.
   */
  readonly requestTimeoutMs?: number
  /** Retries on 429/502/503/504 and on connections reset before a response; 3 retries by default. */
  readonly retry?: RetryOptions
  /** The sleep used between retries (injectable for tests); defaults to an abortable `setTimeout`. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Most requests waiting for response headers at once, per host; defaults to 8. */
  readonly maxConcurrency?: number
  /** Blobs larger than this are uploaded in `PATCH` chunks of this size; defaults to 8 MiB. */
  readonly chunkSize?: number
  /** Incremental hash for blob downloads; defaults to `@noble/hashes` (pass a native one on Node for speed). */
  readonly hasher?: HasherFactory
  /** Most `tags/list` pages followed through `Link` headers; defaults to 100. */
  readonly tagListMaxPages?: number
  /** Most Referrers API pages followed through `Link` headers; defaults to 100. */
  readonly referrersMaxPages?: number
  /** Called after every HTTP request attempt (including token requests and retries), e.g. to count them. */
  readonly onRequest?: (info: RegistryRequestInfo) => void
  /** Clock for token expiry and `Retry-After` dates; defaults to `Date.now`. */
  readonly now?: () => number
}

/**
 * Progress callback: bytes transferred so far and the total when known.
 *
 * @example
 * ```ts
 * const onProgress: ProgressCallback = (done, total) => console.log(`${done}/${total ?? '?'}`)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export type ProgressCallback = (done: number, total: number | undefined) => void

/**
 * Options for {@link RegistryClient.pushBlob}.
 *
 * @example
 * ```ts
 * const o: PushBlobOptions = { mountFrom: parseRepository('ghcr.io/org/base'), onProgress: console.log }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface PushBlobOptions extends StoreCallOptions {
  /**
   * The blob's digest: required for a stream; for bytes it saves hashing them. Either way the registry checks
   * it when the upload completes (a mismatch is ERR_OCI_HTTP with `DIGEST_INVALID`).
   */
  readonly digest?: string
  /** The blob's size in bytes: required for a stream (the upload fails if the stream holds more or less). */
  readonly size?: number
  /**
   * Try a cross-repository mount from this repository (same registry) before uploading: a 201 ends the push
   * without sending any bytes; a 202 continues with a normal upload.
   */
  readonly mountFrom?: Repository
  readonly onProgress?: ProgressCallback
}

/**
 * Options for {@link RegistryClient.fetchBlob} and {@link RegistryClient.fetchBlobStream}.
 *
 * @example
 * ```ts
 * const o: RegistryFetchBlobOptions = { maxSize: 512 * 1024 * 1024, onProgress: (d, t) => {} }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RegistryFetchBlobOptions extends FetchBlobOptions {
  readonly onProgress?: ProgressCallback
}

/**
 * The registry client: an {@link OCIStore} with `kind: 'registry'`, plus streaming blob transfer.
 *
 * @example
 * ```ts
 * const registry: RegistryClient = createRegistryClient()
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RegistryClient extends OCIStore {
  readonly kind: 'registry'
  /**
   * Upload a blob unless it already exists (HEAD first): bytes, or a stream with `size` and `digest` given.
   * Blobs above `chunkSize` go up in PATCH chunks; `mountFrom` tries a cross-repository mount first. A failed
   * session is restarted (within the retry budget) when the content can be replayed: always for bytes, for a
   * stream only if none of it was read yet.
   */
  pushBlob(repo: Repository, source: BlobSource, mediaType: string, options?: PushBlobOptions): Promise<Descriptor>
  /** Fetch a whole blob. It is returned only after its digest matched; it is never returned in part. */
  fetchBlob(repo: Repository, digest: string, options?: RegistryFetchBlobOptions): Promise<Uint8Array>
  /**
   * Fetch a blob as a stream, hashed as it flows. The final chunk is held back until the digest matched: on a
   * mismatch the stream errors with ERR_OCI_DIGEST_MISMATCH instead of closing, so a consumer that waits for
   * the end never accepts bad content. No size limit unless `maxSize` is given. A broken connection is
   * resumed with a `Range` request.
   */
  fetchBlobStream(
    repo: Repository,
    digest: string,
    options?: RegistryFetchBlobOptions,
  ): Promise<ReadableStream<Uint8Array>>
}

const DEFAULT_MAX_BLOB_BYTES = 128 * 1024 * 1024
const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
const MAX_TAG_PAGE_BYTES = 4 * 1024 * 1024
/** Retries of a manifest PUT refused with DIGEST_INVALID during a concurrent blob commit (see pushManifest). */
const MANIFEST_RACE_RETRIES = 3
const MAX_REFERRERS_PAGE_BYTES = 4 * 1024 * 1024
const LOOPBACK_RE = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::\d{1,5})?$/i
/** Answers to `GET /v2/<name>/referrers/<digest>` that mean "no Referrers API" (ggcr referrers.go, plus 405). */
const NO_REFERRERS_API: ReadonlySet<number> = new Set([200, 400, 404, 405, 406])

interface Op {
  readonly signal: AbortSignal | undefined
}

interface SendRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE'
  readonly scope: AuthScope
  /** Path below the registry origin (`/v2/…`), or an absolute URL (upload locations, pagination). */
  readonly target: string
  readonly headers?: Record<string, string>
  readonly body?: Uint8Array
  /** Whether the transport may repeat it (idempotent, replayable body); defaults to true. */
  readonly retry?: boolean
}

function mismatch(message: string, expected: string, actual: string): CountersignError {
  return new CountersignError('ERR_OCI_DIGEST_MISMATCH', message, { details: { expected, actual } })
}

/** Whether a failed upload session is worth starting again. */
function retryableUpload(e: unknown): boolean {
  if (!(e instanceof CountersignError)) return false
  if (e.code === 'ERR_NETWORK') return true
  return e.code === 'ERR_OCI_HTTP' && e.details?.temporary === true
}

/**
 * Create a registry client (OCI distribution-spec v1.1) that implements {@link OCIStore}.
 *
 * Transport: https, except plain http for `localhost`, `127.0.0.1` and `[::1]` (any port) and for registries
 * `plainHTTP` selects; `insecure` tries https first and falls back to http when the connection fails. Docker
 * Hub (`index.docker.io`, `docker.io`) is reached at `registry-1.docker.io`. Idempotent requests are retried on
 * 429/502/503/504 and on connection resets with full-jitter backoff, honouring `Retry-After`; at most
 * `maxConcurrency` requests per host wait for headers at once.
 *
 * Auth: a 401 with a challenge triggers Basic or Bearer authorisation (`pull` for reads, `pull,push` for
 * writes, plus `repository:<source>:pull` for a cross-repository mount, `delete` for deletes) and one retry;
 * the result is cached so later calls send it up front.
 *
 * Deletes: `deleteManifest` needs a digest on most registries (distribution 2.x refuses tags with 400
 * DIGEST_INVALID, reported as ERR_OCI_HTTP saying so); resolve a tag first and delete by digest.
 *
 * Integrity: everything fetched by digest is digest-checked before it is returned (blobs incrementally, as
 * they stream); manifests fetched by tag are returned with their computed digest, and a
 * `Docker-Content-Digest` header that disagrees is an error.
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
  const maxReferrerPages = options.referrersMaxPages ?? 100
  const chunkSize = Math.max(1, options.chunkSize ?? DEFAULT_CHUNK_SIZE)
  const hasher = options.hasher ?? nobleHasher
  const retryBudget = Math.max(0, Math.floor(options.retry?.attempts ?? 3))
  const sleep = options.sleep ?? defaultSleep
  const schemes = new Map<string, 'http' | 'https'>()

  // Every HTTP request goes through here: concurrency, retries, counting, fetch failures as ERR_NETWORK.
  const transport = createTransport({
    fetch: baseFetch,
    ...(options.retry !== undefined ? { retry: options.retry } : {}),
    sleep,
    ...(options.maxConcurrency !== undefined ? { maxConcurrency: options.maxConcurrency } : {}),
    ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
    ...(options.onRequest !== undefined ? { onAttempt: options.onRequest } : {}),
  })
  const rawFetch = (url: string, init: RequestInit, retry = true) => transport(url, init, { retry })

  const auth: Authenticator = createAuthenticator({
    fetch: (url, init) => rawFetch(url, init),
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

  /**
   * Run one store operation with the caller's signal and the timeout, mapping aborts to error codes. For a
   * `streaming` result the caller's abort keeps reaching the body after the operation returned.
   */
  const operation = async <T>(
    callOptions: StoreCallOptions | undefined,
    fn: (op: Op) => Promise<T>,
    streaming = false,
  ): Promise<T> => {
    const callerSignal = callOptions?.signal
    if (callerSignal?.aborted)
      throw new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: callerSignal.reason })
    const timeoutMs = options.timeoutMs
    if (callerSignal === undefined && timeoutMs === undefined) return fn({ signal: undefined })
    const controller = new AbortController()
    let timedOut = false
    let keepListening = false
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
      const result = await fn({ signal: controller.signal })
      keepListening = streaming
      return result
    } catch (e) {
      if (callerSignal?.aborted) throw new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: e })
      if (timedOut)
        throw new CountersignError('ERR_NETWORK', `the registry operation timed out after ${timeoutMs} ms`, {
          cause: e,
        })
      throw e
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      if (!keepListening) callerSignal?.removeEventListener('abort', onAbort)
    }
  }

  /** Base URL for a registry, probing https then http once for `insecure`. */
  const origin = (registry: string) => `${schemes.get(registry) ?? 'https'}://${apiHost(registry)}`

  const fetchWithScheme = async (
    registry: string,
    path: string,
    init: RequestInit,
    retry: boolean,
  ): Promise<[Response, string]> => {
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
  }

  /** Send a request with cached auth; on a 401 challenge authorise and retry once. */
  const send = async (op: Op, req: SendRequest): Promise<{ res: Response; url: string }> => {
    const registry = req.scope.registry
    const absolute = /^https?:\/\//i.test(req.target)
    const retry = req.retry ?? true
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
        const [res, url] = await fetchWithScheme(registry, req.target, build(authorization), retry)
        return { res, url }
      }
      // Absolute URLs (upload locations, Link pages) only get credentials on the registry's own origin.
      const sameOrigin = new URL(req.target).origin === new URL(origin(registry)).origin
      return {
        res: await rawFetch(req.target, build(sameOrigin ? authorization : undefined), retry),
        url: req.target,
      }
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

  const blobHead = async (op: Op, repo: Repository, digest: string, scope: AuthScope): Promise<boolean> => {
    const { res } = await send(op, { method: 'HEAD', scope, target: v2(repo, `blobs/${digest}`) })
    await discardBody(res)
    if (res.status === 200) return true
    if (res.status === 404) return false
    throw registryErrorFromParts(res.status, [], { what: describe('HEAD', 'blob', repo, digest) })
  }

  /** GET a blob and wrap its body in a digest-verifying stream that resumes broken connections. */
  const openBlob = async (
    op: Op,
    repo: Repository,
    digest: string,
    maxSize: number | undefined,
    onProgress: ProgressCallback | undefined,
  ): Promise<{ stream: ReadableStream<Uint8Array>; size: number | undefined }> => {
    parseDigest(digest)
    const what = describe('GET', 'blob', repo, digest)
    const get = async (offset: number) =>
      (
        await send(op, {
          method: 'GET',
          scope: scopeOf(repo, 'pull'),
          target: v2(repo, `blobs/${digest}`),
          ...(offset > 0 ? { headers: { Range: `bytes=${offset}-` } } : {}),
        })
      ).res
    const res = await get(0)
    if (res.status !== 200) await fail(res, what)
    await checkDeclaredSize(res, maxSize, what)
    const stream = verifiedBlobStream({
      response: res,
      reopen: get,
      digest,
      ...(maxSize !== undefined ? { maxSize } : {}),
      resumes: retryBudget,
      hasher,
      ...(onProgress !== undefined ? { onProgress } : {}),
      ...(op.signal !== undefined ? { signal: op.signal } : {}),
      what,
    })
    return { stream, size: parseLength(res) }
  }

  const pushBlob = (
    repo: Repository,
    source: BlobSource,
    mediaType: string,
    callOptions?: PushBlobOptions,
  ): Promise<Descriptor> =>
    operation(callOptions, async (op) => {
      let digest: string
      let size: number
      if (source instanceof Uint8Array) {
        // A given digest is not recomputed (hashing 256 MiB costs half a second): the registry checks it on the
        // closing PUT and refuses a mismatch with DIGEST_INVALID.
        digest = callOptions?.digest ?? (await computeDigest(source))
        parseDigest(digest)
        size = source.length
        if (callOptions?.size !== undefined && callOptions.size !== size) {
          throw new CountersignError('ERR_INVALID_INPUT', `blob is ${size} bytes, not ${callOptions.size}`)
        }
      } else {
        if (callOptions?.digest === undefined || callOptions.size === undefined) {
          throw new TypeError('pushBlob of a stream needs options.digest and options.size')
        }
        if (!Number.isSafeInteger(callOptions.size) || callOptions.size < 0) {
          throw new TypeError('options.size must be a non-negative integer')
        }
        parseDigest(callOptions.digest)
        digest = callOptions.digest
        size = callOptions.size
      }
      const mountFrom = callOptions?.mountFrom
      if (mountFrom !== undefined && mountFrom.registry !== repo.registry) {
        throw new CountersignError('ERR_INVALID_INPUT', 'mountFrom must be a repository on the same registry')
      }
      const descriptor: Descriptor = { mediaType, digest, size }
      const scope: AuthScope = {
        ...scopeOf(repo, 'pull,push'),
        ...(mountFrom !== undefined ? { mountFrom: mountFrom.repository } : {}),
      }
      const onProgress = callOptions?.onProgress
      if (await blobHead(op, repo, digest, scope)) {
        onProgress?.(size, size)
        return descriptor
      }
      const uploadSend: UploadSend = (r) => send(op, { ...r, scope })
      let consumed = false
      for (let n = 0; ; n++) {
        try {
          await uploadBlob(uploadSend, {
            repo,
            digest,
            size,
            source,
            chunkSize,
            ...(mountFrom !== undefined ? { mountFrom } : {}),
            ...(onProgress !== undefined ? { onProgress } : {}),
            onConsumed: () => {
              consumed = true
            },
          })
          return descriptor
        } catch (e) {
          // A session that broke is started over from the POST; a half-read stream cannot be replayed.
          if (!retryableUpload(e) || consumed || n >= retryBudget || op.signal?.aborted) throw e
          await sleep(backoffDelay(n, options.retry, Math.random), op.signal)
        }
      }
    })

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
      return operation(callOptions, async (op): Promise<PushedManifest> => {
        if (bytes.length > maxManifestBytes) {
          throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest is larger than ${maxManifestBytes} bytes`)
        }
        const parsed = parseManifest(bytes, mediaType)
        const algorithm = ref.digest !== undefined ? parseDigest(ref.digest).algorithm : 'sha256'
        const digest = await computeDigest(bytes, algorithm)
        if (ref.digest !== undefined && ref.digest !== digest) {
          throw mismatch(`manifest digest ${digest} does not match the reference digest`, ref.digest, digest)
        }
        const id = ref.tag ?? digest
        const what = describe('PUT', 'manifest', ref, id)
        const put = () =>
          send(op, {
            method: 'PUT',
            scope: scopeOf(ref, 'pull,push'),
            target: v2(ref, `manifests/${id}`),
            headers: { 'Content-Type': mediaType },
            body: bytes,
          })
        let { res } = await put()
        // distribution's filesystem driver answers 400 DIGEST_INVALID while another client commits one of this
        // manifest's blobs (its link file is half written). Our digest was computed locally above, so a few
        // delayed retries are safe; a manifest that is really wrong fails the same way each time.
        for (let retry = 0; retry < MANIFEST_RACE_RETRIES && res.status === 400; retry++) {
          const body = await readLimited(res, 64 * 1024)
          if (!parseRegistryErrors(body).some((e) => e.code === 'DIGEST_INVALID')) {
            throw registryErrorFromParts(400, parseRegistryErrors(body), { what })
          }
          await sleep(25 * 2 ** retry + Math.random() * 50, op.signal)
          res = (await put()).res
        }
        if (res.status < 200 || res.status > 299) await fail(res, what)
        await discardBody(res)
        const reported = headerDigest(res)
        if (reported !== undefined && algorithm === 'sha256' && reported !== digest) {
          throw mismatch(`${what}: registry stored digest ${reported}, expected ${digest}`, digest, reported)
        }
        const pushed: PushedManifest = { mediaType, digest, size: bytes.length }
        if (parsed.subject === undefined) return pushed
        // distribution-spec v1.1 §Pushing Manifests with Subject: a registry that processed the subject
        // answers with OCI-Subject: <subject digest>; otherwise the client maintains the fallback tag.
        const subjectHeader = res.headers.get('oci-subject')?.trim()
        return { ...pushed, subjectAccepted: subjectHeader === parsed.subject.digest }
      })
    },

    referrers(repo, digest, callOptions) {
      return operation(callOptions, async (op) => {
        parseDigest(digest)
        const artifactType = callOptions?.artifactType
        const what = describe('GET', 'referrers of', repo, digest)
        let target = v2(repo, `referrers/${digest}`)
        if (artifactType !== undefined) target += `?artifactType=${encodeURIComponent(artifactType)}`
        const out: Descriptor[] = []
        const seen = new Set<string>()
        for (let page = 1; ; page++) {
          const { res, url } = await send(op, {
            method: 'GET',
            scope: scopeOf(repo, 'pull'),
            target,
            headers: { Accept: OCI_IMAGE_INDEX_MEDIA_TYPE },
          })
          seen.add(url)
          const isIndex = res.status === 200 && contentType(res) === OCI_IMAGE_INDEX_MEDIA_TYPE
          if (!isIndex) {
            // ggcr referrers.go: anything but a 200 index from the first request means "use the tag schema".
            if (page === 1 && NO_REFERRERS_API.has(res.status)) {
              await discardBody(res)
              return undefined
            }
            if (res.status !== 200) await fail(res, what)
            await discardBody(res)
            throw new CountersignError('ERR_OCI_HTTP', `${what}: page ${page} is not an OCI image index`)
          }
          const body = await readLimited(res, MAX_REFERRERS_PAGE_BYTES, 'referrers response')
          const index = parseManifest(body, OCI_IMAGE_INDEX_MEDIA_TYPE)
          if (!('manifests' in index)) {
            throw new CountersignError('ERR_OCI_MANIFEST_INVALID', `${what}: response is not an image index`)
          }
          const filtered = (res.headers.get('oci-filters-applied') ?? '')
            .split(',')
            .map((f) => f.trim())
            .includes('artifactType')
          for (const d of index.manifests) {
            if (artifactType === undefined || filtered || d.artifactType === artifactType) out.push(d)
          }
          const next = nextLink(res, url)
          if (next === undefined) return out
          if (page >= maxReferrerPages) {
            throw new CountersignError('ERR_OCI_SIZE_LIMIT', `${what}: more than ${maxReferrerPages} pages`)
          }
          if (new URL(next).origin !== new URL(url).origin) {
            throw new CountersignError('ERR_OCI_HTTP', `${what}: refusing a pagination link to another origin`)
          }
          if (seen.has(next)) throw new CountersignError('ERR_OCI_HTTP', `${what}: pagination loops back`)
          target = next
        }
      })
    },

    deleteManifest(ref, callOptions) {
      return operation(callOptions, async (op) => {
        const id = manifestTarget(ref)
        const what = describe('DELETE', 'manifest', ref, id)
        const { res } = await send(op, {
          method: 'DELETE',
          scope: scopeOf(ref, 'delete'),
          target: v2(ref, `manifests/${id}`),
        })
        if (res.status === 202 || res.status === 200 || res.status === 204) {
          await discardBody(res)
          return
        }
        const err = await registryError(res, { what })
        const entries = (err.details?.registryErrors ?? []) as { code: string }[]
        if (res.status === 405 || entries.some((e) => e.code === 'UNSUPPORTED')) {
          throw new CountersignError(
            'ERR_OCI_HTTP',
            `${what}: the registry does not allow deleting manifests (HTTP ${res.status}; deletes may be disabled)`,
            { details: err.details ?? {}, cause: err },
          )
        }
        // distribution 2.x parses the reference as a digest and answers 400 DIGEST_INVALID for a tag.
        if (ref.digest === undefined && res.status === 400 && entries.some((e) => e.code === 'DIGEST_INVALID')) {
          throw new CountersignError(
            'ERR_OCI_HTTP',
            `${what}: the registry does not delete manifests by tag; resolve the tag and delete by digest`,
            { details: err.details ?? {}, cause: err },
          )
        }
        throw err
      })
    },

    blobExists(repo, digest, callOptions) {
      return operation(callOptions, async (op) => {
        parseDigest(digest)
        return blobHead(op, repo, digest, scopeOf(repo, 'pull'))
      })
    },

    fetchBlob(repo, digest, callOptions?: RegistryFetchBlobOptions) {
      return operation(callOptions, async (op) => {
        const max = callOptions?.maxSize ?? maxBlobBytes
        const { stream, size } = await openBlob(op, repo, digest, max, callOptions?.onProgress)
        return collectStream(stream, size)
      })
    },

    fetchBlobStream(repo, digest, callOptions?: RegistryFetchBlobOptions) {
      return operation(
        callOptions,
        async (op) => (await openBlob(op, repo, digest, callOptions?.maxSize, callOptions?.onProgress)).stream,
        true,
      )
    },

    pushBlob,

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

  return client
}
