/**
 * Witnessing signatures: the contracts for transparency logs and timestamp authorities, and the step that logs,
 * timestamps and verifies a signature before it is stored.
 *
 * Exported from `countersign/witness`.
 *
 * @module
 */
export { legacyWitnessAnnotations } from './legacy-annotations.js'
export {
  createSigstoreServices,
  type ExplicitServiceURLs,
  type SigstoreServices,
  type SigstoreServicesOptions,
} from './services.js'
export type { LogEntryKind, LogSigner, TimestampAuthorityClient, TransparencyLogWriter } from './types.js'
export { type WitnessOptions, type WitnessResult, witnessSignature } from './witness.js'
