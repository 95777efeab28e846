/**
 * in-toto attestations: Statement v1 building and parsing.
 *
 * Exported from `countersign/attestation`.
 * @module
 */
export {
  COSIGN_SIGN_PREDICATE_TYPE,
  createStatement,
  IN_TOTO_STATEMENT_V1,
  IN_TOTO_STATEMENT_V01,
  parseStatement,
  type ResourceDescriptor,
  type Statement,
  statementHasSubjectDigest,
} from './statement.js'
