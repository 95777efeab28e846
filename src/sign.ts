/**
 * Sign container images in cosign's legacy format: a simple-signing payload stored as a layer of the
 * `sha256-<hex>.sig` image next to the signed image (cosign.md §1–2).
 * @module
 */
import { CountersignError, isCountersignError } from './errors.js'
import { fromBase64, toBase64 } from './internal/bytes.js'
import { parsePublicKey, type VerifyOptions, verifySignature } from './keys/index.js'
import { sha256Digest } from './oci/digest.js'
import { repositoryName } from './oci/reference.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from './oci/types.js'
import { resolveDigest } from './resolve.js'
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from './signature/annotations.js'
import { attachmentReference } from './signature/cosign-tags.js'
import { buildSignatureImage, readSignatureConfig, signatureLayers } from './signature/signature-image.js'
import { createSimpleSigningPayload } from './signature/simple-signing.js'
import type { Signer, SigningAlgorithm } from './signers/signer.js'

/**
 * Options for {@link signImage}.
 *
 * Exported from `countersign/sign`.
 */
export interface SignImageOptions extends StoreCallOptions {
  /** Where the image and its signatures live: a registry client or an OCI layout. */
  readonly store: OCIStore
  /** Keep signatures in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** `-a key=value` annotations, signed into the payload's `optional`. */
  readonly annotations?: Readonly<Record<string, string>>
  /** Override the payload's `docker-reference` (default: `registry/repository` of `ref`). */
  readonly identity?: string
  /**
   * Upload to a transparency log. Rekor support arrives with keyless signing; until then this must be
   * `false`, as with cosign's `--tlog-upload=false`. Default `true`.
   */
  readonly tlogUpload?: boolean
  /** Docker schema 2 media types for the signature image (cosign's `COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /** Record this time as the signature image's `created` (cosign's `--record-creation-timestamp`). */
  readonly created?: Date
  /** Receives warnings (e.g. signing by tag). */
  readonly onWarning?: (message: string) => void
}

/**
 * What {@link signImage} did.
 *
 * Exported from `countersign/sign`.
 */
export interface SignImageResult {
  /** The signed manifest digest. */
  readonly digest: string
  /** Where the signature image was written (`…:sha256-<hex>.sig`). */
  readonly signatureReference: Reference
  /** The exact payload bytes signed. */
  readonly payload: Uint8Array
  /** The signature (DER for ECDSA). */
  readonly signature: Uint8Array
  /** True when an equal signature by the same key already existed, so nothing was written. */
  readonly deduplicated: boolean
  /** Digest of the signature manifest now at the tag. */
  readonly signatureManifestDigest: string
}

/**
 * Sign an image by key in cosign's legacy `.sig` format. Tags are resolved to a digest first (with a warning);
 * an existing `.sig` image is appended to with cosign's de-duplication rules; blobs are uploaded before the
 * manifest, so a failure never loses the signatures already there.
 *
 * @throws {CountersignError} ERR_TLOG_REQUIRED unless `tlogUpload: false`; ERR_OCI_NOT_FOUND when the image is missing.
 *
 * @example
 * ```ts
 * import { signImage } from 'countersign/sign'
 * import { createRegistryClient, parseReference } from 'countersign/oci'
 * import { createKeySigner } from 'countersign/signers'
 * const store = createRegistryClient()
 * await signImage(parseReference('ghcr.io/acme/app@sha256:…'), createKeySigner(key), { store, tlogUpload: false })
 * ```
 *
 * Exported from `countersign/sign`.
 */
