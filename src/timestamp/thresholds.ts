/** Verify the set of RFC 3161 timestamps a bundle carries and enforce a threshold. @module */
import { type CountersignError, isCountersignError } from '../errors.js'
import { equalBytes } from '../internal/bytes.js'
import { fail } from './algorithms.js'
import { parseTimestamp, type TimestampToken } from './parse.js'
import { type VerifiedTimestamp, type VerifyTimestampOptions, verifyTimestamp } from './verify.js'

/**
 * The most timestamps one bundle may carry (sigstore-python's and sigstore-go's limit); more is rejected outright
 * so a bundle cannot make the verifier do unbounded signature checks.
 *
 * Exported from `countersign/timestamp`.
 */
export const MAX_TIMESTAMPS = 32

/**
 * Options for {@link verifyTimestamps}.
 *
 * Exported from `countersign/timestamp`.
 */
export interface VerifyTimestampsOptions extends VerifyTimestampOptions {
  /** How many timestamps must verify (default 1; 0 accepts none verifying, but every token is still checked). */
  readonly threshold?: number
  /** Upper bound on the number of timestamps (default {@link MAX_TIMESTAMPS}). */
  readonly maxTimestamps?: number
}

/**
 * One timestamp that did not verify: its index in the input and the error.
 *
 * Exported from `countersign/timestamp`.
 */
export interface TimestampFailure {
  readonly index: number
  readonly error: CountersignError
}

/**
 * What {@link verifyTimestamps} found: the verified timestamps (input order) and the failures.
 *
 * Exported from `countersign/timestamp`.
 */
export interface VerifyTimestampsResult {
  readonly verified: readonly VerifiedTimestamp[]
  readonly failures: readonly TimestampFailure[]
}

/**
 * Verify every timestamp of a bundle over the same `data` (the signature bytes) and require at least `threshold`
 * to verify. A token that appears twice is rejected (it would otherwise count twice; sigstore-python refuses it),
 * and so is a list longer than `maxTimestamps`. Tokens that fail are reported in `failures`; they do not fail the
 * call as long as the threshold is met.
 *
 * @param timestamps - DER tokens (decoded `signedTimestamp` values) or parsed tokens.
 * @param data - The timestamped bytes.
 * @param options - Trusted root, threshold and limit.
 * @returns Verified timestamps and failures.
 * @throws {CountersignError} ERR_TIMESTAMP_INVALID with `details.reason` `too-many`, `duplicate` or `threshold`
 *   (then `details.failures` lists `{ index, reason, message }`).
 * @example
 * ```ts
 * import { verifyTimestamps } from 'countersign/timestamp'
 * const { verified } = await verifyTimestamps(tokens, signatureBytes, { trustedRoot, threshold: 1 })
 * const signedTimes = verified.map((v) => v.time)
 * ```
 *
 * Exported from `countersign/timestamp`.
 */
export async function verifyTimestamps(
  timestamps: readonly (Uint8Array | TimestampToken)[],
  data: Uint8Array,
  options: VerifyTimestampsOptions,
): Promise<VerifyTimestampsResult> {
  if (!Array.isArray(timestamps)) throw new TypeError('timestamps must be an array')
  const threshold = options.threshold ?? 1
  const max = options.maxTimestamps ?? MAX_TIMESTAMPS
  if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError('threshold must be a non-negative integer')
  if (!Number.isInteger(max) || max < 0) throw new RangeError('maxTimestamps must be a non-negative integer')
  if (timestamps.length > max) {
    fail('too-many', `${timestamps.length} timestamps exceed the limit of ${max}`, {
      details: { count: timestamps.length, max },
    })
  }
  const bytes = timestamps.map((t) => (t instanceof Uint8Array ? t : t.token))
  for (let i = 1; i < bytes.length; i++) {
    for (let j = 0; j < i; j++) {
      if (equalBytes(bytes[i]!, bytes[j]!)) fail('duplicate', `timestamp ${i} duplicates timestamp ${j}`)
    }
  }
  const outcomes = await Promise.all(
    timestamps.map(async (t, index) => {
      try {
        const token = t instanceof Uint8Array ? parseTimestamp(t) : t
        return { index, verified: await verifyTimestamp(token, data, options) }
      } catch (error) {
        if (!isCountersignError(error)) throw error
        return { index, error }
      }
    }),
  )
  const verified: VerifiedTimestamp[] = []
  const failures: TimestampFailure[] = []
  for (const o of outcomes) {
    if (o.verified) verified.push(o.verified)
    else failures.push(Object.freeze({ index: o.index, error: o.error! }))
  }
  // Two tokens that differ in bytes but carry the same serial from the same authority still count once.
  const seen = new Map<object, Set<bigint>>()
  const distinct = new Set<VerifiedTimestamp>()
  for (const v of verified) {
    const serials = seen.get(v.authority) ?? new Set<bigint>()
    seen.set(v.authority, serials)
    if (!serials.has(v.token.serialNumber)) distinct.add(v)
    serials.add(v.token.serialNumber)
  }
  if (distinct.size < threshold) {
    fail('threshold', `${distinct.size} of ${timestamps.length} timestamps verified, ${threshold} required`, {
      details: {
        verified: distinct.size,
        threshold,
        failures: failures.map((f) => ({ index: f.index, reason: f.error.details?.reason, message: f.error.message })),
      },
    })
  }
  return Object.freeze({ verified: Object.freeze(verified), failures: Object.freeze(failures) })
}
