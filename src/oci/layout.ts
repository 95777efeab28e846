/**
 * The OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as an {@link OCIStore}, over an abstract
 * file system so it stays runtime-neutral. Reads `cosign save` output. This file holds the public types and the
 * factory that assembles the store from its shared context and its verbs (manifests, referrers, blobs, tags).
 *
 * @module
 */
import { layoutBlobs } from './layout-blobs.js'
import { createLayoutContext } from './layout-context.js'
import { layoutManifests } from './layout-manifests.js'
import { layoutReferrers } from './layout-referrers.js'
import { layoutTags } from './layout-tags.js'
import type { OCIStore } from './types.js'

export {
  COSIGN_KIND_ANNOTATION,
  COSIGN_KIND_ATTS,
  COSIGN_KIND_IMAGE,
  COSIGN_KIND_IMAGE_INDEX,
  COSIGN_KIND_SIGS,
  emptyLayoutIndexContent,
  ociLayoutFileContent,
  REF_NAME_ANNOTATION,
} from './layout-format.js'

/**
 * The file access a layout needs. Paths are relative to the layout root and `/`-separated
 * (`index.json`, `blobs/sha256/<hex>`).
 *
 * @example
 * ```ts
 * const fs: LayoutFileSystem = createMemoryFileSystem()
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface LayoutFileSystem {
  /** The file's bytes, or undefined when it does not exist. */
  readFile(path: string): Promise<Uint8Array | undefined>
  /** Write a file atomically (readers see the old or the new content, never a mix), creating directories. */
  writeFile(path: string, data: Uint8Array): Promise<void>
  /** Optional fast existence check; `readFile` is used when absent. */
  exists?(path: string): Promise<boolean>
  /**
   * Optional: the regular files directly in directory `dir` (e.g. `blobs/sha256`) with their sizes; empty when the
   * directory is missing. With it, the layout answers {@link OCIStore.referrers} by scanning its manifest blobs.
   */
  listFiles?(dir: string): Promise<ReadonlyArray<{ readonly name: string; readonly size: number }>>
  /** Optional: delete a file (missing is fine). With it, deleting a manifest by digest also removes its blob. */
  removeFile?(path: string): Promise<void>
}

/**
 * Options for {@link createLayoutStore}.
 *
 * @example
 * ```ts
 * createLayoutStore(fs, { maxManifestBytes: 1024 * 1024 })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface LayoutStoreOptions {
  /** Largest manifest to read; defaults to 4 MiB. */
  readonly maxManifestBytes?: number
}

/**
 * The layout store: an {@link OCIStore} with `kind: 'layout'`.
 *
 * @example
 * ```ts
 * const layout: LayoutStore = createLayoutStore(createMemoryFileSystem())
 * ```
 *
 * Exported from `countersign/oci`.
 */
export type LayoutStore = OCIStore & { readonly kind: 'layout' }

/**
 * Create an {@link OCIStore} over an OCI image layout. The layout is one repository: the registry and
 * repository of references are ignored. Tags are index entries' `org.opencontainers.image.ref.name`.
 *
 * Lookups by tag, in order: an entry whose ref name is the tag; for `sha256-<hex>.sig` / `.att`, the entry marked
 * `kind: dev.cosignproject.cosign/sigs` / `atts` (as `cosign save` writes them) when the layout's signed image
 * has that digest; for `latest`, the only entry, or the only one marked as cosign's image or image index.
 * Manifests by digest are found in `blobs/` even when not listed in `index.json`.
 *
 * Writes put blobs first and `index.json` last, each atomically, so `index.json` never names a missing blob.
 *
 * Referrers: a layout has no Referrers API. When the file system can list directories (`listFiles`, as the memory
 * and Node file systems can), `referrers()` scans the manifest blobs for a matching `subject`, which also finds the
 * referrers `cosign save` stores as bare blobs; otherwise it resolves to `undefined`, so readers use the referrers
 * tag. `pushReferrer` always maintains the referrers tag in a layout, for tag-schema readers.
 * `deleteManifest` drops the tag's entry, or every entry of a digest and (with `removeFile`) its blob.
 *
 * @throws {CountersignError} from its methods: ERR_OCI_NOT_FOUND, ERR_OCI_DIGEST_MISMATCH,
 * ERR_OCI_MANIFEST_INVALID, ERR_OCI_SIZE_LIMIT.
 * @example
 * ```ts
 * import { createLayoutStore, createMemoryFileSystem, parseReference } from 'countersign/oci'
 * const layout = createLayoutStore(createMemoryFileSystem())
 * await layout.listTags(parseReference('ignored'))
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function createLayoutStore(fs: LayoutFileSystem, options: LayoutStoreOptions = {}): LayoutStore {
  const ctx = createLayoutContext(fs, options)
  return {
    kind: 'layout',
    ...layoutManifests(ctx),
    ...layoutReferrers(ctx),
    ...layoutBlobs(ctx),
    ...layoutTags(ctx),
  }
}
