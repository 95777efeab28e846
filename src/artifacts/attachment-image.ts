/**
 * Writing cosign's tag-based attachment images (`.sig`, `.att`, `.sbom`): one image whose layers are the attached
 * payloads, config and manifest exactly as cosign's go-containerregistry code builds them. Never exported.
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { sha256Digest } from '../oci/digest.js'
import type { ProgressCallback } from '../oci/registry.js'
import type { Descriptor, OCIStore, PushedManifest, Reference, StoreCallOptions } from '../oci/types.js'
import { SIGNATURE_ANNOTATION } from '../signature/annotations.js'
import { buildSignatureImage, readSignatureConfig, signatureLayers } from '../signature/signature-image.js'

/** A payload to store as a layer, with its descriptor (annotations included). */
export interface AttachmentLayer {
  readonly descriptor: Descriptor
  readonly bytes: Uint8Array
}

/** Options shared by the writers. */
export interface AttachmentWriteOptions extends StoreCallOptions {
  readonly dockerMediaTypes?: boolean
  readonly onProgress?: ProgressCallback
}

/** Rounds of read-merge-write before giving up on a tag that keeps changing under us. */
const MAX_ROUNDS = 6

/** Build a layer descriptor for `bytes`. */
export async function attachmentLayer(
  bytes: Uint8Array,
  mediaType: string,
  annotations?: Readonly<Record<string, string>>,
): Promise<AttachmentLayer> {
  const descriptor: Descriptor = {
    mediaType,
    size: bytes.length,
    digest: await sha256Digest(bytes),
    ...(annotations !== undefined ? { annotations } : {}),
  }
  return { descriptor, bytes }
}

/** Upload a blob, passing progress to stores that report it (the registry client does; layouts ignore it). */
export async function pushBlobWithProgress(
  store: OCIStore,
  repo: Reference,
  bytes: Uint8Array,
  mediaType: string,
  options: AttachmentWriteOptions,
): Promise<Descriptor> {
  const call: StoreCallOptions & { onProgress?: ProgressCallback } = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  }
  const pushed = await store.pushBlob(repo, bytes, mediaType, call)
  // Layouts do not report progress; tell the caller the blob is there anyway.
  if (store.kind !== 'registry') options.onProgress?.(bytes.length, bytes.length)
  return pushed
}

/**
 * Replace whatever is at `tagRef` with a one-layer image (cosign's `static.NewFile` + `remote.Write`, used for the
 * `.sbom` tag). Blobs first, manifest last.
 */
export async function writeSingleLayerImage(
  store: OCIStore,
  tagRef: Reference,
  layer: AttachmentLayer,
  options: AttachmentWriteOptions,
): Promise<PushedManifest> {
  const call = options.signal ? { signal: options.signal } : {}
  await pushBlobWithProgress(store, tagRef, layer.bytes, layer.descriptor.mediaType, options)
  const image = await buildSignatureImage([layer.descriptor], {
    digest: sha256Digest,
    ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
  })
  await store.pushBlob(tagRef, image.config, image.configDescriptor.mediaType, call)
  return store.pushManifest(tagRef, image.manifest, image.manifestMediaType, call)
}

/**
 * Append layers to the image at `tagRef` (`.sig` or `.att`), as cosign's `AttachSignatureToEntity` +
 * `WriteSignatures` do (no dedupe). The tag is read-modify-write with no registry locking, so after writing it is
 * read again and the merge repeated (bounded) when a concurrent writer replaced it without our layers.
 */
export async function appendAttachmentLayers(
  store: OCIStore,
  tagRef: Reference,
  layers: readonly AttachmentLayer[],
  options: AttachmentWriteOptions,
): Promise<PushedManifest> {
  const call = options.signal ? { signal: options.signal } : {}
  for (const l of layers) await pushBlobWithProgress(store, tagRef, l.bytes, l.descriptor.mediaType, options)
  const ours = layers.map((l) => l.descriptor)
  for (let round = 0; round < MAX_ROUNDS; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, Math.random() * 50 * 2 ** round))
    const existing = await readExisting(store, tagRef, call)
    const image = await buildSignatureImage([...(existing?.layers ?? []), ...ours], {
      digest: sha256Digest,
      history: existing?.history ?? [],
      ...(existing?.created !== undefined ? { created: existing.created } : {}),
      ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
    })
    await store.pushBlob(tagRef, image.config, image.configDescriptor.mediaType, call)
    if ((await currentDigest(store, tagRef, call)) !== existing?.digest) continue
    const written = await store.pushManifest(tagRef, image.manifest, image.manifestMediaType, call)
    const after = await readExisting(store, tagRef, call)
    if (after !== undefined && ours.every((d) => hasLayer(after.layers, d))) return written
  }
  throw new CountersignError(
    'ERR_OCI_HTTP',
    `the attachment tag ${tagRef.tag} kept changing under concurrent writers; gave up after ${MAX_ROUNDS} rounds`,
  )
}

function hasLayer(layers: readonly Descriptor[], d: Descriptor): boolean {
  const sig = d.annotations?.[SIGNATURE_ANNOTATION]
  return layers.some((l) => l.digest === d.digest && l.annotations?.[SIGNATURE_ANNOTATION] === sig)
}

async function currentDigest(store: OCIStore, ref: Reference, call: StoreCallOptions): Promise<string | undefined> {
  try {
    return (await store.resolve(ref, call)).digest
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
}

interface Existing {
  readonly digest: string
  readonly layers: readonly Descriptor[]
  readonly history: readonly unknown[]
  readonly created?: string
}

async function readExisting(store: OCIStore, tagRef: Reference, call: StoreCallOptions): Promise<Existing | undefined> {
  let fetched: Awaited<ReturnType<OCIStore['fetchManifest']>>
  try {
    fetched = await store.fetchManifest(tagRef, call)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
  const layers = signatureLayers(fetched.manifest)
  let config: ReturnType<typeof readSignatureConfig> = { history: [] }
  if ('config' in fetched.manifest) {
    try {
      config = readSignatureConfig(
        await store.fetchBlob(tagRef, fetched.manifest.config.digest, { ...call, maxSize: 1 << 20 }),
      )
    } catch (e) {
      // A missing config only carried history; rebuild it rather than fail the append.
      if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND')) throw e
    }
  }
  return {
    digest: fetched.descriptor.digest,
    layers,
    history: config.history,
    ...(config.created !== undefined ? { created: config.created } : {}),
  }
}
