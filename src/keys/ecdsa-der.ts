/**
 * ECDSA signature encodings: ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` (what cosign and Sigstore store) and
 * IEEE P1363 `r ‖ s` (what Web Crypto produces and consumes).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import {
  type DERContext,
  encodeInteger,
  encodeSequence,
  parseDER,
  readSequence,
  readUnsignedInteger,
} from '../internal/der.js'

const SIG_CTX: DERContext = { code: 'ERR_INVALID_INPUT', what: 'ECDSA signature' }

/**
 * Convert a DER ECDSA signature to fixed-width P1363 `r ‖ s`. Parsing is as strict as Go's `ecdsa.VerifyASN1`:
 * one SEQUENCE of exactly two minimal, non-negative INTEGERs and nothing after it. Values that cannot fit
 * `size` bytes are rejected; range checks against the group order are left to the verifier. High-S values pass
 * through unchanged (Go signers produce them and Go verifiers accept them).
 *
 * @param der - The DER signature.
 * @param size - Scalar byte length of the curve: 32 (P-256), 48 (P-384) or 66 (P-521).
 * @returns `2 * size` bytes.
 * @throws {CountersignError} ERR_INVALID_INPUT when the DER is malformed or a value is too large.
 * @example
 * ```ts
 * import { ecdsaDERToP1363 } from 'countersign/keys'
 * const raw = ecdsaDERToP1363(derSignature, 32) // 64 bytes for crypto.subtle.verify
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function ecdsaDERToP1363(der: Uint8Array, size: number): Uint8Array {
  if (!(der instanceof Uint8Array)) throw new TypeError('signature must be a Uint8Array')
  if (!Number.isInteger(size) || size <= 0) throw new RangeError('size must be a positive integer')
  const [rNode, sNode, ...rest] = readSequence(parseDER(der, SIG_CTX), 'signature SEQUENCE', SIG_CTX)
  if (rest.length > 0) throw new CountersignError('ERR_INVALID_INPUT', 'ECDSA signature is malformed: extra fields')
  const out = new Uint8Array(2 * size)
  const parts = [readUnsignedInteger(rNode, 'r', SIG_CTX), readUnsignedInteger(sNode, 's', SIG_CTX)]
  parts.forEach((v, i) => {
    if (v.length > size)
      throw new CountersignError('ERR_INVALID_INPUT', 'ECDSA signature value too large for the curve')
    // Short values (leading zero bytes dropped by DER) are right-aligned into their half.
    out.set(v, i * size + size - v.length)
  })
  return out
}

/**
 * Convert a P1363 `r ‖ s` ECDSA signature (Web Crypto, Azure Key Vault, PKCS#11) to ASN.1 DER, adding the `0x00`
 * prefix where the high bit is set and dropping leading zeros, as Go's `encoding/asn1` does.
 *
 * @param raw - `r ‖ s`, each half the curve's scalar length.
 * @returns The DER signature.
 * @throws {CountersignError} ERR_INVALID_INPUT when the length is odd or zero.
 * @example
 * ```ts
 * import { ecdsaP1363ToDER } from 'countersign/keys'
 * const raw = new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, data))
 * const der = ecdsaP1363ToDER(raw)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function ecdsaP1363ToDER(raw: Uint8Array): Uint8Array {
  if (!(raw instanceof Uint8Array)) throw new TypeError('signature must be a Uint8Array')
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new CountersignError('ERR_INVALID_INPUT', 'P1363 ECDSA signature must have an even, non-zero length')
  }
  const half = raw.length / 2
  return encodeSequence(encodeInteger(raw.subarray(0, half)), encodeInteger(raw.subarray(half)))
}
