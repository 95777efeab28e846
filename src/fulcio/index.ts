/**
 * Keyless signing with Fulcio: the v2 certificate client, the checks a returned certificate must pass before use,
 * and the keyless `Signer` (ephemeral non-extractable P-256 key + verified Fulcio certificate).
 *
 * Exported from `countersign/fulcio`.
 * @module
 */
export {
  type KeylessIdentity,
  type VerifiedFulcioCertificate,
  type VerifyFulcioCertificateOptions,
  verifyFulcioCertificate,
} from './certificate-check.js'
export {
  createFulcioClient,
  FULCIO_PUBLIC_GOOD_URL,
  type FulcioClient,
  type FulcioClientOptions,
  type SigningCertificate,
  type SigningCertificateRequest,
} from './client.js'
export { createKeylessSigner, type KeylessSigner, type KeylessSignerOptions } from './keyless-signer.js'
