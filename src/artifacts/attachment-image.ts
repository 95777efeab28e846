/**
 * Writing cosign's tag-based attachment images (`.sig`, `.att`, `.sbom`): one image whose layers are the attached
 * payloads, config and manifest exactly as cosign's go-containerregistry code builds them. Never exported.
 * @module
 */
import { writeAttachmentImage } from '../image/legacy/attachment-write.js'
import { sha256Digest } from '../oci/digest.js'
import type { ProgressCallback } from '../oci/registry.js'
import type { Descriptor, OCIStore, PushedManifest, Reference, StoreCallOptions } from '../oci/types.js'
import { SIGNATURE_ANNOTATION } from '../signature/annotations.js'
import { buildSignatureImage } from '../signature/signature-image.js'

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
 * `WriteSignatures` do (no dedupe), through the shared read-modify-write protection for attachment tags.
 *
 * @returns The digest of the manifest now holding the layers.
 */
export async function appendAttachmentLayers(
  store: OCIStore,
  tagRef: Reference,
  layers: readonly AttachmentLayer[],
  options: AttachmentWriteOptions,
): Promise<string> {
  const call = options.signal ? { signal: options.signal } : {}
  for (const l of layers) await pushBlobWithProgress(store, tagRef, l.bytes, l.descriptor.mediaType, options)
  const ours = layers.map((l) => l.descriptor)
  return writeAttachmentImage(store, tagRef, {
    ...call,
    ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
    written: (have) => ours.every((d) => hasLayer(have, d)),
    plan: async (existing) => ({
      layers: [...(existing?.layers ?? []), ...ours],
      history: existing?.config.history ?? [],
      ...(existing?.config.created !== undefined ? { created: existing.config.created } : {}),
    }),
  })
}

function hasLayer(layers: readonly Descriptor[], d: Descriptor): boolean {
  const sig = d.annotations?.[SIGNATURE_ANNOTATION]
  return layers.some((l) => l.digest === d.digest && l.annotations?.[SIGNATURE_ANNOTATION] === sig)
}
