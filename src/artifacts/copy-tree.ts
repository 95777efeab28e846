/**
 * Copy a manifest and everything it references (config, layers, an index's children) from a store to a sink,
 * blobs first and manifests last; used by `save` and `load`. Never exported.
 * @module
 */
import { CountersignError } from '../errors.js'
import { isImageIndex } from '../oci/manifest.js'
import { isIndexMediaType, isManifestMediaType } from '../oci/media-types.js'
import type { ProgressCallback } from '../oci/registry.js'
import type { FetchedManifest, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'

/** Where copied content goes. */
export interface CopySink {
  hasBlob(digest: string, size: number): Promise<boolean>
  putBlob(digest: string, bytes: Uint8Array, mediaType: string): Promise<void>
  /** Store a manifest; `tag` only for the top-level one when the caller wants it tagged. */
  putManifest(digest: string, bytes: Uint8Array, mediaType: string, tag?: string): Promise<void>
}

/** Options of {@link copyTree}. */
export interface CopyTreeOptions extends StoreCallOptions {
  /** Largest blob copied (blobs are held in memory). */
  readonly maxBlobSize: number
  /** Progress of each blob download: its digest, bytes so far, total. */
  readonly onBlobProgress?: (digest: string, done: number, total: number | undefined) => void
}

/** Nested indexes deeper than this are refused (a manifest cannot contain itself, but a registry can lie). */
const MAX_DEPTH = 8

/** Copy the manifest `digest` in `repo` of `source`, and all it references, to `sink`. Returns the manifest. */
export async function copyTree(
  source: OCIStore,
  repo: Repository,
  digest: string,
  sink: CopySink,
  options: CopyTreeOptions,
  tag?: string,
): Promise<FetchedManifest> {
  return copy(source, repo, digest, sink, options, tag, 0)
}

async function copy(
  source: OCIStore,
  repo: Repository,
  digest: string,
  sink: CopySink,
  options: CopyTreeOptions,
  tag: string | undefined,
  depth: number,
): Promise<FetchedManifest> {
  if (depth > MAX_DEPTH)
    throw new CountersignError('ERR_OCI_MANIFEST_INVALID', `indexes nested deeper than ${MAX_DEPTH}`)
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  const at: Reference = { registry: repo.registry, repository: repo.repository, digest }
  const fetched = await source.fetchManifest(at, call)
  const m = fetched.manifest
  if (isImageIndex(m)) {
    for (const child of m.manifests) {
      if (isIndexMediaType(child.mediaType) || isManifestMediaType(child.mediaType)) {
        await copy(source, repo, child.digest, sink, options, undefined, depth + 1)
      } else {
        await copyBlob(source, repo, child, sink, options)
      }
    }
  } else {
    await copyBlob(source, repo, m.config, sink, options)
    for (const layer of m.layers) await copyBlob(source, repo, layer, sink, options)
  }
  await sink.putManifest(fetched.descriptor.digest, fetched.bytes, fetched.descriptor.mediaType, tag)
  return fetched
}

async function copyBlob(
  source: OCIStore,
  repo: Repository,
  d: { readonly digest: string; readonly size: number; readonly mediaType: string },
  sink: CopySink,
  options: CopyTreeOptions,
): Promise<void> {
  if (await sink.hasBlob(d.digest, d.size)) return
  if (d.size > options.maxBlobSize) {
    throw new CountersignError(
      'ERR_OCI_SIZE_LIMIT',
      `blob ${d.digest} (${d.size} bytes) is larger than ${options.maxBlobSize} bytes`,
    )
  }
  const onBlob = options.onBlobProgress
  const fetchOptions: StoreCallOptions & { maxSize: number; onProgress?: ProgressCallback } = {
    ...(options.signal ? { signal: options.signal } : {}),
    maxSize: options.maxBlobSize,
    ...(onBlob ? { onProgress: (done: number, total: number | undefined) => onBlob(d.digest, done, total) } : {}),
  }
  const bytes = await source.fetchBlob(repo, d.digest, fetchOptions)
  if (bytes.length !== d.size) {
    throw new CountersignError(
      'ERR_OCI_DIGEST_MISMATCH',
      `blob ${d.digest} has ${bytes.length} bytes, its descriptor says ${d.size}`,
    )
  }
  await sink.putBlob(d.digest, bytes, d.mediaType)
}
