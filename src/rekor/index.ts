/**
 * Transparency-log verification: RFC 6962 Merkle proofs, signed checkpoints (C2SP signed notes) and Rekor v1 signed
 * entry timestamps. Pure functions; no network.
 *
 * Exported from `countersign/rekor`.
 * @module
 */
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
  type ConsistencyProofInput,
  type InclusionProofInput,
  merkleLeafHash,
  merkleNodeHash,
  rootFromInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from './merkle.js'
export { type SignedEntryTimestampInput, signedEntryTimestampPayload, verifySignedEntryTimestamp } from './set.js'
