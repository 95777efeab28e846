/**
 * Legacy (`.sig` tag) signing (docs/formats.md §Simple signing payload, §Legacy signature image): the simple-signing
 * payload becomes a layer of the signature image at `sha256-<hex>.sig`, appended to what is there with cosign's
 * dedupe rules.
 * @module
 */

import type { Signer, SigningAlgorithm } from '../../contracts/signer.js'
import { fromBase64, fromHex, toBase64 } from '../../internal/bytes.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import type { VerifyOptions } from '../../keys/types.js'
import { verifySignature } from '../../keys/verify.js'
import { sha256Digest } from '../../oci/digest.js'
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../../oci/media-types.js'
import { repositoryName } from '../../oci/reference.js'
import type { Descriptor, Reference, StoreCallOptions } from '../../oci/types.js'
import { SIGNATURE_ANNOTATION } from '../../signature/annotations.js'
import { attachmentReference } from '../../signature/cosign-tags.js'
import { createSimpleSigningPayload } from '../../signature/simple-signing.js'
import { legacyWitnessAnnotations } from '../../signature/witness-annotations.js'
import { witnessForSigning } from '../../witness/signing.js'
import type { SignImageOptions, SignImageResult } from '../sign.js'
import { writeAttachmentImage } from './attachment-write.js'

/**
 * Sign `digest` (of `ref`) in the legacy format. The `.sig` tag is read-modify-write with no locking in the
 * registry (cosign issue #2432); `writeAttachmentImage` re-reads and merges again while concurrent writers move it.
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
  const payloadDigest = await sha256Digest(payload)
  const material = await signer.keyMaterial(call)
  // cosign logs a legacy signature as a hashedrekord over the payload's SHA-256.
  const witnessed = await witnessForSigning(
    {
      type: 'messageSignature',
      signature,
      messageDigest: { algorithm: 'SHA2_256', digest: fromHex(payloadDigest.slice('sha256:'.length)) },
    },
    material,
    signer.algorithm,
    options,
    call,
  )
  const sigRef = attachmentReference(ref, digest, 'sig', options.signatureRepository)
  const layer: Descriptor = {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    size: payload.length,
    digest: payloadDigest,
    annotations: { [SIGNATURE_ANNOTATION]: toBase64(signature), ...legacyWitnessAnnotations(material, witnessed) },
  }
  const result = (deduplicated: boolean, manifestDigest: string): SignImageResult => ({
    format: 'legacy',
    digest,
    signatureReference: sigRef,
    payload,
    signature,
    deduplicated,
    signatureManifestDigest: manifestDigest,
    ...(witnessed ? { witnessed } : {}),
  })

  await store.pushBlob(sigRef, payload, SIMPLE_SIGNING_MEDIA_TYPE, call)
  let deduplicated = false
  const manifestDigest = await writeAttachmentImage(store, sigRef, {
    ...call,
    ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    written: (layers) => hasLayer(layers, layer),
    plan: async (existing) => {
      if (existing && (await isDuplicate(existing.layers, layer, payload, signer, call))) {
        deduplicated = true
        return undefined
      }
      const created = options.created?.toISOString().replace(/\.\d{3}Z$/, 'Z') ?? existing?.config.created
      return {
        layers: [...(existing?.layers ?? []), layer],
        history: existing?.config.history ?? [],
        ...(created ? { created } : {}),
      }
    },
  })
  return result(deduplicated, manifestDigest)
}

function hasLayer(layers: readonly Descriptor[], layer: Descriptor): boolean {
  const sig = layer.annotations?.[SIGNATURE_ANNOTATION]
  return layers.some((l) => l.digest === layer.digest && l.annotations?.[SIGNATURE_ANNOTATION] === sig)
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
    case 'rsa-pkcs1v15-sha384':
      return { hash: 'sha384' }
    case 'ecdsa-p521-sha512':
    case 'rsa-pkcs1v15-sha512':
      return { hash: 'sha512' }
    case 'ed25519ph':
      return { ed25519ph: true }
    case 'rsa-pss-sha256':
      return { hash: 'sha256', rsaPadding: 'pss' }
    case 'rsa-pss-sha384':
      return { hash: 'sha384', rsaPadding: 'pss' }
    case 'rsa-pss-sha512':
      return { hash: 'sha512', rsaPadding: 'pss' }
    default:
      return { hash: 'sha256' }
  }
}
