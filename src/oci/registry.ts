/**
 * OCI distribution-spec registry client implementing {@link OCIStore} over an injectable `fetch`: the public options
 * and the factory that assembles the client from its shared context and its verbs (manifests, referrers, blobs, tags),
 * split as go-containerregistry's `remote` package is.
 *
 * @module
 */
import type { SecretSet } from '../http/redact.js'
import type { RetryOptions } from '../http/transport.js'
import type { AbortSignalLike, FetchFunction, ReadableByteStream } from '../internal/host-types.js'
import type { CredentialProvider } from './auth.js'
import type { HasherFactory } from './blob-download.js'
import type { BlobSource } from './blob-upload.js'
import type { MAX_MANIFEST_BYTES } from './manifest.js'
import { registryBlobs } from './registry-blobs.js'
import { createRegistryContext } from './registry-context.js'
import { registryManifests } from './registry-manifests.js'
import { registryReferrers } from './registry-referrers.js'
import { registryTags } from './registry-tags.js'
import type { Descriptor, FetchBlobOptions, OCIStore, Repository, StoreCallOptions } from './types.js'

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
  readonly fetch?: FetchFunction
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
  readonly sleep?: (ms: number, signal?: AbortSignalLike) => Promise<void>
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
  /**
   * The secrets kept out of errors: every credential the client resolves and every token it is issued is added, and
   * redacted from anything a registry answers before it becomes part of an error. The CLI and the admission
   * webhook pass their process-wide set; default: a set of the client's own.
   */
  readonly secrets?: SecretSet
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
   * Upload a blob unless it already exists (HEAD first): bytes, or a stream with `size` and `digest` given, or
   * a function opening such a stream. Blobs above `chunkSize` go up in PATCH chunks, smaller ones in one PUT; a
   * stream is sent as streamed request bodies where `fetch` supports them (Node, Deno, Bun, Chromium over HTTP/2),
   * so memory stays flat whatever the blob's size, else read one chunk (or the one PUT's blob) at a time.
   * `mountFrom` tries a cross-repository mount first. A failed session is restarted (within the retry
   * budget) when the content can be replayed: always for bytes and for a function (called once per session, its
   * stream cancelled after it), for a stream only if none of it was read yet.
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
  fetchBlobStream(repo: Repository, digest: string, options?: RegistryFetchBlobOptions): Promise<ReadableByteStream>
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
  const ctx = createRegistryContext(options)
  return {
    kind: 'registry',
    ...registryManifests(ctx),
    ...registryReferrers(ctx),
    ...registryBlobs(ctx),
    ...registryTags(ctx),
  }
}
