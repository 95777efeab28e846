/**
 * The OCI image layout (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as an {@link OCIStore}, over an abstract
 * file system so it stays runtime-neutral. Reads `cosign save` output.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { computeDigest, parseDigest, verifyDigest } from './digest.js'
import { MAX_MANIFEST_BYTES, manifestMediaType, parseDescriptor, parseManifest } from './manifest.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE } from './media-types.js'
import type { Descriptor, FetchedManifest, OCIStore, Reference, Repository } from './types.js'

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
 * The index annotation holding an entry's tag.
 *
 * @example
 * ```ts
 * import { REF_NAME_ANNOTATION } from 'countersign/oci'
 * REF_NAME_ANNOTATION // 'org.opencontainers.image.ref.name'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name'

/**
 * The index annotation `cosign save` uses to mark entries (cosign `pkg/oci/layout`).
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_ANNOTATION, COSIGN_KIND_SIGS } from 'countersign/oci'
 * entry.annotations?.[COSIGN_KIND_ANNOTATION] === COSIGN_KIND_SIGS
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_ANNOTATION = 'kind'
/**
 * `kind` of the signed image in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_IMAGE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_IMAGE = 'dev.cosignproject.cosign/image'
/**
 * `kind` of the signed image index in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_IMAGE_INDEX } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_IMAGE_INDEX = 'dev.cosignproject.cosign/imageIndex'
/**
 * `kind` of the signature image (`.sig`) in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_SIGS } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_SIGS = 'dev.cosignproject.cosign/sigs'
/**
 * `kind` of the attestation image (`.att`) in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_ATTS } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_ATTS = 'dev.cosignproject.cosign/atts'

const OCI_LAYOUT_FILE = 'oci-layout'
const INDEX_FILE = 'index.json'
const MAX_INDEX_BYTES = 16 * 1024 * 1024
const COSIGN_TAG_RE = /^(sha256|sha512)-([a-f0-9]+)\.(sig|att)$/

/**
 * The bytes of a fresh `oci-layout` file.
 *
 * @example
 * ```ts
 * import { ociLayoutFileContent } from 'countersign/oci'
 * await fs.writeFile('oci-layout', ociLayoutFileContent())
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function ociLayoutFileContent(): Uint8Array {
  return utf8('{"imageLayoutVersion":"1.0.0"}')
}

/**
 * The bytes of an empty `index.json`.
 *
 * @example
 * ```ts
 * import { emptyLayoutIndexContent } from 'countersign/oci'
 * await fs.writeFile('index.json', emptyLayoutIndexContent())
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function emptyLayoutIndexContent(): Uint8Array {
  return utf8(JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: [] }))
}

function blobPath(digest: string): string {
  // parseDigest validates the hex, so the path cannot escape blobs/.
  const { algorithm, hex } = parseDigest(digest)
  return `blobs/${algorithm}/${hex}`
}

function notFound(message: string): CountersignError {
  return new CountersignError('ERR_OCI_NOT_FOUND', message)
}

interface LoadedIndex {
  /** The raw JSON document, rewritten on update so unknown fields survive. */
  readonly raw: Record<string, unknown>
  /** Raw entries, parallel to `entries`. */
  readonly rawEntries: unknown[]
  readonly entries: Descriptor[]
}

const SCANNED_ALGORITHMS = [
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha512', /^[a-f0-9]{128}$/],
] as const

/**
 * The layout's answer to the Referrers API: every manifest blob whose `subject` is `digest`. `cosign save` keeps
 * bundle referrers only as blobs (its index.json lists none of them, and no referrers tag), and `cosign load` finds
 * them the same way, by reading every blob under `blobs/sha256`. Blobs larger than a manifest may be, not starting
 * with `{`, not parsing, or not matching their name are skipped.
 */
