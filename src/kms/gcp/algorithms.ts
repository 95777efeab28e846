/** Cloud KMS `CryptoKeyVersionAlgorithm` values, sigstore's names for them, and countersign's signing schemes. @module */

import type { SigningAlgorithm } from '../../contracts/signer.js'
import type { HashAlgorithm, KeyAlgorithm } from '../../keys/types.js'

/** What one Cloud KMS signing algorithm means for us. */
export interface GCPAlgorithmInfo {
  readonly signing: SigningAlgorithm
  readonly hash: HashAlgorithm
  readonly key: KeyAlgorithm
  readonly rsaBits?: number
}

function rsa(signing: SigningAlgorithm, hash: HashAlgorithm, rsaBits: number): GCPAlgorithmInfo {
  return { signing, hash, key: 'rsa', rsaBits }
}

/** The algorithms sigstore's GCP signer accepts (its `algorithmMap`); anything else is refused as sigstore does. */
export const GCP_ALGORITHMS: Readonly<Record<string, GCPAlgorithmInfo>> = Object.freeze({
  EC_SIGN_P256_SHA256: { signing: 'ecdsa-p256-sha256', hash: 'sha256', key: 'ecdsa-p256' },
  EC_SIGN_P384_SHA384: { signing: 'ecdsa-p384-sha384', hash: 'sha384', key: 'ecdsa-p384' },
  RSA_SIGN_PKCS1_2048_SHA256: rsa('rsa-pkcs1v15-sha256', 'sha256', 2048),
  RSA_SIGN_PKCS1_3072_SHA256: rsa('rsa-pkcs1v15-sha256', 'sha256', 3072),
  RSA_SIGN_PKCS1_4096_SHA256: rsa('rsa-pkcs1v15-sha256', 'sha256', 4096),
  RSA_SIGN_PKCS1_4096_SHA512: rsa('rsa-pkcs1v15-sha512', 'sha512', 4096),
  RSA_SIGN_PSS_2048_SHA256: rsa('rsa-pss-sha256', 'sha256', 2048),
  RSA_SIGN_PSS_3072_SHA256: rsa('rsa-pss-sha256', 'sha256', 3072),
  RSA_SIGN_PSS_4096_SHA256: rsa('rsa-pss-sha256', 'sha256', 4096),
  RSA_SIGN_PSS_4096_SHA512: rsa('rsa-pss-sha512', 'sha512', 4096),
})

/**
 * Key algorithms for `createKey`, by sigstore's names (`cosign generate-key-pair --kms` uses its default,
 * `ecdsa-p256-sha256`) or Cloud KMS's own enum names.
 *
 * Exported from `countersign/kms/gcp`.
 */
export type GCPKeyAlgorithm =
  | 'ecdsa-p256-sha256'
  | 'ecdsa-p384-sha384'
  | 'rsa-pkcs1v15-2048-sha256'
  | 'rsa-pkcs1v15-3072-sha256'
  | 'rsa-pkcs1v15-4096-sha256'
  | 'rsa-pkcs1v15-4096-sha512'
  | 'rsa-pss-2048-sha256'
  | 'rsa-pss-3072-sha256'
  | 'rsa-pss-4096-sha256'
  | 'rsa-pss-4096-sha512'
  | keyof typeof GCP_ALGORITHMS

const SIGSTORE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  'ecdsa-p256-sha256': 'EC_SIGN_P256_SHA256',
  'ecdsa-p384-sha384': 'EC_SIGN_P384_SHA384',
  'rsa-pkcs1v15-2048-sha256': 'RSA_SIGN_PKCS1_2048_SHA256',
  'rsa-pkcs1v15-3072-sha256': 'RSA_SIGN_PKCS1_3072_SHA256',
  'rsa-pkcs1v15-4096-sha256': 'RSA_SIGN_PKCS1_4096_SHA256',
  'rsa-pkcs1v15-4096-sha512': 'RSA_SIGN_PKCS1_4096_SHA512',
  'rsa-pss-2048-sha256': 'RSA_SIGN_PSS_2048_SHA256',
  'rsa-pss-3072-sha256': 'RSA_SIGN_PSS_3072_SHA256',
  'rsa-pss-4096-sha256': 'RSA_SIGN_PSS_4096_SHA256',
  'rsa-pss-4096-sha512': 'RSA_SIGN_PSS_4096_SHA512',
})

/**
 * For a generic {@link SigningAlgorithm} (the KMS contract's `createKey({ algorithm })`): RSA keys get the smallest
 * modulus Cloud KMS offers for that scheme.
 */
const BY_SIGNING: Readonly<Partial<Record<SigningAlgorithm, string>>> = Object.freeze({
  'ecdsa-p256-sha256': 'EC_SIGN_P256_SHA256',
  'ecdsa-p384-sha384': 'EC_SIGN_P384_SHA384',
  'rsa-pkcs1v15-sha256': 'RSA_SIGN_PKCS1_2048_SHA256',
  'rsa-pkcs1v15-sha512': 'RSA_SIGN_PKCS1_4096_SHA512',
  'rsa-pss-sha256': 'RSA_SIGN_PSS_2048_SHA256',
  'rsa-pss-sha512': 'RSA_SIGN_PSS_4096_SHA512',
})

/** The Cloud KMS enum for a sigstore name, an enum name, or a generic signing scheme; undefined if unsupported. */
export function gcpAlgorithmName(name: string): string | undefined {
  if (Object.hasOwn(GCP_ALGORITHMS, name)) return name
  if (Object.hasOwn(SIGSTORE_NAMES, name)) return SIGSTORE_NAMES[name]
  return Object.hasOwn(BY_SIGNING, name) ? BY_SIGNING[name as SigningAlgorithm] : undefined
}
