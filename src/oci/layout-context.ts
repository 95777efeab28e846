/**
 * The state one layout store shares across its verbs (manifests, blobs, referrers, tags): the file system, the
 * manifest size limit, the queue that serialises `index.json` updates, and reading and writing the index and blobs.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { utf8 } from '../internal/bytes.js'
import type { LayoutFileSystem, LayoutStoreOptions } from './layout.js'
import { blobPath, INDEX_FILE, OCI_LAYOUT_FILE, ociLayoutFileContent } from './layout-format.js'
import { type LoadedIndex, newLayoutIndex, parseLayoutIndex } from './layout-index.js'
import { MAX_MANIFEST_BYTES } from './manifest.js'

/**
 * What the verbs of one layout store share.
 *
 * @example
 * ```ts
 * const ctx: LayoutContext = createLayoutContext(createMemoryFileSystem(), {})
 * ```
 */
export interface LayoutContext {
  readonly fs: LayoutFileSystem
  readonly maxManifestBytes: number
  /** Run a read-modify-write of `index.json` after the ones already queued in this store. */
  serialised<T>(fn: () => Promise<T>): Promise<T>
  exists(path: string): Promise<boolean>
  /** The parsed `index.json`; ERR_OCI_NOT_FOUND when the layout has none. */
  loadIndex(): Promise<LoadedIndex>
  /** The parsed `index.json`, or an empty index when there is none yet. */
  loadOrCreateIndex(): Promise<LoadedIndex>
  /** Write `index.json` with these entries (and `oci-layout` when missing). */
  saveIndex(index: LoadedIndex, rawEntries: unknown[]): Promise<void>
  /** Store a blob unless it is already there. */
  writeBlob(bytes: Uint8Array, digest: string): Promise<void>
}

/**
 * Create the shared state of one layout store.
 *
 * @example
 * ```ts
 * const ctx = createLayoutContext(fs, { maxManifestBytes: 1024 * 1024 })
 * const { entries } = await ctx.loadIndex()
 * ```
 */
export function createLayoutContext(fs: LayoutFileSystem, options: LayoutStoreOptions): LayoutContext {
  // index.json updates are read-modify-write; serialise them within this store.
  let writeQueue: Promise<unknown> = Promise.resolve()
  const exists = async (path: string) => (fs.exists ? fs.exists(path) : (await fs.readFile(path)) !== undefined)
  const loadIndex = async (): Promise<LoadedIndex> => {
    const bytes = await fs.readFile(INDEX_FILE)
    if (bytes === undefined) throw notFound('not an OCI image layout: index.json is missing')
    return parseLayoutIndex(bytes)
  }
  return {
    fs,
    maxManifestBytes: options.maxManifestBytes ?? MAX_MANIFEST_BYTES,
    serialised<T>(fn: () => Promise<T>): Promise<T> {
      const run = writeQueue.then(fn, fn)
      writeQueue = run.catch(() => {})
      return run
    },
    exists,
    loadIndex,
    async loadOrCreateIndex() {
      if ((await fs.readFile(INDEX_FILE)) === undefined) return newLayoutIndex()
      return loadIndex()
    },
    async saveIndex(index, rawEntries) {
      if (!(await exists(OCI_LAYOUT_FILE))) await fs.writeFile(OCI_LAYOUT_FILE, ociLayoutFileContent())
      const doc: Record<string, unknown> = { ...index.raw, manifests: rawEntries }
      if (doc.schemaVersion === undefined) doc.schemaVersion = 2
      await fs.writeFile(INDEX_FILE, utf8(JSON.stringify(doc)))
    },
    async writeBlob(bytes, digest) {
      const path = blobPath(digest)
      if (!(await exists(path))) await fs.writeFile(path, bytes)
    },
  }
}

/**
 * An ERR_OCI_NOT_FOUND.
 *
 * @example
 * ```ts
 * throw notFound(`blob ${digest} is not in the layout`)
 * ```
 */
export function notFound(message: string): CountersignError {
  return new CountersignError('ERR_OCI_NOT_FOUND', message)
}

/**
 * Throw ERR_ABORTED when the call's signal has already fired (layout calls do not stop half-way).
 *
 * @example
 * ```ts
 * checkSignal(options)
 * ```
 */
export function checkSignal(o?: { signal?: AbortSignal }): void {
  if (o?.signal?.aborted)
    throw new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: o.signal.reason })
}
