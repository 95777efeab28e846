/**
 * Transparency-log verification: RFC 6962 Merkle proofs, signed checkpoints (C2SP signed notes), Rekor v1 signed
 * entry timestamps, Rekor entry bodies and whole bundle log entries (pure functions, no network); and the Rekor v1
 * client (`createRekorClient`) that logs signatures and reads the log, with its proposed-entry and log-entry formats.
 *
 * Exported from `countersign/rekor`.
 * @module
 */
export {
  type EntryBodyExpectation,
  type RekorBodySignature,
  type RekorDigest,
  type RekorDigestAlgorithm,
  type RekorEntryBody,
  readEntryBody,
  verifyEntryBody,
} from './body.js'
export {
  type Checkpoint,
  checkpointVerifierForLog,
  ed25519NoteVerifier,
  formatCheckpoint,
  type NoteSignature,
  type NoteVerifier,
  parseCheckpoint,
  parseNoteVerifierKey,
  parseSignedNote,
  rekorV1NoteVerifier,
  type SignedNote,
  type VerifyCheckpointOptions,
  verifyCheckpoint,
  verifySignedNote,
} from './checkpoint.js'
export {
  createRekorClient,
  DEFAULT_REKOR_URL,
  type RekorClient,
  type RekorClientOptions,
  type RekorLogInfo,
  type RekorPublicKeyFormat,
  type RekorSearchQuery,
} from './client.js'
export { createRekorV2Client, type RekorV2ClientOptions } from './client-v2.js'
export {
  isRekorV2Entry,
  parseTransparencyLogEntry,
  type TransparencyLogEntry,
  type TransparencyLogInclusionProof,
} from './entry.js'
export {
  parseRekorLogEntry,
  type RekorInclusionProof,
  type RekorLogEntry,
  rekorEntryUUID,
  toBundleLogEntry,
} from './log-entry.js'
export {
  type ConsistencyProofInput,
  type InclusionProofInput,
  merkleLeafHash,
  merkleNodeHash,
  rootFromInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './merkle.js'
export {
  createRekorProposedEntry,
  type RekorDSSEEntry,
  type RekorHashedRekordEntry,
  type RekorIntotoEntry,
  type RekorProposedEntry,
} from './proposed-entry.js'
export { type HashedRekordRequestV002, hashedRekordRequestV002 } from './proposed-entry-v2.js'
export { type SignedEntryTimestampInput, signedEntryTimestampPayload, verifySignedEntryTimestamp } from './set.js'
export {
  type TransparencyLogEvidence,
  type VerifiedTransparencyLogEntry,
  type VerifiedTransparencyLogInclusion,
  type VerifyTransparencyLogEntryOptions,
  type VerifyTransparencyLogInclusionOptions,
  verifyTransparencyLogEntry,
  verifyTransparencyLogInclusion,
} from './verify-entry.js'
