/**
 * Legacy (`.sig` tag) signing, cosign.md §1–2: the simple-signing payload becomes a layer of the signature image at
 * `sha256-<hex>.sig`, appended to what is there with cosign's dedupe rules.
 * @module
 */
import { CountersignError, isCountersignError } from './errors.js'
import { fromBase64, toBase64 } from './internal/bytes.js'
import { parsePublicKey, type VerifyOptions, verifySignature } from './keys/index.js'
import { sha256Digest } from './oci/digest.js'
import { repositoryName } from './oci/reference.js'
import type { Descriptor, OCIStore, Reference, StoreCallOptions } from './oci/types.js'
import type { SignImageOptions, SignImageResult } from './sign.js'
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE } from './signature/annotations.js'
import { attachmentReference } from './signature/cosign-tags.js'
import { buildSignatureImage, readSignatureConfig, signatureLayers } from './signature/signature-image.js'
import { createSimpleSigningPayload } from './signature/simple-signing.js'
import type { Signer, SigningAlgorithm } from './signers/signer.js'

/** Rounds of read-merge-write before giving up on a tag that keeps changing under us. */
const MAX_WRITE_ROUNDS = 12

/**
 * Sign `digest` (of `ref`) in the legacy format. The `.sig` tag is read-modify-write with no locking in the
 * registry (cosign issue #2432), so after writing we re-read it: if another signer replaced it without our layer we
 * merge again, and a second, later check catches a writer that read the tag before our write landed.
 */
export async function signLegacy(
  ref: Reference,
  digest: string,
  signer: Signer,
  options: SignImageOptions,
  call: StoreCallOptions,
): Promise<SignImageResult> {
  const { store } = options
  const payload = createSimpleSigningPayload(options.identity ?? repositoryName(ref), digest, options.annotations)
  const signature = await signer.sign(payload, call)
  const sigRef = attachmentReference(ref, digest, 'sig', options.signatureRepository)
  const layer: Descriptor = {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    size: payload.length,
    digest: await sha256Digest(payload),
    annotations: { [SIGNATURE_ANNOTATION]: toBase64(signature) },
  }
  const result = (deduplicated: boolean, manifestDigest: string): SignImageResult => ({
    format: 'legacy',
    digest,
    signatureReference: sigRef,
    payload,
    signature,
    deduplicated,
    signatureManifestDigest: manifestDigest,
  })

  // The payload is the same in every round; the config depends on the layers read, so it is pushed per round.
  await store.pushBlob(sigRef, payload, SIMPLE_SIGNING_MEDIA_TYPE, call)
  for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
    // Contending writers back off with full jitter so that one of them gets a quiet window.
    if (round > 0) await sleep(Math.random() * Math.min(1000, 20 * 2 ** round))
    const existing = await fetchExisting(store, sigRef, call)
    if (existing && hasLayer(existing.layers, layer)) return result(false, existing.manifestDigest)
    if (round === 0 && existing && (await isDuplicate(existing.layers, layer, payload, signer, call))) {
      return result(true, existing.manifestDigest)
    }
    const image = await buildSignatureImage([...(existing?.layers ?? []), layer], {
      digest: sha256Digest,
      history: existing?.config.history ?? [],
      ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
      ...(options.created
        ? { created: options.created.toISOString().replace(/\.\d{3}Z$/, 'Z') }
        : existing?.config.created
          ? { created: existing.config.created }
          : {}),
    })
    // Blobs first, manifest last: the manifest PUT is the only step that changes what the tag points to.
    await store.pushBlob(sigRef, image.config, image.configDescriptor.mediaType, call)
    // Shrink the read-modify-write window to one round trip: if the tag moved since we read it, merge again.
    const started = Date.now()
    if ((await currentDigest(store, sigRef, call)) !== existing?.manifestDigest) continue
    const written = await store.pushManifest(sigRef, image.manifest, image.manifestMediaType, call)
    if (await stillOurs(store, sigRef, written.digest, layer, call, Date.now() - started)) {
      return result(false, written.digest)
    }
  }
  throw new CountersignError(
    'ERR_OCI_HTTP',
    `the signature tag ${sigRef.tag} kept changing under concurrent writers; gave up after ${MAX_WRITE_ROUNDS} rounds`,
  )
}

/** True when the tag still points at our manifest (or at one that kept our layer), now and a little later. */
async function stillOurs(
  store: OCIStore,
  sigRef: Reference,
  ourDigest: string,
  layer: Descriptor,
  call: StoreCallOptions,
  writeMs: number,
): Promise<boolean> {
  // A writer that checked the tag just before our PUT landed can still overwrite it one round trip later: look
  // again after several of our own round trips.
  for (const wait of [0, Math.min(2000, Math.max(50, 4 * writeMs))]) {
    if (wait > 0) await sleep(wait + Math.random() * wait)
    const now = await store.resolve(sigRef, call)
    if (now.digest === ourDigest) continue
    const current = await fetchExisting(store, sigRef, call)
    if (!current || !hasLayer(current.layers, layer)) return false
  }
  return true
}

async function currentDigest(store: OCIStore, ref: Reference, call: StoreCallOptions): Promise<string | undefined> {
  try {
    return (await store.resolve(ref, call)).digest
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
}

function hasLayer(layers: readonly Descriptor[], layer: Descriptor): boolean {
  const sig = layer.annotations?.[SIGNATURE_ANNOTATION]
  return layers.some((l) => l.digest === layer.digest && l.annotations?.[SIGNATURE_ANNOTATION] === sig)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
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
