/**
 * `save` / `load`: an image (or index) with its signatures, attestations and bundle referrers, to and from an OCI
 * image layout in cosign's `save` format (docs/formats.md §Save layout; cosign `pkg/oci/layout/write.go`):
 * `index.json` lists the image (`kind: dev.cosignproject.cosign/image` or `…/imageIndex`), the `.sig` image
 * (`…/sigs`) and the `.att` image (`…/atts`); referrer manifests and their blobs sit in `blobs/sha256` only, found by
 * their `subject`.
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { resolveDescriptor } from '../image/resolve.js'
import { utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import { parseDigest } from '../oci/digest.js'
import {
  COSIGN_KIND_ANNOTATION,
  COSIGN_KIND_ATTS,
  COSIGN_KIND_IMAGE,
  COSIGN_KIND_IMAGE_INDEX,
  COSIGN_KIND_SIGS,
  createLayoutStore,
  type LayoutFileSystem,
} from '../oci/layout.js'
import { isImageIndex, parseManifest } from '../oci/manifest.js'
import { isIndexMediaType, OCI_IMAGE_INDEX_MEDIA_TYPE } from '../oci/media-types.js'
import { listReferrers, pushReferrer } from '../oci/referrers.js'
import type { ProgressCallback } from '../oci/registry.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { attachmentReference } from '../signature/cosign-tags.js'
import { type CopySink, copyTree } from './copy-tree.js'

/** Default largest blob `save`/`load` copy (blobs are held in memory one at a time). */
const DEFAULT_MAX_BLOB_SIZE = 1024 * 1024 * 1024

/**
 * Options shared by {@link saveImage} and {@link loadImage}.
 *
 * Exported from `countersign/artifacts`.
 */
export interface LayoutTransferOptions extends StoreCallOptions {
  /** The registry (or other store) side. */
  readonly store: OCIStore
  /** The layout directory's files (`createNodeLayoutFileSystem(dir)` from `countersign/node`). */
  readonly fs: LayoutFileSystem
  /** Signatures and referrers live in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** Largest blob copied; default 1 GiB (each blob is held in memory while copied). */
  readonly maxBlobSize?: number
  /**
   * Progress of each blob copied: its digest, bytes so far and total. `saveImage` reports the download from the
   * store, `loadImage` the upload to it (when the store reports progress, as the registry client does).
   */
  readonly onBlobProgress?: (digest: string, done: number, total: number | undefined) => void
}

/**
 * What {@link saveImage} wrote or {@link loadImage} pushed.
 *
 * Exported from `countersign/artifacts`.
 */
export interface LayoutTransferResult {
  /** The image (or index) digest. */
  readonly digest: string
  /** `image` or `imageIndex`. */
  readonly kind: 'image' | 'imageIndex'
  /** Digest of the `.sig` image, when there was one. */
  readonly signatures?: string
  /** Digest of the `.att` image, when there was one. */
  readonly attestations?: string
  /** Referrer manifests copied. */
  readonly referrers: readonly Descriptor[]
}

const OCI_LAYOUT_FILE = utf8('{\n    "imageLayoutVersion": "1.0.0"\n}')

