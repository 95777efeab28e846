/**
 * Blobs: sign, attest and verify arbitrary bytes, as `cosign sign-blob` / `attest-blob` / `verify-blob` do, with Sigstore bundles
 * and cosign's older blob bundle format.
 *
 * Exported from `countersign/blob`.
 * @module
 */
export { type AttestBlobOptions, type AttestBlobResult, attestBlob } from './attest-blob.js'
export {
  type LegacyBlobBundle,
  parseLegacyBlobBundle,
  serializeLegacyBlobBundle,
} from './legacy-blob-bundle.js'
export type { MessageDigestAlgorithm } from './message-digest.js'
export { blobSigningAlgorithm, type SignBlobOptions, type SignBlobResult, signBlob } from './sign-blob.js'
export {
  decodeBlobSignature,
  type VerifyBlobOptions,
  type VerifyBlobResult,
  verifyBlob,
} from './verify-blob.js'
