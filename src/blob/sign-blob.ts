/**
 * Sign blobs (arbitrary bytes) with any signer (a key, a KMS key, or keyless through Fulcio), as `cosign sign-blob`
 * does: a raw signature over the bytes, and a Sigstore bundle v0.3 with a `messageSignature` (and the certificate
 * when keyless).
 * @module
 */
import { serializeBundle } from '../bundle/bundle.js'
import { bundleVerificationMaterial } from '../bundle/verification-material.js'
import type { Signer, SigningAlgorithm } from '../contracts/signer.js'
import type { WitnessResult } from '../contracts/witness-result.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { defaultSigningAlgorithm } from '../keys/key-info.js'
import type { PublicKey } from '../keys/types.js'
import { BUNDLE_V03_MEDIA_TYPE } from '../oci/media-types.js'
import { checkTransparencyOptions, type TransparencyOptions, witnessForSigning } from '../witness/signing.js'
import { digestNameFor, hashBytes, type MessageDigestAlgorithm, messageDigestHash } from './message-digest.js'

/**
 * Options for {@link signBlob}.
 *
 * Exported from `countersign/blob`.
 */
export interface SignBlobOptions extends TransparencyOptions {
  /** Cancels signing (passed to the signer). */
  readonly signal?: AbortSignalLike
}

/**
 * What {@link signBlob} produced.
 *
 * Exported from `countersign/blob`.
 */
export interface SignBlobResult {
  /** The signature over the blob bytes: DER for ECDSA, raw for RSA and Ed25519 (what `sign-blob` prints, base64). */
  readonly signature: Uint8Array
  /** The digest recorded in the bundle: the hash the signing scheme applies (SHA-256 for pure Ed25519). */
  readonly messageDigest: { readonly algorithm: MessageDigestAlgorithm; readonly digest: Uint8Array }
  /**
   * Sigstore bundle v0.3 JSON (protojson field order): the key hint (or certificate), the message signature, and the
   * verified transparency-log entries and timestamps when the signature was witnessed.
   */
  readonly bundle: Uint8Array
  /** What the logs and timestamp authorities vouched for, when any were used. */
  readonly witnessed?: WitnessResult
}

/**
 * The signature scheme `cosign sign-blob --key` uses for a key: {@link defaultSigningAlgorithm}, except that
 * Ed25519 keys sign pure Ed25519 when nothing goes to the transparency log (cosign's `sign_blob.go` clears the
 * Ed25519ph load option then "to maintain backwards compatibility with older cosign versions").
 *
 * @param key - The signing key's public half.
 * @param options - `tlogUpload` as passed to {@link signBlob} (default `true`).
 * @returns The scheme to give `createKeySigner`.
 * @example
 * ```ts
 * import { blobSigningAlgorithm, signBlob } from 'countersign/blob'
 * import { createKeySigner } from 'countersign/signers'
 * const signer = createKeySigner(key, { algorithm: blobSigningAlgorithm(key.publicKey, { tlogUpload: false }) })
 * ```
 *
 * Exported from `countersign/blob`.
 */
export function blobSigningAlgorithm(
  key: PublicKey,
  options: { readonly tlogUpload?: boolean } = {},
): SigningAlgorithm {
  if (key?.algorithm === 'ed25519' && options.tlogUpload === false) return 'ed25519'
  return defaultSigningAlgorithm(key)
}

/**
 * Sign a blob as `cosign sign-blob` does: the signer signs the raw bytes with its scheme
 * (see {@link blobSigningAlgorithm} for cosign's choice), and the result carries the signature plus the Sigstore bundle
 * v0.3 cosign v3 writes with `--bundle`: `verificationMaterial.publicKey.hint` and `messageSignature { messageDigest,
 * signature }`. For cosign's older `{"base64Signature": …}` file see {@link serializeLegacyBlobBundle}.
 *
 * @param data - The blob.
 * @param signer - Any {@link Signer}; its `algorithm` decides the hash recorded in `messageDigest`.
 * @param options - Transparency: `witness` services, or `tlogUpload: false`.
 * @returns Signature, message digest and bundle bytes.
 * @throws {TypeError} when `data` is not a Uint8Array.
 * @throws {CountersignError} ERR_TLOG_REQUIRED without `witness.transparencyLogs` unless `tlogUpload: false`;
 *   service and verification errors of the witness step; whatever the signer throws.
 * @example
 * ```ts
 * import { blobSigningAlgorithm, signBlob } from 'countersign/blob'
 * import { createKeySigner } from 'countersign/signers'
 * const signer = createKeySigner(key, { algorithm: blobSigningAlgorithm(key.publicKey, { tlogUpload: false }) })
 * const { signature, bundle } = await signBlob(bytes, signer, { tlogUpload: false })
 * ```
 *
 * Exported from `countersign/blob`.
 */
export async function signBlob(
  data: Uint8Array,
  signer: Signer,
  options: SignBlobOptions = {},
): Promise<SignBlobResult> {
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
  if (typeof signer?.sign !== 'function' || typeof signer.keyMaterial !== 'function') {
    throw new TypeError('signer must be a Signer')
  }
  checkTransparencyOptions(options)
  const call = options.signal ? { signal: options.signal } : {}
  const keyMaterial = await signer.keyMaterial(call)
  const material = bundleVerificationMaterial(keyMaterial)
  const hash = messageDigestHash(signer.algorithm)
  const [signature, digest] = await Promise.all([signer.sign(data, call), hashBytes(hash, data)])
  const messageDigest = { algorithm: digestNameFor(hash), digest }
  const content = { type: 'messageSignature', signature, messageDigest } as const
  const witnessed = await witnessForSigning(content, keyMaterial, signer.algorithm, options, call)
  const bundle = serializeBundle({
    mediaType: BUNDLE_V03_MEDIA_TYPE,
    verificationMaterial: material,
    tlogEntries: witnessed?.tlogEntries ?? [],
    ...(witnessed?.timestampVerificationData ? { timestampVerificationData: witnessed.timestampVerificationData } : {}),
    content,
  })
  return { signature, messageDigest, bundle, ...(witnessed ? { witnessed } : {}) }
}
