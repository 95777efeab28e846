/**
 * Writing cosign's tag-based attachment images (`.sig`, `.att`, `.sbom`): one image whose layers are the attached
 * payloads, config and manifest exactly as cosign's go-containerregistry code builds them. Never exported.
 * @module
 */
import { CountersignError } from '../errors.js'
import { writeAttachmentImage } from '../image/legacy/attachment-write.js'
import { type HasherFactory, nobleHasher } from '../oci/blob-download.js'
import { sha256Digest } from '../oci/digest.js'
import type { ProgressCallback, PushBlobOptions, RegistryClient } from '../oci/registry.js'
import type { Descriptor, OCIStore, PushedManifest, Reference, StoreCallOptions } from '../oci/types.js'
import { SIGNATURE_ANNOTATION } from '../signature/annotations.js'
import { buildSignatureImage } from '../signature/signature-image.js'
import { type AttachmentContent, contentSize, digestContent, openContent, readContent } from './attachment-content.js'

/** A payload to store as a layer, with its descriptor (annotations included). */
export interface AttachmentLayer {
  readonly descriptor: Descriptor
  readonly content: AttachmentContent
}

/** Options shared by the writers. */
export interface AttachmentWriteOptions extends StoreCallOptions {
  readonly dockerMediaTypes?: boolean
  readonly onProgress?: ProgressCallback
}

/**
 * Build a layer descriptor for `content`: bytes are hashed once here (the upload reuses the digest); streamed
 * content uses its given digest or is hashed in one pass with `hasher` (default `@noble/hashes`).
 */
export async function attachmentLayer(
  content: AttachmentContent,
  mediaType: string,
  annotations?: Readonly<Record<string, string>>,
  hasher: HasherFactory = nobleHasher,
): Promise<AttachmentLayer> {
  const descriptor: Descriptor = {
    mediaType,
    size: contentSize(content),
    digest: content instanceof Uint8Array ? await sha256Digest(content) : await digestContent(content, hasher),
    ...(annotations !== undefined ? { annotations } : {}),
  }
  return { descriptor, content }
}

/**
 * The registry client's `pushBlob` also takes a stream; other stores (layouts, wrappers forwarding only the
 * {@link OCIStore} verbs) take bytes. The client's streaming fetch is what tells it apart.
 */
function takesStreams(store: OCIStore): store is RegistryClient {
  return store.kind === 'registry' && typeof (store as Partial<RegistryClient>).fetchBlobStream === 'function'
}

/**
 * Upload a layer's blob, passing progress to stores that report it (the registry client does; layouts ignore it).
 * The registry client gets the digest computed already, and streamed content as a stream it reopens per upload
 * session, so the content is never held whole; a store that takes bytes only gets it read into one buffer.
 */
export async function pushBlobWithProgress(
  store: OCIStore,
  repo: Reference,
  layer: AttachmentLayer,
  options: AttachmentWriteOptions,
): Promise<Descriptor> {
  const { content, descriptor } = layer
  const call: PushBlobOptions = {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    digest: descriptor.digest,
    size: descriptor.size,
  }
  let pushed: Descriptor
  if (content instanceof Uint8Array) pushed = await store.pushBlob(repo, content, descriptor.mediaType, call)
  else if (takesStreams(store)) {
    pushed = await store.pushBlob(repo, () => openContent(content), descriptor.mediaType, call)
  } else {
    pushed = await store.pushBlob(repo, await readContent(content), descriptor.mediaType, call)
    // The store named the blob by what it hashed; a wrong digest given with the content must not reach a manifest.
    if (pushed.digest !== descriptor.digest) {
      throw new CountersignError(
        'ERR_OCI_DIGEST_MISMATCH',
        `content digest ${pushed.digest} does not match the given ${descriptor.digest}`,
        { details: { expected: descriptor.digest, actual: pushed.digest } },
      )
    }
  }
  // Layouts do not report progress; tell the caller the blob is there anyway.
  if (store.kind !== 'registry') options.onProgress?.(descriptor.size, descriptor.size)
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
  await pushBlobWithProgress(store, tagRef, layer, options)
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
  for (const l of layers) await pushBlobWithProgress(store, tagRef, l, options)
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
