import type { AbortSignalLike } from '../internal/host-types.js'
/** The Signer interface every signing path accepts (local key, KMS, keyless). @module */

/**
 * Signature algorithms a {@link Signer} may report (cosign/sigstore names). The RSA SHA-384/512 schemes come from
 * KMS keys (AWS, GCP, Azure); local keys sign with SHA-256.
 *
 * Exported from `countersign/signers`.
 */
export type SigningAlgorithm =
  | 'ecdsa-p256-sha256'
  | 'ecdsa-p384-sha384'
  | 'ecdsa-p521-sha512'
  | 'ed25519'
  | 'ed25519ph'
  | 'rsa-pkcs1v15-sha256'
  | 'rsa-pkcs1v15-sha384'
  | 'rsa-pkcs1v15-sha512'
  | 'rsa-pss-sha256'
  | 'rsa-pss-sha384'
  | 'rsa-pss-sha512'

/**
 * What a verifier needs to check a signature: a public key or a certificate chain.
 *
 * Exported from `countersign/signers`.
 */
export type KeyMaterial =
  | { readonly type: 'public-key'; readonly spki: Uint8Array; readonly hint?: string }
  /** DER certificates, leaf first. */
  | { readonly type: 'x509'; readonly chain: readonly Uint8Array[] }

/**
 * Signs messages. Implementations hash internally (the message is passed, not a prehash), return DER for ECDSA,
 * and expose their key material before the first signature (a Fulcio CSR needs it).
 *
 * @example
 * ```ts
 * import type { Signer } from 'countersign/signers'
 * const signer: Signer = {
 *   algorithm: 'ecdsa-p256-sha256',
 *   keyMaterial: async () => ({ type: 'public-key', spki }),
 *   sign: async (data) => myHsm.sign(data),
 * }
 * ```
 *
 * Exported from `countersign/signers`.
 */
export interface Signer {
  readonly algorithm: SigningAlgorithm
  keyMaterial(options?: { readonly signal?: AbortSignalLike }): Promise<KeyMaterial>
  sign(data: Uint8Array, options?: { readonly signal?: AbortSignalLike }): Promise<Uint8Array>
}