/**
 * Save an image or index, its `.sig` and `.att` images and its referrers (those with an artifact type) into an OCI
 * image layout, as `cosign save --dir` does: blobs under `blobs/sha256`, then `oci-layout` and an `index.json`
 * (go-containerregistry's indented form) listing the image and the two tag images with their `kind` annotation.
 * An existing `index.json` in the directory is replaced; blobs already present are kept. As with cosign, the
 * per-platform signatures of an index's children are not saved.
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND (image missing); ERR_OCI_SIZE_LIMIT for a blob over `maxBlobSize`;
 *   store and file-system errors.
 * @example
 * ```ts
 * import { saveImage } from 'countersign/artifacts'
 * import { createNodeLayoutFileSystem } from 'countersign/node'
 * await saveImage(ref, { store, fs: createNodeLayoutFileSystem('./signed-image') })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function saveImage(ref: Reference, options: LayoutTransferOptions): Promise<LayoutTransferResult> {
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  const { store, fs } = options
  const copyOptions = {
    ...call,
    maxBlobSize: options.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE,
    ...(options.onBlobProgress ? { onBlobProgress: options.onBlobProgress } : {}),
  }
  const sink = layoutSink(fs)
  const subject = await resolveDescriptor(ref, store, undefined, call)
  const digest = subject.digest
  const sigRepo: Repository = options.signatureRepository ?? ref

  const referrers = (await listReferrers(store, sigRepo, digest, call)).filter((d) => d.artifactType)
  for (const r of referrers) await copyTree(store, sigRepo, r.digest, sink, copyOptions)

  const image = await copyTree(store, ref, digest, sink, copyOptions)
  const kind = isImageIndex(image.manifest) ? 'imageIndex' : 'image'
  const entries: Descriptor[] = [
    entry(image.descriptor, kind === 'imageIndex' ? COSIGN_KIND_IMAGE_INDEX : COSIGN_KIND_IMAGE),
  ]
  const tagImage = async (suffix: 'sig' | 'att') => {
    const tagRef = attachmentReference(ref, digest, suffix, options.signatureRepository)
    let target: string
    try {
      target = (await store.resolve(tagRef, call)).digest
    } catch (e) {
      if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
      throw e
    }
    return (await copyTree(store, tagRef, target, sink, copyOptions)).descriptor
  }
  const sigs = await tagImage('sig')
  if (sigs !== undefined) entries.push(entry(sigs, COSIGN_KIND_SIGS))
  const atts = await tagImage('att')
  if (atts !== undefined) entries.push(entry(atts, COSIGN_KIND_ATTS))

  await fs.writeFile('oci-layout', OCI_LAYOUT_FILE)
  await fs.writeFile('index.json', layoutIndex(entries))
  return {
    digest,
    kind,
    ...(sigs !== undefined ? { signatures: sigs.digest } : {}),
    ...(atts !== undefined ? { attestations: atts.digest } : {}),
    referrers,
  }
}

/**
 * Push what {@link saveImage} (or `cosign save`) wrote back to a registry, as `cosign load --dir` does: the image or
 * index at `ref` (its tag, or its digest), the `.sig` and `.att` images at the tags for its digest, and every
 * referrer manifest in the layout whose `subject` is the image, by digest (maintaining the referrers tag-schema
 * index on registries without the Referrers API). Blobs always go before the manifests that need them.
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND when the layout has no `dev.cosignproject.cosign/image` or
 *   `…/imageIndex` entry; ERR_OCI_DIGEST_MISMATCH when `ref` names another digest; store and layout errors.
 * @example
 * ```ts
 * import { loadImage } from 'countersign/artifacts'
 * import { createNodeLayoutFileSystem } from 'countersign/node'
 * await loadImage(parseReference('registry.local/app:v1'), { store, fs: createNodeLayoutFileSystem('./signed-image') })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function loadImage(ref: Reference, options: LayoutTransferOptions): Promise<LayoutTransferResult> {
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  const { store, fs } = options
  const layout = createLayoutStore(fs)
  // Reading the layout is local and quick; the progress worth showing is the upload, reported by the sink.
  const copyOptions = { ...call, maxBlobSize: options.maxBlobSize ?? DEFAULT_MAX_BLOB_SIZE }
  const onBlob = options.onBlobProgress
  const indexBytes = await fs.readFile('index.json')
  if (indexBytes === undefined)
    throw new CountersignError('ERR_OCI_NOT_FOUND', 'not an OCI image layout: index.json is missing')
  const index = parseManifest(indexBytes, OCI_IMAGE_INDEX_MEDIA_TYPE)
  if (!isImageIndex(index)) throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json is not an image index')
  const byKind = (kind: string) => index.manifests.find((d) => d.annotations?.[COSIGN_KIND_ANNOTATION] === kind)
  const top = byKind(COSIGN_KIND_IMAGE_INDEX) ?? byKind(COSIGN_KIND_IMAGE)
  if (top === undefined) {
    throw new CountersignError(
      'ERR_OCI_NOT_FOUND',
      'the layout has no image saved by cosign save (no "kind" annotation)',
    )
  }
  const digest = top.digest
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new CountersignError('ERR_OCI_DIGEST_MISMATCH', `the layout holds ${digest}, not ${ref.digest}`)
  }
  const here: Repository = { registry: 'localhost', repository: 'layout' }
  await copyTree(
    layout,
    here,
    digest,
    storeSink(store, ref, call, onBlob),
    copyOptions,
    ref.digest ? undefined : (ref.tag ?? 'latest'),
  )
  const kind = isIndexMediaType(top.mediaType) ? 'imageIndex' : 'image'

  const tagImage = async (kindAnnotation: string, suffix: 'sig' | 'att') => {
    const d = byKind(kindAnnotation)
    if (d === undefined) return undefined
    const tagRef = attachmentReference(ref, digest, suffix, options.signatureRepository)
    await copyTree(layout, here, d.digest, storeSink(store, tagRef, call, onBlob), copyOptions, tagRef.tag)
    return d.digest
  }
  const signatures = await tagImage(COSIGN_KIND_SIGS, 'sig')
  const attestations = await tagImage(COSIGN_KIND_ATTS, 'att')

  const sigRepo: Repository = options.signatureRepository ?? ref
  const referrers = (await layout.referrers(here, digest, call)) ?? []
  for (const r of referrers) {
    // Blobs first, through the tree copy (which also puts the manifest by digest); then pushReferrer re-puts it
    // (a no-op for the registry) and makes it discoverable through the fallback index where needed.
    const fetched = await copyTree(layout, here, r.digest, storeSink(store, sigRepo, call, onBlob), copyOptions)
    const subject = fetched.manifest.subject!
    await pushReferrer(store, sigRepo, fetched.bytes, fetched.descriptor.mediaType, { subject, ...call })
  }
  return {
    digest,
    kind,
    ...(signatures !== undefined ? { signatures } : {}),
    ...(attestations !== undefined ? { attestations } : {}),
    referrers,
  }
}

function entry(d: Descriptor, kind: string): Descriptor {
  return { mediaType: d.mediaType, size: d.size, digest: d.digest, annotations: { [COSIGN_KIND_ANNOTATION]: kind } }
}

/** Blobs and manifests into `blobs/<alg>/<hex>` of a layout; `index.json` is written by the caller. */
function layoutSink(fs: LayoutFileSystem): CopySink {
  const path = (digest: string) => {
    const { algorithm, hex } = parseDigest(digest)
    return `blobs/${algorithm}/${hex}`
  }
  const put = async (digest: string, bytes: Uint8Array) => {
    if (!(await exists(fs, path(digest), bytes.length))) await fs.writeFile(path(digest), bytes)
  }
  return {
    hasBlob: (digest, size) => exists(fs, path(digest), size),
    putBlob: (digest, bytes) => put(digest, bytes),
    putManifest: (digest, bytes) => put(digest, bytes),
  }
}

