/**
 * Admission policy: sigstore policy-controller ClusterImagePolicy documents (v1alpha1/v1beta1), their image globs,
 * CEL conditions on attestations, the pure evaluator, verification of images against policies with a decision
 * cache, and the admission webhook's image check; and Kyverno `ClusterPolicy`/`Policy` documents' `verifyImages`
 * rules (kyverno.io/v1, v2beta1) with Kyverno's own semantics: wildcards, image names, match/exclude and autogen,
 * attestor counts, JMESPath conditions.
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
export {
  evaluateKyvernoConditions,
  type KyvernoConditionsOptions,
  type KyvernoConditionsResult,
  kyvernoAttestationContext,
  kyvernoConditionsUseJMESPath,
} from './kyverno/conditions.js'
export {
  KYVERNO_DEFAULT_REGISTRY,
  type KyvernoImageInfo,
  type KyvernoImageInfoOptions,
  kyvernoImageInfo,
  kyvernoPinnedImage,
} from './kyverno/image-name.js'
export {
  isJMESPathEngineLoaded,
  type KyvernoJMESPathOptions,
  loadJMESPathEngine,
  searchKyvernoJMESPath,
} from './kyverno/jmespath.js'
export { evaluateKyvernoOperator } from './kyverno/operators.js'
export {
  KYVERNO_POD_CONTROLLERS,
  type KyvernoResource,
  kyvernoAutogenRules,
  kyvernoMatchingRuleName,
  kyvernoRuleMatchesResource,
} from './kyverno/resources.js'
export type {
  KyvernoAttestation,
  KyvernoAttestor,
  KyvernoAttestorSet,
  KyvernoCertificates,
  KyvernoCondition,
  KyvernoConditionBlock,
  KyvernoCTLog,
  KyvernoImageVerification,
  KyvernoKeyless,
  KyvernoKeys,
  KyvernoLabelSelector,
  KyvernoMatch,
  KyvernoPolicy,
  KyvernoRekor,
  KyvernoResourceFilter,
  KyvernoRule,
} from './kyverno/types.js'
export { type KyvernoSubstitutionOptions, substituteKyvernoVariables } from './kyverno/variables.js'
export { type VerifyImageAgainstKyvernoOptions, verifyImageAgainstKyverno } from './kyverno/verify.js'
export { matchKyvernoWildcard } from './kyverno/wildcard.js'
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
export {
  isKyvernoPolicy,
  type VerifyImageAgainstPoliciesOptions,
  verifyImageAgainstPolicies,
} from './verify-policies.js'
