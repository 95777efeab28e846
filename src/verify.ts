/**
 * Verify cosign legacy (`.sig`) image signatures with one or more public keys, returning a result per signature.
 * @module
 */
import { CountersignError, isCountersignError } from './errors.js'
import { fromBase64 } from './internal/bytes.js'
import { mapLimit } from './internal/concurrency.js'
import { type HashAlgorithm, type PublicKey, type VerifyOptions, verifySignature } from './keys/index.js'
import { repositoryName } from './oci/reference.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from './oci/types.js'
import { resolveDigest } from './resolve.js'
import { SIGNATURE_ANNOTATION } from './signature/annotations.js'
import { attachmentReference } from './signature/cosign-tags.js'
import { signatureLayers } from './signature/signature-image.js'
import { parseSimpleSigningPayload, type SimpleSigningPayload } from './signature/simple-signing.js'

/** cosign's default attachment size limit (`COSIGN_MAX_ATTACHMENT_SIZE`, 128 MiB). Exported from `countersign/verify`. */
export const DEFAULT_MAX_PAYLOAD_BYTES: number = 128 * 1024 * 1024

/**
 * Options for {@link verifyImage}.
 *
 * Exported from `countersign/verify`.
 */
export interface VerifyImageOptions extends StoreCallOptions {
  /** Where the image and its signatures live. */
  readonly store: OCIStore
  /** Public keys; a signature passes when any of them verifies it. */
  readonly keys: readonly PublicKey[]
  /** Look for signatures in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** Annotations every accepted signature must carry in `optional`, with equal string values (`-a k=v`). */
  readonly annotations?: Readonly<Record<string, string>>
  /**
   * Skip transparency-log checks. Rekor verification arrives with the Sigstore issue; until then this must be
   * `true`, as with cosign's `--insecure-ignore-tlog`.
   */
  readonly insecureIgnoreTlog?: boolean
  /** Hash for ECDSA/RSA verification (cosign's `--signature-digest-algorithm`); default sha256. */
  readonly hash?: HashAlgorithm
  /** Extra verification options (e.g. `ed25519ph`). */
  readonly verifyOptions?: VerifyOptions
  /** Refuse payload layers larger than this (default 128 MiB). */
  readonly maxPayloadBytes?: number
  /** Signatures checked concurrently (cosign's `--max-workers`, default 10). */
  readonly maxWorkers?: number
}

/**
 * The outcome for one signature layer.
 *
 * Exported from `countersign/verify`.
 */
export interface SignatureCheck {
  /** The layer descriptor in the `.sig` manifest. */
  readonly layer: Descriptor
  /** True when the signature verified under some key and every claim held. */
  readonly verified: boolean
  /** Index into `options.keys` of the key that verified the signature. */
  readonly keyIndex?: number
  /** The payload bytes (when they could be fetched). */
  readonly payload?: Uint8Array
  /** The parsed payload (when it parsed). */
  readonly claims?: SimpleSigningPayload
  /** Why it failed, in cosign's words; empty when verified. */
  readonly reasons: readonly string[]
}

/**
 * What {@link verifyImage} found.
 *
 * Exported from `countersign/verify`.
 */
export interface VerifyImageResult {
  /** The image digest the signatures were checked against. */
  readonly digest: string
  /** Where the signatures were read from. */
  readonly signatureReference: Reference
  /** Signatures that verified (at least one, or the call throws). */
  readonly verified: readonly SignatureCheck[]
  /** Every signature with its outcome. */
  readonly checks: readonly SignatureCheck[]
}

/**
 * Verify an image's legacy cosign signatures by key. Checks, per layer and in cosign's order: the signature over
 * the exact payload bytes, the payload's `docker-manifest-digest`, then the required annotations.
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND (image tag missing), ERR_NO_SIGNATURES (no `.sig` or no layers),
 *   ERR_NO_MATCHING_SIGNATURES (none verified; `details.checks` has every reason), ERR_TLOG_REQUIRED.
 *
 * @example
 * ```ts
 * import { verifyImage } from 'countersign/verify'
 * import { parsePublicKey } from 'countersign/keys'
 * const result = await verifyImage(ref, { store, keys: [parsePublicKey(pem)], insecureIgnoreTlog: true })
 * console.log(result.verified.length)
 * ```
 *
 * Exported from `countersign/verify`.
 */
