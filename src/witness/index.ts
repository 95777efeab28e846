/**
 * Witnessing signatures: the contracts for transparency logs and timestamp authorities, and the step that logs,
 * timestamps and verifies a signature before it is stored.
 *
 * Exported from `countersign/witness`.
 *
 * @module
 */

export type { TimestampAuthorityClient } from '../contracts/timestamp-authority.js'
export type { LogEntryKind, LogSigner, TransparencyLogWriter } from '../contracts/transparency-log.js'
export type { WitnessResult } from '../contracts/witness-result.js'
export { legacyWitnessAnnotations } from '../signature/witness-annotations.js'
export {
  createSigstoreServices,
  type ExplicitServiceURLs,
  type SigstoreServices,
  type SigstoreServicesOptions,
} from './services.js'
export { type WitnessOptions, witnessSignature } from './witness.js'