async function scanReferrers(
  fs: LayoutFileSystem,
  listFiles: NonNullable<LayoutFileSystem['listFiles']>,
  digest: string,
  maxManifestBytes: number,
): Promise<Descriptor[]> {
  const found: Descriptor[] = []
  for (const [algorithm, nameRE] of SCANNED_ALGORITHMS) {
    for (const { name, size } of await listFiles(`blobs/${algorithm}`)) {
      if (!nameRE.test(name) || size < 2 || size > maxManifestBytes) continue
      const bytes = await fs.readFile(`blobs/${algorithm}/${name}`)
      if (bytes === undefined || bytes.length > maxManifestBytes || !startsLikeJSONObject(bytes)) continue
      try {
        const m = parseManifest(bytes)
        if (m.subject?.digest !== digest) continue
        const blobDigest = `${algorithm}:${name}`
        await verifyDigest(bytes, blobDigest)
        const artifactType = m.artifactType || ('config' in m ? m.config.mediaType : undefined)
        found.push({
          mediaType: manifestMediaType(m),
          digest: blobDigest,
          size: bytes.length,
          ...(artifactType ? { artifactType } : {}),
          ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
        })
      } catch {
        // Not a manifest, or a corrupt blob: not a referrer.
      }
    }
  }
  return found.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))
}

function startsLikeJSONObject(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue
    return b === 0x7b
  }
  return false
}

function refName(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION]
}