export async function verifyImage(ref: Reference, options: VerifyImageOptions): Promise<VerifyImageResult> {
  if (options.insecureIgnoreTlog !== true) {
    throw new CountersignError(
      'ERR_TLOG_REQUIRED',
      'transparency log verification is not supported yet; pass --insecure-ignore-tlog (insecureIgnoreTlog: true)',
    )
  }
  if (options.keys.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one public key is required')
  const { store, signal } = options
  const call = signal ? { signal } : {}
  const digest = await resolveDigest(ref, store, undefined, call)
  const sigRef = attachmentReference(ref, digest, 'sig', options.signatureRepository)

  let layers: readonly Descriptor[]
  try {
    layers = signatureLayers((await store.fetchManifest(sigRef, call)).manifest)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) {
      throw new CountersignError('ERR_NO_SIGNATURES', 'no signatures found', { cause: e })
    }
    throw e
  }
  if (layers.length === 0) throw new CountersignError('ERR_NO_SIGNATURES', 'no signatures found')

  // Bounded like cosign's --max-workers (default 10): a .sig may hold up to 1000 layers of up to 128 MiB each.
  const checks = await mapLimit(layers, options.maxWorkers ?? 10, (layer) =>
    checkLayer(layer, digest, sigRef, options, call),
  )
  const verified = checks.filter((c) => c.verified)
  if (verified.length === 0) {
    const reasons = checks.map((c) => c.reasons.join('; '))
    throw new CountersignError('ERR_NO_MATCHING_SIGNATURES', `no matching signatures: ${reasons.join('\n ')}`, {
      details: { digest, reference: repositoryName(ref), checks },
    })
  }
  return { digest, signatureReference: sigRef, verified, checks }
}

async function checkLayer(
  layer: Descriptor,
  digest: string,
  sigRef: Reference,
  options: VerifyImageOptions,
  call: StoreCallOptions,
): Promise<SignatureCheck> {
  const sigB64 = layer.annotations?.[SIGNATURE_ANNOTATION]
  if (!sigB64) return { layer, verified: false, reasons: ['signature annotation missing'] }
  let signature: Uint8Array
  try {
    signature = fromBase64(sigB64)
  } catch {
    return { layer, verified: false, reasons: ['signature annotation is not valid base64'] }
  }
  let payload: Uint8Array
  try {
    payload = await options.store.fetchBlob(sigRef, layer.digest, {
      ...call,
      maxSize: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES,
    })
  } catch (e) {
    if (isCountersignError(e, 'ERR_ABORTED')) throw e
    return { layer, verified: false, reasons: [`fetching payload: ${(e as Error).message}`] }
  }
  const verifyOptions: VerifyOptions = { hash: options.hash ?? 'sha256', ...options.verifyOptions }
  let keyIndex = -1
  for (let i = 0; i < options.keys.length && keyIndex < 0; i++) {
    if (await verifySignature(options.keys[i]!, payload, signature, verifyOptions)) keyIndex = i
  }
  if (keyIndex < 0) {
    return { layer, payload, verified: false, reasons: ['invalid signature when validating ASN.1 encoded signature'] }
  }
  let claims: SimpleSigningPayload
  try {
    claims = parseSimpleSigningPayload(payload)
  } catch (e) {
    return { layer, payload, keyIndex, verified: false, reasons: [(e as Error).message] }
  }
  const found = claims.critical.image['docker-manifest-digest']
  if (found !== digest) {
    return {
      layer,
      payload,
      claims,
      keyIndex,
      verified: false,
      reasons: [`invalid or missing digest in claim: ${found}`],
    }
  }
  for (const [k, v] of Object.entries(options.annotations ?? {})) {
    // cosign compares annotation values as strings (fmt.Sprint of the decoded value).
    const got = claims.optional?.[k]
    if (got === undefined || got === null || String(got) !== v) {
      return { layer, payload, claims, keyIndex, verified: false, reasons: ['missing or incorrect annotation'] }
    }
  }
  return { layer, payload, claims, keyIndex, verified: true, reasons: [] }
}
