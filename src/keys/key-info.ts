/** Small facts about a key: its Sigstore hint and cosign's default signature scheme. @module */

import type { SigningAlgorithm } from '../contracts/signer.js'
import { CountersignError } from '../errors.js'
import { toBase64 } from '../internal/bytes.js'
import { sha256 } from '../internal/sha2.js'
import type { PublicKey } from './types.js'

/**
 * The key hint used in Sigstore bundles (`verificationMaterial.publicKey.hint`): standard base64 of SHA-256 over the
 * DER SubjectPublicKeyInfo.
 *
 * @param key - A public key.
 * @returns The base64 hint (44 characters).
 * @example
 * ```ts
 * import { keyHint, parsePublicKey } from 'countersign/keys'
 * const hint = keyHint(parsePublicKey(pem))
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function keyHint(key: PublicKey): string {
  if (!(key?.spki instanceof Uint8Array)) throw new TypeError('key must be a PublicKey')
  return toBase64(sha256(key.spki))
}

/**
 * The signature scheme cosign uses for a key when signing (`signature.GetDefaultAlgorithmDetails` with cosign's
 * `WithED25519ph()` load option): P-256 → `ecdsa-p256-sha256`, P-384 → `ecdsa-p384-sha384`, P-521 →
 * `ecdsa-p521-sha512`, RSA → `rsa-pkcs1v15-sha256`, Ed25519 → `ed25519ph`.
 *
 * Note that `cosign verify --key` checks Ed25519 signatures as pure Ed25519 and ECDSA with SHA-256 regardless of the
 * curve; see {@link verifySignature}.
 *
 * @param key - A public key.
 * @returns The default {@link SigningAlgorithm}.
 * @example
 * ```ts
 * import { defaultSigningAlgorithm } from 'countersign/keys'
 * defaultSigningAlgorithm(key.publicKey) // 'ecdsa-p256-sha256'
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function defaultSigningAlgorithm(key: PublicKey): SigningAlgorithm {
  switch (key?.algorithm) {
    case 'ecdsa-p256':
      return 'ecdsa-p256-sha256'
    case 'ecdsa-p384':
      return 'ecdsa-p384-sha384'
    case 'ecdsa-p521':
      return 'ecdsa-p521-sha512'
    case 'rsa':
      return 'rsa-pkcs1v15-sha256'
    case 'ed25519':
      return 'ed25519ph'
    default:
      throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported key algorithm ${String(key?.algorithm)}`)
  }
}

/** Which signature schemes each key family may use. */
export function signingAlgorithmsFor(key: PublicKey): readonly SigningAlgorithm[] {
  switch (key.algorithm) {
    case 'ecdsa-p256':
      return ['ecdsa-p256-sha256']
    case 'ecdsa-p384':
      return ['ecdsa-p384-sha384']
    case 'ecdsa-p521':
      return ['ecdsa-p521-sha512']
    case 'rsa':
      return ['rsa-pkcs1v15-sha256', 'rsa-pss-sha256']
    case 'ed25519':
      return ['ed25519', 'ed25519ph']
    default:
      return []
  }
}
