import type { AbortSignalLike } from '../internal/host-types.js'
/** OCI data types and the store interface shared by the registry client and the on-disk layout. @module */

/**
 * A repository: registry host (normalised, e.g. `index.docker.io`) and repository path.
 *
 * Exported from `countersign/oci`.
 */
export interface Repository {
  readonly registry: string
  readonly repository: string
}

/**
 * An image reference: a repository plus a tag and/or a digest (`sha256:<hex>`).
 *
 * Exported from `countersign/oci`.
 */
export interface Reference extends Repository {
  readonly tag?: string
  readonly digest?: string
}

/**
 * An OCI content descriptor.
 *
 * Exported from `countersign/oci`.
 */
export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly annotations?: Readonly<Record<string, string>>
  readonly artifactType?: string
  readonly platform?: Readonly<Record<string, unknown>>
  readonly urls?: readonly string[]
}

/**
 * An image manifest (OCI or Docker schema 2), as parsed; the signed bytes are kept separately.
 *
 * Exported from `countersign/oci`.
 */
export interface ImageManifest {
  readonly schemaVersion: 2
  readonly mediaType?: string
  readonly artifactType?: string
  readonly config: Descriptor
  readonly layers: readonly Descriptor[]
  readonly subject?: Descriptor
  readonly annotations?: Readonly<Record<string, string>>
}

/**
 * An image index (OCI) or manifest list (Docker).
 *
 * Exported from `countersign/oci`.
 */
export interface ImageIndex {
  readonly schemaVersion: 2
  readonly mediaType?: string
  readonly artifactType?: string
  readonly manifests: readonly Descriptor[]
  readonly subject?: Descriptor
  readonly annotations?: Readonly<Record<string, string>>
}

/**
 * A fetched manifest: the exact bytes, their descriptor, and the parsed document.
 *
 * Exported from `countersign/oci`.
 */
export interface FetchedManifest {
  readonly descriptor: Descriptor
  readonly bytes: Uint8Array
  readonly manifest: ImageManifest | ImageIndex
}

/**
 * Per-call options for store operations.
 *
 * @example
 * ```ts
 * // A read-merge-write loop sends its tag write once and handles a 429/5xx/reset itself (re-read, merge, write).
 * await store.pushManifest(tagRef, bytes, mediaType, { signal, retry: false })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface StoreCallOptions {
  readonly signal?: AbortSignalLike
  /**
   * `false`: send a manifest write once. The registry client's `pushManifest` then neither repeats the PUT after
   * 429/5xx or a reset connection nor re-sends it after a `DIGEST_INVALID` refusal; it throws, and a `429`'s
   * `Retry-After` is in the error's `details.retryAfterMs`. For writers that merge into a shared tag: the bytes they
   * send were computed from what the tag held when they read it, so sending them again later could drop what other
   * writers added meanwhile. Default `true`. Other calls, and the layout store, ignore it.
   */
  readonly retry?: boolean
}

/**
 * Options for blob fetches.
 *
 * Exported from `countersign/oci`.
 */
export interface FetchBlobOptions extends StoreCallOptions {
  /** Refuse blobs larger than this many bytes (ERR_OCI_SIZE_LIMIT). */
  readonly maxSize?: number
}

/**
 * Options for {@link OCIStore.referrers}.
 *
 * Exported from `countersign/oci`.
 */
export interface ReferrersOptions extends StoreCallOptions {
  /** Only referrers with this `artifactType` (server-side filter where supported, else applied locally). */
  readonly artifactType?: string
}

/**
 * The result of {@link OCIStore.pushManifest}: the descriptor written, and whether the registry acknowledged the
 * manifest's `subject` (the `OCI-Subject` response header of distribution-spec v1.1). When a manifest with a subject
 * is pushed and this is not `true`, the caller maintains the referrers tag-schema fallback index itself.
 *
 * Exported from `countersign/oci`.
 */
export interface PushedManifest extends Descriptor {
  readonly subjectAccepted?: boolean
}

/**
 * Content storage that the signing code needs, implemented by the registry client and by the OCI image layout.
 * Everything fetched by digest is digest-checked before it is returned.
 *
 * Exported from `countersign/oci`.
 */
export interface OCIStore {
  /** `registry` or `layout`, for messages. */
  readonly kind: 'registry' | 'layout'
  /** Resolve a tag or digest to the manifest's descriptor (HEAD). Missing → ERR_OCI_NOT_FOUND. */
  resolve(ref: Reference, options?: StoreCallOptions): Promise<Descriptor>
  /** Fetch a manifest or index by tag or digest. */
  fetchManifest(ref: Reference, options?: StoreCallOptions): Promise<FetchedManifest>
  /**
   * Store manifest bytes under `ref` (its tag, or its digest when no tag). Returns the descriptor written.
   * The media type must be the manifest's own.
   */
  pushManifest(
    ref: Reference,
    bytes: Uint8Array,
    mediaType: string,
    options?: StoreCallOptions,
  ): Promise<PushedManifest>
  /**
   * OCI 1.1 Referrers API (`GET /v2/<name>/referrers/<digest>`): descriptors of the manifests whose `subject` is
   * `digest`. Resolves to `undefined` when the store has no Referrers API, so callers fall back to the tag schema
   * (an index at tag `sha256-<hex>`).
   */
  referrers(repo: Repository, digest: string, options?: ReferrersOptions): Promise<readonly Descriptor[] | undefined>
  /** Delete a manifest by digest, or a tag where the store allows it. Missing → ERR_OCI_NOT_FOUND. */
  deleteManifest(ref: Reference, options?: StoreCallOptions): Promise<void>
  /** Whether a blob exists. */
  blobExists(repo: Repository, digest: string, options?: StoreCallOptions): Promise<boolean>
  /** Fetch a whole blob, digest-checked. */
  fetchBlob(repo: Repository, digest: string, options?: FetchBlobOptions): Promise<Uint8Array>
  /** Upload a blob unless it already exists; returns its descriptor (mediaType as given). */
  pushBlob(repo: Repository, bytes: Uint8Array, mediaType: string, options?: StoreCallOptions): Promise<Descriptor>
  /** List tags of a repository. */
  listTags(repo: Repository, options?: StoreCallOptions): Promise<string[]>
}
