/** Sigstore `HashAlgorithm` names for blob message digests, and hashing blobs with Web Crypto. @module */

import type { SigningAlgorithm } from '../contracts/signer.js'
import { toArrayBufferView } from '../internal/bytes.js'
import type { HashAlgorithm, PublicKey } from '../keys/types.js'
import { getSubtle } from '../keys/webcrypto.js'

/**
 * The `messageDigest.algorithm` names countersign writes and checks (protobuf-specs `HashAlgorithm`).
 *
 * Exported from `countersign/blob`.
 */
export type MessageDigestAlgorithm = 'SHA2_256' | 'SHA2_384' | 'SHA2_512'

const BY_NAME: Readonly<Record<MessageDigestAlgorithm, HashAlgorithm>> = Object.freeze({
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
})

const WEBCRYPTO: Readonly<Record<HashAlgorithm, string>> = Object.freeze({
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
})

/** The hash behind a `messageDigest.algorithm` name, or undefined for names we do not check (SHA3, unspecified). */
export function hashForDigestName(name: string): HashAlgorithm | undefined {
  return Object.hasOwn(BY_NAME, name) ? BY_NAME[name as MessageDigestAlgorithm] : undefined
}

/** The `messageDigest.algorithm` name of a hash. */
export function digestNameFor(hash: HashAlgorithm): MessageDigestAlgorithm {
  return hash === 'sha384' ? 'SHA2_384' : hash === 'sha512' ? 'SHA2_512' : 'SHA2_256'
}

/**
 * The hash a signing scheme applies to the message, which is what sigstore-go records as the message digest.
 * Pure Ed25519 hashes nothing up front: cosign then writes an empty `messageDigest` (`{}`), which neither
 * sigstore-go ("message is missing artifact digest") nor sigstore-js (bundle validation) accepts, so countersign
 * records SHA-256 of the blob instead; the signature is the same pure Ed25519 signature cosign makes.
 */
export function messageDigestHash(algorithm: SigningAlgorithm): HashAlgorithm {
  switch (algorithm) {
    case 'ecdsa-p384-sha384':
    case 'rsa-pkcs1v15-sha384':
    case 'rsa-pss-sha384':
      return 'sha384'
    case 'ecdsa-p521-sha512':
    case 'rsa-pkcs1v15-sha512':
    case 'rsa-pss-sha512':
    case 'ed25519ph':
      return 'sha512'
    default:
      return 'sha256'
  }
}

/**
 * The hash a key conventionally signs with (sigstore `LoadDefaultVerifier`, which `cosign verify-blob` uses when
 * `--signature-digest-algorithm` is not given since sigstore/cosign PR #5064): SHA-384 for P-384, SHA-512 for
 * P-521, SHA-256 otherwise.
 */
export function defaultHashForKey(key: PublicKey): HashAlgorithm {
  return key.algorithm === 'ecdsa-p384' ? 'sha384' : key.algorithm === 'ecdsa-p521' ? 'sha512' : 'sha256'
}

/** Hash `data` with Web Crypto. */
export async function hashBytes(hash: HashAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await getSubtle().digest(WEBCRYPTO[hash], toArrayBufferView(data)))
}