export async function signImage(ref: Reference, signer: Signer, options: SignImageOptions): Promise<SignImageResult> {
  if (options.tlogUpload !== false) {
    throw new CountersignError(
      'ERR_TLOG_REQUIRED',
      'uploading to the transparency log is not supported yet; pass --tlog-upload=false (tlogUpload: false) to sign without it',
    )
  }
  const { store, signal } = options
  const call = signal ? { signal } : {}
  const digest = await resolveDigest(ref, store, options.onWarning, call)
  const payload = createSimpleSigningPayload(options.identity ?? repositoryName(ref), digest, options.annotations)
  const signature = await signer.sign(payload, call)
  const sigRef = attachmentReference(ref, digest, 'sig', options.signatureRepository)
  const layer: Descriptor = {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    size: payload.length,
    digest: await sha256Digest(payload),
    annotations: { [SIGNATURE_ANNOTATION]: toBase64(signature) },
  }

  const existing = await fetchExisting(store, sigRef, call)
  if (existing && (await isDuplicate(existing.layers, layer, payload, signer, call))) {
    return {
      digest,
      signatureReference: sigRef,
      payload,
      signature,
      deduplicated: true,
      signatureManifestDigest: existing.manifestDigest,
    }
  }
  const image = await buildSignatureImage([...(existing?.layers ?? []), layer], {
    digest: sha256Digest,
    history: existing?.config.history ?? [],
    ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
    ...(options.created
      ? { created: options.created.toISOString().replace(/\.000Z$/, 'Z') }
      : existing?.config.created
        ? { created: existing.config.created }
        : {}),
  })
  // Blobs first, manifest last: the manifest PUT is the only step that changes what the tag points to.
  await Promise.all([
    store.pushBlob(sigRef, payload, SIMPLE_SIGNING_MEDIA_TYPE, call),
    store.pushBlob(sigRef, image.config, image.configDescriptor.mediaType, call),
  ])
  const written = await store.pushManifest(sigRef, image.manifest, image.manifestMediaType, call)
  return {
    digest,
    signatureReference: sigRef,
    payload,
    signature,
    deduplicated: false,
    signatureManifestDigest: written.digest,
  }
}

interface Existing {
  readonly layers: readonly Descriptor[]
  readonly config: ReturnType<typeof readSignatureConfig>
  readonly manifestDigest: string
}

async function fetchExisting(
  store: OCIStore,
  sigRef: Reference,
  call: StoreCallOptions,
): Promise<Existing | undefined> {
  let fetched: Awaited<ReturnType<OCIStore['fetchManifest']>>
  try {
    fetched = await store.fetchManifest(sigRef, call)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
  const layers = signatureLayers(fetched.manifest)
  const configDesc = 'config' in fetched.manifest ? fetched.manifest.config : undefined
  // The config only carries history and `created`; if it is gone we rebuild it rather than fail the append.
  let config: Existing['config'] = { history: [] }
  if (configDesc) {
    try {
      config = readSignatureConfig(await store.fetchBlob(sigRef, configDesc.digest, { ...call, maxSize: 1 << 20 }))
    } catch (e) {
      if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND')) throw e
    }
  }
  return { layers, config, manifestDigest: fetched.descriptor.digest }
}

/**
 * cosign's dedupe (`pkg/cosign/remote` dd.Find): same payload digest and media type, every new non-signature
 * annotation present with an equal value, and the existing signature verifies under the new signer's key.
 */
async function isDuplicate(
  layers: readonly Descriptor[],
  layer: Descriptor,
  payload: Uint8Array,
  signer: Signer,
  call: StoreCallOptions,
): Promise<boolean> {
  const candidates = layers.filter((l) => l.digest === layer.digest && l.mediaType === layer.mediaType)
  if (candidates.length === 0) return false
  const material = await signer.keyMaterial(call)
  if (material.type !== 'public-key') return false
  const key = parsePublicKey(material.spki)
  for (const c of candidates) {
    const ann = c.annotations ?? {}
    const sameAnnotations = Object.entries(layer.annotations ?? {}).every(
      ([k, v]) => k === SIGNATURE_ANNOTATION || ann[k] === v,
    )
    const sig = ann[SIGNATURE_ANNOTATION]
    if (!sameAnnotations || !sig) continue
    let sigBytes: Uint8Array
    try {
      sigBytes = fromBase64(sig)
    } catch {
      continue
    }
    if (await verifySignature(key, payload, sigBytes, verifyOptionsFor(signer.algorithm))) return true
  }
  return false
}

/** How to verify what a signer of `algorithm` produced. */
function verifyOptionsFor(algorithm: SigningAlgorithm): VerifyOptions {
  switch (algorithm) {
    case 'ecdsa-p384-sha384':
      return { hash: 'sha384' }
    case 'ecdsa-p521-sha512':
      return { hash: 'sha512' }
    case 'ed25519ph':
      return { ed25519ph: true }
    case 'rsa-pss-sha256':
      return { hash: 'sha256', rsaPadding: 'pss' }
    default:
      return { hash: 'sha256' }
  }
}