function kindOf(d: Descriptor): string | undefined {
  return d.annotations?.[COSIGN_KIND_ANNOTATION]
}

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
  const maxManifestBytes = options.maxManifestBytes ?? MAX_MANIFEST_BYTES
  // index.json updates are read-modify-write; serialise them within this store.
  let writeQueue: Promise<unknown> = Promise.resolve()
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = writeQueue.then(fn, fn)
    writeQueue = run.catch(() => {})
    return run
  }

  const exists = async (path: string) => (fs.exists ? fs.exists(path) : (await fs.readFile(path)) !== undefined)

  const loadIndex = async (): Promise<LoadedIndex> => {
    const bytes = await fs.readFile(INDEX_FILE)
    if (bytes === undefined) throw notFound('not an OCI image layout: index.json is missing')
    if (bytes.length > MAX_INDEX_BYTES) throw new CountersignError('ERR_OCI_SIZE_LIMIT', 'index.json is too large')
    let raw: unknown
    try {
      raw = JSON.parse(fromUtf8(bytes, 'index.json'))
    } catch (cause) {
      throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json is not valid JSON', { cause })
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json must be a JSON object')
    }
    const doc = raw as Record<string, unknown>
    if (doc.schemaVersion !== 2)
      throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json schemaVersion must be 2')
    const rawEntries = doc.manifests === undefined || doc.manifests === null ? [] : doc.manifests
    if (!Array.isArray(rawEntries))
      throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json manifests must be an array')
    const entries = rawEntries.map((e, i) => parseDescriptor(e, `index.json manifests[${i}]`))
    return { raw: doc, rawEntries: [...rawEntries], entries }
  }

  const saveIndex = async (index: LoadedIndex, rawEntries: unknown[]) => {
    if (!(await exists(OCI_LAYOUT_FILE))) await fs.writeFile(OCI_LAYOUT_FILE, ociLayoutFileContent())
    const doc: Record<string, unknown> = { ...index.raw, manifests: rawEntries }
    if (doc.schemaVersion === undefined) doc.schemaVersion = 2
    await fs.writeFile(INDEX_FILE, utf8(JSON.stringify(doc)))
  }

  const loadOrCreateIndex = async (): Promise<LoadedIndex> => {
    if ((await fs.readFile(INDEX_FILE)) === undefined) {
      return { raw: { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE }, rawEntries: [], entries: [] }
    }
    return loadIndex()
  }

  const findByTag = (entries: readonly Descriptor[], tag: string): Descriptor | undefined => {
    const named = entries.find((e) => refName(e) === tag)
    if (named !== undefined) return named
    const cosign = COSIGN_TAG_RE.exec(tag)
    if (cosign !== null) {
      const signed = `${cosign[1]}:${cosign[2]}`
      const images = entries.filter((e) => kindOf(e) === COSIGN_KIND_IMAGE || kindOf(e) === COSIGN_KIND_IMAGE_INDEX)
      // cosign save stores one image and its signatures; only hand them out for that image's digest.
      if (images.length > 0 && !images.some((e) => e.digest === signed)) return undefined
      const wanted = cosign[3] === 'sig' ? COSIGN_KIND_SIGS : COSIGN_KIND_ATTS
      const marked = entries.filter((e) => kindOf(e) === wanted && refName(e) === undefined)
      return marked.length === 1 ? marked[0] : undefined
    }
    if (tag === 'latest') {
      if (entries.length === 1) return entries[0]
      const images = entries.filter((e) => kindOf(e) === COSIGN_KIND_IMAGE || kindOf(e) === COSIGN_KIND_IMAGE_INDEX)
      if (images.length === 1) return images[0]
    }
    return undefined
  }

  const readManifestBlob = async (digest: string, listed?: Descriptor): Promise<FetchedManifest> => {
    if (listed !== undefined && listed.size > maxManifestBytes) {
      throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest ${digest} is larger than ${maxManifestBytes} bytes`)
    }
    const bytes = await fs.readFile(blobPath(digest))
    if (bytes === undefined) throw notFound(`manifest ${digest} is not in the layout`)
    if (bytes.length > maxManifestBytes) {
      throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest ${digest} is larger than ${maxManifestBytes} bytes`)
    }
    await verifyDigest(bytes, digest)
    if (listed !== undefined && listed.size !== bytes.length) {
      throw new CountersignError(
        'ERR_OCI_DIGEST_MISMATCH',
        `manifest ${digest} has ${bytes.length} bytes, index.json says ${listed.size}`,
      )
    }
    const manifest = parseManifest(bytes, listed?.mediaType)
    const mediaType = manifest.mediaType ?? listed?.mediaType ?? manifestMediaType(manifest)
    return { descriptor: { mediaType, digest, size: bytes.length }, bytes, manifest }
  }

  const locate = async (ref: Reference): Promise<{ digest: string; listed?: Descriptor }> => {
    const index = await loadIndex()
    if (ref.digest !== undefined) {
      parseDigest(ref.digest)
      const listed = index.entries.find((e) => e.digest === ref.digest)
      return listed === undefined ? { digest: ref.digest } : { digest: ref.digest, listed }
    }
    if (ref.tag === undefined) throw new CountersignError('ERR_INVALID_INPUT', 'reference needs a tag or a digest')
    const listed = findByTag(index.entries, ref.tag)
    if (listed === undefined) throw notFound(`tag ${JSON.stringify(ref.tag)} is not in the layout`)
    return { digest: listed.digest, listed }
  }

  const writeBlob = async (bytes: Uint8Array, digest: string) => {
    const path = blobPath(digest)
    if (!(await exists(path))) await fs.writeFile(path, bytes)
  }

  const checkSignal = (o?: { signal?: AbortSignal }) => {
    if (o?.signal?.aborted)
      throw new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: o.signal.reason })
  }

  return {
    kind: 'layout',

    async resolve(ref, o) {
      checkSignal(o)
      const { digest, listed } = await locate(ref)
      if (listed !== undefined) {
        return { mediaType: listed.mediaType, digest: listed.digest, size: listed.size }
      }
      return (await readManifestBlob(digest)).descriptor
    },

    async fetchManifest(ref, o) {
      checkSignal(o)
      const { digest, listed } = await locate(ref)
      return readManifestBlob(digest, listed)
    },

    async pushManifest(ref, bytes, mediaType, o) {
      checkSignal(o)
      if (bytes.length > maxManifestBytes) {
        throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest is larger than ${maxManifestBytes} bytes`)
      }
      parseManifest(bytes, mediaType)
      const algorithm = ref.digest !== undefined ? parseDigest(ref.digest).algorithm : 'sha256'
      const digest = await computeDigest(bytes, algorithm)
      if (ref.digest !== undefined && ref.digest !== digest) {
        throw new CountersignError(
          'ERR_OCI_DIGEST_MISMATCH',
          `manifest digest ${digest} does not match the reference digest ${ref.digest}`,
        )
      }
      const descriptor: Descriptor = { mediaType, digest, size: bytes.length }
      return serialised(async () => {
        await writeBlob(bytes, digest)
        const index = await loadOrCreateIndex()
        const tag = ref.tag
        let rawEntries = index.rawEntries
        if (tag !== undefined) {
          const annotations: Record<string, string> = { [REF_NAME_ANNOTATION]: tag }
          const cosign = COSIGN_TAG_RE.exec(tag)
          if (cosign !== null)
            annotations[COSIGN_KIND_ANNOTATION] = cosign[3] === 'sig' ? COSIGN_KIND_SIGS : COSIGN_KIND_ATTS
          rawEntries = rawEntries.filter((_, i) => refName(index.entries[i]!) !== tag)
          rawEntries.push({ ...descriptor, annotations })
        } else if (!index.entries.some((e) => e.digest === digest)) {
          rawEntries = [...rawEntries, { ...descriptor }]
        } else {
          return descriptor
        }
        await saveIndex(index, rawEntries)
        return descriptor
      })
    },

    async referrers(_repo, digest, o) {
      checkSignal(o)
      parseDigest(digest)
      if (fs.listFiles === undefined) return undefined
      const all = await scanReferrers(fs, (dir) => fs.listFiles!(dir), digest, maxManifestBytes)
      const wanted = o?.artifactType
      return wanted === undefined ? all : all.filter((d) => d.artifactType === wanted)
    },

    async deleteManifest(ref, o) {
      checkSignal(o)
      return serialised(async () => {
        const index = await loadIndex()
        let keep: (e: Descriptor) => boolean
        let blob: string | undefined
        if (ref.digest !== undefined) {
          blob = blobPath(ref.digest)
          keep = (e) => e.digest !== ref.digest
        } else if (ref.tag !== undefined) {
          const tag = ref.tag
          keep = (e) => refName(e) !== tag
        } else {
          throw new CountersignError('ERR_INVALID_INPUT', 'reference needs a tag or a digest')
        }
        const rawEntries = index.rawEntries.filter((_, i) => keep(index.entries[i]!))
        const listed = rawEntries.length !== index.rawEntries.length
        const blobThere = blob !== undefined && (await exists(blob))
        if (!listed && !blobThere) throw notFound(`${ref.digest ?? JSON.stringify(ref.tag)} is not in the layout`)
        // index.json first, so it never names a missing blob. Without removeFile the blob stays (unlisted).
        if (listed) await saveIndex(index, rawEntries)
        if (blobThere && fs.removeFile !== undefined) await fs.removeFile(blob!)
      })
    },

    async blobExists(_repo: Repository, digest, o) {
      checkSignal(o)
      return exists(blobPath(digest))
    },

    async fetchBlob(_repo, digest, o) {
      checkSignal(o)
      const path = blobPath(digest)
      const bytes = await fs.readFile(path)
      if (bytes === undefined) throw notFound(`blob ${digest} is not in the layout`)
      if (o?.maxSize !== undefined && bytes.length > o.maxSize) {
        throw new CountersignError(
          'ERR_OCI_SIZE_LIMIT',
          `blob ${digest} is larger than the limit of ${o.maxSize} bytes`,
        )
      }
      await verifyDigest(bytes, digest)
      return bytes
    },

    async pushBlob(_repo, bytes, mediaType, o) {
      checkSignal(o)
      const digest = await computeDigest(bytes)
      await writeBlob(bytes, digest)
      return { mediaType, digest, size: bytes.length }
    },

    async listTags(_repo, o) {
      checkSignal(o)
      const index = await loadIndex()
      const tags: string[] = []
      for (const e of index.entries) {
        const name = refName(e)
        if (name !== undefined && !tags.includes(name)) tags.push(name)
      }
      return tags
    },
  }
}
