/**
 * cosign's attachment size limit (`COSIGN_MAX_ATTACHMENT_SIZE`, default 128 MiB, go-humanize byte syntax), applied
 * to SBOMs, signature payloads and attestations on the way in and on the way out.
 * @module
 */
import { CountersignError } from '../errors.js'

/**
 * The default attachment limit, 128 MiB (cosign `internal/pkg/cosign/payload/size`).
 *
 * Exported from `countersign/artifacts`.
 */
export const DEFAULT_MAX_ATTACHMENT_SIZE: number = 128 * 1024 * 1024

// go-humanize's bytesSizeTable: decimal and binary units, with or without the trailing "b".
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 2 ** 10,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mi: 2 ** 20,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gi: 2 ** 30,
  gib: 2 ** 30,
  t: 1e12,
  tb: 1e12,
  ti: 2 ** 40,
  tib: 2 ** 40,
  p: 1e15,
  pb: 1e15,
  pi: 2 ** 50,
  pib: 2 ** 50,
  e: 1e18,
  eb: 1e18,
  ei: 2 ** 60,
  eib: 2 ** 60,
}

/**
 * Parse a byte size the way go-humanize's `ParseBytes` does: a number (digits, `.`, `,` as a thousands separator)
 * followed by an optional unit, case-insensitive (`200MiB`, `1.5 GB`, `42 mib`, `1,000`). Fractions are truncated.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for anything else.
 * @example
 * ```ts
 * import { parseByteSize } from 'countersign/artifacts'
 * parseByteSize('200MiB') // 209715200
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function parseByteSize(text: string): number {
  const m = /^([0-9.,]*)(.*)$/s.exec(text)!
  const num = m[1]!.replace(/,/g, '')
  const unit = UNITS[m[2]!.trim().toLowerCase()]
  // Go's ParseFloat refuses "" and "1.2.3"; Number("") would be 0.
  const value = /^(?:\d+\.?\d*|\.\d+)$/.test(num) ? Number(num) : Number.NaN
  if (!Number.isFinite(value) || unit === undefined) {
    throw new CountersignError('ERR_INVALID_INPUT', `invalid byte size ${JSON.stringify(text.slice(0, 100))}`)
  }
  const bytes = Math.floor(value * unit)
  if (!Number.isSafeInteger(bytes)) throw new CountersignError('ERR_INVALID_INPUT', `byte size too large: ${text}`)
  return bytes
}

/**
 * The attachment limit for a `COSIGN_MAX_ATTACHMENT_SIZE` value: the parsed size, or the 128 MiB default when the
 * value is unset or does not parse (cosign falls back to the default silently; `onInvalid` hears about it).
 *
 * @example
 * ```ts
 * import { maxAttachmentSize } from 'countersign/artifacts'
 * maxAttachmentSize(process.env.COSIGN_MAX_ATTACHMENT_SIZE)
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function maxAttachmentSize(value: string | undefined, onInvalid?: (message: string) => void): number {
  if (value === undefined) return DEFAULT_MAX_ATTACHMENT_SIZE
  try {
    return parseByteSize(value)
  } catch {
    onInvalid?.(`ignoring COSIGN_MAX_ATTACHMENT_SIZE=${JSON.stringify(value)}: not a byte size; using 128MiB`)
    return DEFAULT_MAX_ATTACHMENT_SIZE
  }
}

/**
 * Refuse an attachment of `size` bytes above `max`, with cosign's message.
 *
 * @throws {CountersignError} ERR_OCI_SIZE_LIMIT `size of layer (N) exceeded the limit (M)`.
 * @example
 * ```ts
 * import { checkAttachmentSize } from 'countersign/artifacts'
 * checkAttachmentSize(sbom.length)
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function checkAttachmentSize(size: number, max: number = DEFAULT_MAX_ATTACHMENT_SIZE): void {
  if (size > max) {
    throw new CountersignError('ERR_OCI_SIZE_LIMIT', `size of layer (${size}) exceeded the limit (${max})`, {
      details: { size, limit: max },
    })
  }
}
