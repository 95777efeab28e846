/**
 * Rekor v1 Signed Entry Timestamps (SET, the bundle's `inclusionPromise`): the log's signature over the entry's body,
 * integrated time, log ID and global log index.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { base64Length, toHex, writeBase64 } from '../internal/bytes.js'
import { merged } from '../internal/merged.js'
import { type SignatureBackend, verifySignature } from '../keys/verify.js'
import { selectTransparencyLogs, type TransparencyLog, transparencyLogKey } from '../trust/trusted-root.js'

function setError(reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_TLOG_INCLUSION_PROOF', `signed entry timestamp: ${reason}`, {
    details: { check: 'set', reason },
    ...(cause === undefined ? {} : { cause }),
  })
}

/**
 * The parts of a Rekor v1 entry the SET covers, as found in a bundle's `TransparencyLogEntry`.
 *
 * Exported from `countersign/rekor`.
 */
export interface SignedEntryTimestampInput {
  /** Decoded `canonicalizedBody` (the Rekor entry body). */
  readonly canonicalizedBody: Uint8Array
  /** Unix seconds. */
  readonly integratedTime: bigint | number | string
  /** Decoded `logId.keyId` (SHA-256 of the log's SPKI). */
  readonly logId: Uint8Array
  /** The GLOBAL log index (`logIndex`, not `inclusionProof.logIndex`). */
  readonly logIndex: bigint | number | string
  /** Decoded `inclusionPromise.signedEntryTimestamp` (DER ECDSA signature). */
  readonly signedEntryTimestamp: Uint8Array
}

/** int64 fields arrive as JSON strings (protobuf JSON); they are attacker-controlled, so accept exact integers only. */
function toSafeInteger(value: bigint | number | string, name: string): number {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'bigint') n = Number(value)
  else if (typeof value === 'string' && /^(0|[1-9][0-9]{0,15})$/.test(value)) n = Number(value)
  else setError(`${name} is not an integer`)
  // Rekor's canonicaliser goes through float64, so values past 2^53 would be signed inexactly; no real log is there.
  if (!Number.isSafeInteger(n) || n < 0 || (typeof value === 'bigint' && BigInt(n) !== value)) {
    setError(`${name} is out of range`)
  }
  return n
}

/**
 * The bytes a SET signs: RFC 8785 canonical JSON of `{body, integratedTime, logID, logIndex}` with the body in base64
 * and the log ID in lower-case hex (rekor `pkg/api/entries.go`).
 *
 * @param entry - The entry fields.
 * @returns UTF-8 canonical JSON.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF (`details.check: 'set'`) for a non-integer time or index.
 * @example
 * ```ts
 * import { signedEntryTimestampPayload } from 'countersign/rekor'
 * const bytes = signedEntryTimestampPayload({ canonicalizedBody, integratedTime, logId, logIndex, signedEntryTimestamp })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function signedEntryTimestampPayload(entry: SignedEntryTimestampInput): Uint8Array {
  if (!(entry?.canonicalizedBody instanceof Uint8Array)) throw new TypeError('canonicalizedBody must be a Uint8Array')
  if (!(entry.logId instanceof Uint8Array)) throw new TypeError('logId must be a Uint8Array')
  const integratedTime = toSafeInteger(entry.integratedTime, 'integratedTime')
  const logIndex = toSafeInteger(entry.logIndex, 'logIndex')
  // RFC 8785 written out: the keys in code-point order, base64 and hex strings need no escaping, and a safe integer
  // serialises as its decimal digits. Equal to canonicalize() on the same object (a test holds it to that), at a
  // fraction of the cost on the per-bundle path.
  // Written as bytes: the body's base64 (most of the payload) goes straight into the output, without a string.
  const head = '{"body":"'
  const tail = `","integratedTime":${integratedTime},"logID":"${toHex(entry.logId)}","logIndex":${logIndex}}`
  const out = new Uint8Array(head.length + base64Length(entry.canonicalizedBody.length) + tail.length)
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i)
  const o = writeBase64(entry.canonicalizedBody, out, head.length)
  // Digits, hex and punctuation only: ASCII, so one byte per character.
  for (let i = 0; i < tail.length; i++) out[o + i] = tail.charCodeAt(i)
  return out
}

/**
 * Verify a SET with the trusted-root tlog whose log ID matches the entry and whose key is valid at the integrated time
 * (validity ends inclusive). The integrated time itself is not compared with the clock here; callers reject times in
 * the future.
 *
 * @param entry - The entry fields and SET.
 * @param tlogs - `root.tlogs` of the trusted root.
 * @param options - Signature primitives (default Web Crypto).
 * @returns The log whose key verified the SET.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF (`details.check: 'set'`) when no trusted log matches or the
 *   signature does not verify.
 * @example
 * ```ts
 * import { verifySignedEntryTimestamp } from 'countersign/rekor'
 * const log = await verifySignedEntryTimestamp(entry, root.tlogs)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export async function verifySignedEntryTimestamp(
  entry: SignedEntryTimestampInput,
  tlogs: readonly TransparencyLog[],
  options: { readonly signatureBackend?: SignatureBackend | undefined } = {},
): Promise<TransparencyLog> {
  if (!(entry?.signedEntryTimestamp instanceof Uint8Array)) {
    throw new TypeError('signedEntryTimestamp must be a Uint8Array')
  }
  const payload = signedEntryTimestampPayload(entry)
  const time = new Date(toSafeInteger(entry.integratedTime, 'integratedTime') * 1000)
  const candidates = selectTransparencyLogs(tlogs, entry.logId, time)
  if (candidates.length === 0) setError('no trusted log for this log ID at the integrated time')
  for (const log of candidates) {
    let logKey: ReturnType<typeof transparencyLogKey>
    try {
      logKey = transparencyLogKey(log)
    } catch {
      continue // an unusable key in the root cannot vouch for anything; try the next candidate
    }
    const verifyOptions = merged(logKey.verifyOptions, { backend: options.signatureBackend })
    if (await verifySignature(logKey.key, payload, entry.signedEntryTimestamp, verifyOptions)) return log
  }
  setError('signature does not verify')
}
