/**
 * Admission policy: sigstore policy-controller ClusterImagePolicy documents (v1alpha1/v1beta1), their image globs,
 * CEL conditions on attestations, the pure evaluator, verification of images against policies with a decision
 * cache, and the admission webhook's image check.
 *
 * Exported from `countersign/policy`.
 * @module
 */
export type {
  AuthorityVerificationOptions,
  KMSKeyResolver,
  SecretKeyResolver,
} from './authority-facts.js'
export { createPolicyCache, type PolicyCache, type PolicyCacheOptions } from './cache.js'
export { type CELCondition, compileCELCondition, loadCELEngine } from './cel.js'
export {
  type AttestationFact,
  type AuthorityFacts,
  type EvaluatePolicyOptions,
  evaluatePolicy,
  formatPolicyReason,
  matchingPolicies,
  type PolicyFacts,
  type SignatureFact,
} from './evaluate.js'
export { compileImageGlob, matchImageGlob, qualifiedImageName } from './glob.js'
export {
  createPolicyImageCheck,
  type PolicyImageCheckOptions,
  type PolicySource,
  toImageCheckResult,
} from './image-check.js'
export { type ParsedPolicies, type ParsePoliciesOptions, parsePolicies, parsePoliciesAsync } from './parse.js'
export type {
  AuthorityOutcome,
  ClusterImagePolicy,
  NoMatchPolicy,
  PolicyAttestation,
  PolicyAuthority,
  PolicyCheck,
  PolicyCondition,
  PolicyDecision,
  PolicyIdentity,
  PolicyKeylessRef,
  PolicyKeyRef,
  PolicyOutcome,
  PolicyReason,
} from './types.js'
export { type VerifyImageAgainstPoliciesOptions, verifyImageAgainstPolicies } from './verify-policies.js'
