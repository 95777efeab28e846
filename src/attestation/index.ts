/**
 * in-toto attestations: Statement building and parsing, cosign's predicate types and typed predicates.
 *
 * Exported from `countersign/attestation`.
 * @module
 */
export { normalizeLinkPredicate } from './link.js'
export {
  type AttestationStatementInput,
  COSIGN_CUSTOM_PREDICATE_TYPE,
  CYCLONEDX_PREDICATE_TYPE,
  createAttestationStatement,
  LINK_PREDICATE_TYPE,
  OPENVEX_PREDICATE_TYPE,
  PREDICATE_TYPE_ALIASES,
  type PredicateInput,
  resolvePredicateType,
  SPDX_PREDICATE_TYPE,
} from './predicates.js'
export {
  createSLSAProvenanceV1,
  normalizeSLSAProvenanceV1,
  normalizeSLSAProvenanceV02,
  SLSA_PROVENANCE_V1_PREDICATE_TYPE,
  SLSA_PROVENANCE_V02_PREDICATE_TYPE,
  type SLSAProvenanceV1,
  type SLSAResourceDescriptor,
} from './slsa-provenance.js'
export {
  COSIGN_SIGN_PREDICATE_TYPE,
  type CreateStatementOptions,
  createStatement,
  IN_TOTO_STATEMENT_V1,
  IN_TOTO_STATEMENT_V01,
  parseStatement,
  type ResourceDescriptor,
  type Statement,
  statementHasSubjectDigest,
} from './statement.js'
export {
  COSIGN_VULN_PREDICATE_TYPE,
  type CosignVulnPredicate,
  createCosignVulnPredicate,
  normalizeCosignVulnPredicate,
} from './vuln.js'
