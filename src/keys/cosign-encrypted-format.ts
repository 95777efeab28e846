/**
 * How to recognise a cosign encrypted private key without decrypting it: its PEM labels. Kept apart from the
 * decryption code (scrypt, secretbox) so that code which only needs to tell keys apart does not load it.
 * @module
 */
import { fromUtf8 } from '../internal/bytes.js'
import { decodePEM } from '../internal/pem.js'

/**
 * PEM label of keys written by cosign ≥ 2.2 and by `cosign import-key-pair`.
 *
 * @example
 * ```ts
 * import { COSIGN_PEM_LABEL } from 'countersign/keys'
 * pem.startsWith(`-----BEGIN ${COSIGN_PEM_LABEL}-----`)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export const COSIGN_PEM_LABEL = 'ENCRYPTED SIGSTORE PRIVATE KEY'

/**
 * PEM label of keys written by cosign before 2.2; still accepted when loading.
 *
 * @example
 * ```ts
 * import { LEGACY_COSIGN_PEM_LABEL } from 'countersign/keys'
 * pem.includes(LEGACY_COSIGN_PEM_LABEL)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export const LEGACY_COSIGN_PEM_LABEL = 'ENCRYPTED COSIGN PRIVATE KEY'

/** The text of a PEM given as text or UTF-8 bytes. */
export function pemText(pem: string | Uint8Array): string {
  if (typeof pem === 'string') return pem
  if (pem instanceof Uint8Array) return fromUtf8(pem, 'encrypted private key')
  throw new TypeError('pem must be a string or Uint8Array')
}

/**
 * True when `pem` holds a cosign encrypted private key (either PEM label). Never throws on malformed input.
 *
 * @param pem - PEM text or bytes.
 * @returns Whether the first PEM block carries a cosign encrypted-key label.
 * @example
 * ```ts
 * import { isCosignEncryptedKey } from 'countersign/keys'
 * if (isCosignEncryptedKey(text)) key = await decryptCosignPrivateKey(text, password)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function isCosignEncryptedKey(pem: string | Uint8Array): boolean {
  try {
    const { label } = decodePEM(pemText(pem))
    return label === COSIGN_PEM_LABEL || label === LEGACY_COSIGN_PEM_LABEL
  } catch {
    return false
  }
}
