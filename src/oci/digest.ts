/** Content digests (`sha256:<hex>`, `sha512:<hex>`) computed with Web Crypto. @module */
import { CountersignError } from '../errors.js'
import { equalBytes, toArrayBufferView, toHex, utf8 } from '../internal/bytes.js'

/**
 * A digest algorithm countersign can compute and check.
 *
 * @example
 * ```ts
 * const a: DigestAlgorithm = parseDigest(d).algorithm
 * ```
 *
 * Exported from `countersign/oci`.
 */
export type DigestAlgorithm = 'sha256' | 'sha512'

/**
 * A parsed, validated digest.
 *
 * @example
 * ```ts
 * const { algorithm, hex }: ParsedDigest = parseDigest(d)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm
  /** Lower-case hex of the hash. */
  readonly hex: string
}

const HEX_LENGTH: Readonly<Record<DigestAlgorithm, number>> = { sha256: 64, sha512: 128 }
const WEBCRYPTO_NAME: Readonly<Record<DigestAlgorithm, string>> = { sha256: 'SHA-256', sha512: 'SHA-512' }

function subtle(): SubtleCrypto {
  const s = (globalThis as { crypto?: Crypto }).crypto?.subtle
  if (typeof s !== 'object' || s === null) throw new Error('crypto.subtle must be defined')
  return s
}

/**
 * Parse and validate a digest string. Only `sha256` (64 lower-case hex) and `sha512` (128) are accepted, as in
 * go-digest.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for anything else.
 * @example
 * ```ts
 * import { parseDigest } from 'countersign/oci'
 * parseDigest('sha256:' + '0'.repeat(64)) // { algorithm: 'sha256', hex: '000…' }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function parseDigest(d: string): ParsedDigest {
  if (typeof d === 'string') {
    const colon = d.indexOf(':')
    const algorithm = d.slice(0, colon)
    const hex = d.slice(colon + 1)
    if (colon > 0 && (algorithm === 'sha256' || algorithm === 'sha512')) {
      if (hex.length === HEX_LENGTH[algorithm] && /^[a-f0-9]+$/.test(hex)) return { algorithm, hex }
    }
  }
  const shown = typeof d === 'string' ? JSON.stringify(d.slice(0, 150)) : typeof d
  throw new CountersignError(
    'ERR_INVALID_INPUT',
    `invalid digest ${shown}: expected sha256:<64 hex> or sha512:<128 hex>`,
  )
}

/**
 * True when `d` is a valid `sha256:`/`sha512:` digest string.
 *
 * @example
 * ```ts
 * import { isDigest } from 'countersign/oci'
 * isDigest('sha256:abc') // false
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function isDigest(d: unknown): d is string {
  if (typeof d !== 'string') return false
  try {
    parseDigest(d)
    return true
  } catch {
    return false
  }
}

/**
 * Compute `<algorithm>:<hex>` of some bytes (or of a string's UTF-8 encoding).
 *
 * @example
 * ```ts
 * import { computeDigest } from 'countersign/oci'
 * await computeDigest(new Uint8Array(), 'sha512')
 * ```
 *
 * Exported from `countersign/oci`.
 */
export async function computeDigest(
  bytes: Uint8Array | string,
  algorithm: DigestAlgorithm = 'sha256',
): Promise<string> {
  const data = typeof bytes === 'string' ? utf8(bytes) : bytes
  const name = WEBCRYPTO_NAME[algorithm]
  if (name === undefined) throw new TypeError(`unsupported digest algorithm ${String(algorithm)}`)
  const hash = new Uint8Array(await subtle().digest(name, toArrayBufferView(data)))
  return `${algorithm}:${toHex(hash)}`
}

/**
 * Compute the `sha256:<hex>` digest of some bytes with `crypto.subtle`.
 *
 * @example
 * ```ts
 * import { sha256Digest } from 'countersign/oci'
 * await sha256Digest(new TextEncoder().encode('{}'))
 * // 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function sha256Digest(bytes: Uint8Array): Promise<string> {
  return computeDigest(bytes, 'sha256')
}

/**
 * Check that `bytes` hash to `expected` (sha256 or sha512).
 *
 * @throws {CountersignError} ERR_OCI_DIGEST_MISMATCH when they do not; ERR_INVALID_INPUT when `expected` is
 * not a valid digest.
 * @example
 * ```ts
 * import { verifyDigest } from 'countersign/oci'
 * await verifyDigest(blob, descriptor.digest)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export async function verifyDigest(bytes: Uint8Array, expected: string): Promise<void> {
  const { algorithm } = parseDigest(expected)
  const actual = await computeDigest(bytes, algorithm)
  if (!equalBytes(utf8(actual), utf8(expected))) {
    throw new CountersignError(
      'ERR_OCI_DIGEST_MISMATCH',
      `content digest ${actual} does not match expected ${expected}`,
      {
        details: { expected, actual },
      },
    )
  }
}
