/**
 * What witnessing a signature returns: the log entries and timestamps the services vouched for, each verified. The
 * witness produces it; signing flows put it into bundles (and legacy annotations) and audit events.
 *
 * @module
 */
import type { VerifiedTransparencyLogEntry } from '../rekor/verify-entry.js'
import type { VerifiedTimestamp } from '../timestamp/verify.js'

/**
 * What the services vouched for, verified.
 *
 * Exported from `countersign/witness`.
 */
export interface WitnessResult {
  /** protobuf-JSON `TransparencyLogEntry` items for `verificationMaterial.tlogEntries`. */
  readonly tlogEntries: readonly Record<string, unknown>[]
  /** DER timestamps, in the order of `timestampAuthorities`. */
  readonly rfc3161Timestamps: readonly Uint8Array[]
  /** `verificationMaterial.timestampVerificationData` JSON, or undefined without timestamps. */
  readonly timestampVerificationData?: Record<string, unknown>
  readonly verifiedEntries: readonly VerifiedTransparencyLogEntry[]
  readonly verifiedTimestamps: readonly VerifiedTimestamp[]
}
