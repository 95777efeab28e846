/**
 * Transparency-log verification: RFC 6962 Merkle proofs, signed checkpoints (C2SP signed notes), Rekor v1 signed
 * entry timestamps, Rekor entry bodies and whole bundle log entries. Pure functions; no network.
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
  isRekorV2Entry,
  parseTransparencyLogEntry,
  type TransparencyLogEntry,
  type TransparencyLogInclusionProof,
} from './entry.js'
export {
  type ConsistencyProofInput,
  type InclusionProofInput,
  merkleLeafHash,
  merkleNodeHash,
  rootFromInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './merkle.js'
export { type SignedEntryTimestampInput, signedEntryTimestampPayload, verifySignedEntryTimestamp } from './set.js'
export {
  type TransparencyLogEvidence,
  type VerifiedTransparencyLogEntry,
  type VerifyTransparencyLogEntryOptions,
  verifyTransparencyLogEntry,
} from './verify-entry.js'
