/** PEM encoding of keys, byte-identical to what cosign writes. @module */
import { encodePEM } from '../internal/pem.js'
import type { PrivateKey, PublicKey } from './types.js'

/**
 * Encode a public key as a `PUBLIC KEY` PEM block (SubjectPublicKeyInfo), exactly like `cosign.pub`
 * (`cryptoutils.MarshalPublicKeyToPEM`: 64-character lines, trailing newline).
 *
 * @param key - A public key.
 * @returns The PEM text.
 * @example
 * ```ts
 * import { publicKeyToPEM } from 'countersign/keys'
 * await writeFile('cosign.pub', publicKeyToPEM(key.publicKey))
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function publicKeyToPEM(key: PublicKey): string {
  if (!(key?.spki instanceof Uint8Array)) throw new TypeError('key must be a PublicKey')
  return encodePEM('PUBLIC KEY', key.spki)
}

/**
 * Encode a private key as an unencrypted PKCS#8 `PRIVATE KEY` PEM block. Prefer
 * {@link encryptCosignPrivateKey} for anything written to disk.
 *
 * @param key - A private key.
 * @returns The PEM text (secret).
 * @example
 * ```ts
 * import { privateKeyToPEM } from 'countersign/keys'
 * const pem = privateKeyToPEM(key) // -----BEGIN PRIVATE KEY-----
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function privateKeyToPEM(key: PrivateKey): string {
  if (!(key?.pkcs8 instanceof Uint8Array)) throw new TypeError('key must be a PrivateKey')
  return encodePEM('PRIVATE KEY', key.pkcs8)
}