/** ggcr's writeBlob skips a blob that is there with the right size. */
async function exists(fs: LayoutFileSystem, path: string, size: number): Promise<boolean> {
  if (fs.exists !== undefined && !(await fs.exists(path))) return false
  const bytes = await fs.readFile(path)
  return bytes !== undefined && bytes.length === size
}

/**
 * Blobs into `repo` of a store; the top manifest at `ref`'s tag when given, children by digest. `onBlob` gets each
 * upload's progress through the registry client's `pushBlob` `onProgress` (the layout store has none and ignores it).
 */
function storeSink(
  store: OCIStore,
  repo: Repository,
  call: StoreCallOptions,
  onBlob: LayoutTransferOptions['onBlobProgress'],
): CopySink {
  const r = { registry: repo.registry, repository: repo.repository }
  return {
    hasBlob: (digest) => store.blobExists(r, digest, call),
    putBlob: async (digest, bytes, mediaType) => {
      const pushOptions: StoreCallOptions & { onProgress?: ProgressCallback } = {
        ...call,
        ...(onBlob ? { onProgress: (done: number, total: number | undefined) => onBlob(digest, done, total) } : {}),
      }
      await store.pushBlob(r, bytes, mediaType, pushOptions)
    },
    putManifest: async (digest, bytes, mediaType, tag) => {
      await store.pushManifest(tag !== undefined ? { ...r, tag } : { ...r, digest }, bytes, mediaType, call)
    },
  }
}

/**
 * `index.json` as go-containerregistry's `layout.AppendDescriptor` writes it: `json.MarshalIndent(index, "", "   ")`
 * of a `v1.IndexManifest`.
 */
function layoutIndex(entries: readonly Descriptor[]): Uint8Array {
  const compact = goMarshal(
    goObject([
      ['schemaVersion', 2],
      ['mediaType', OCI_IMAGE_INDEX_MEDIA_TYPE],
      [
        'manifests',
        entries.map((d) =>
          goObject([
            ['mediaType', d.mediaType],
            ['size', d.size],
            ['digest', d.digest],
            ['annotations', d.annotations],
          ]),
        ),
      ],
    ]),
  )
  return utf8(goIndent(compact, '   '))
}

/** Go's `json.Indent` of compact JSON (empty objects and arrays stay `{}` / `[]`). */
function goIndent(json: string, indent: string): string {
  let out = ''
  let depth = 0
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!
    if (inString) {
      out += c
      if (c === '\\') out += json[++i]!
      else if (c === '"') inString = false
      continue
    }
    if (c === '"') {
      inString = true
      out += c
    } else if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      if (json[i + 1] === close) {
        out += c + close
        i++
      } else {
        depth++
        out += `${c}\n${indent.repeat(depth)}`
      }
    } else if (c === '}' || c === ']') {
      depth--
      out += `\n${indent.repeat(depth)}${c}`
    } else if (c === ',') out += `,\n${indent.repeat(depth)}`
    else if (c === ':') out += ': '
    else out += c
  }
  return out
}
