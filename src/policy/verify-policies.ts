/**
 * `verifyImageAgainstPolicies`: match, resolve the tag once, verify what the matching authorities need (sharing
 * one read of the registry per image), evaluate, and remember the decision per digest and policy content.
 * @module
 */
import { isCountersignError } from '../errors.js'
import { resolveDigest } from '../image/resolve.js'
import { merged } from '../internal/merged.js'
import { parseReference, referenceToString, repositoryName } from '../oci/reference.js'
import type { Reference } from '../oci/types.js'
import { type AuthorityVerificationOptions, gatherAuthorityFacts } from './authority-facts.js'
import type { PolicyCache } from './cache.js'
import { loadCELEngine } from './cel.js'
import { evaluatePolicy, matchingPolicies } from './evaluate.js'
import type { KyvernoResource } from './kyverno/resources.js'
import type { KyvernoPolicy } from './kyverno/types.js'
import { verifyImageAgainstKyverno } from './kyverno/verify.js'
import { memoizeStore } from './memo-store.js'
import { knownPolicyContentHash, policyContentHash } from './policy-hash.js'
import type { ClusterImagePolicy, NoMatchPolicy, PolicyDecision } from './types.js'
import { needsCELEngine } from './validate.js'

/**
 * Options for {@link verifyImageAgainstPolicies}.
 *
 * Exported from `countersign/policy`.
 */
export interface VerifyImageAgainstPoliciesOptions extends AuthorityVerificationOptions {
  /**
   * Images that match no policy: `deny`, `allow` or `warn`. Default: `deny` (policy-controller's) when any
   * ClusterImagePolicy is given, `allow` (Kyverno's) when only Kyverno policies are.
   */
  readonly noMatchPolicy?: NoMatchPolicy
  /** The resource the image belongs to, for Kyverno rules' `match`/`exclude` (see {@link verifyImageAgainstKyverno}). */
  readonly resource?: KyvernoResource
  /** Remember decisions per digest and policy content (see {@link createPolicyCache}). */
  readonly cache?: PolicyCache
}

/**
 * Decide about one image: the policies whose globs match it must all pass (policy-controller's semantics, see
 * {@link evaluatePolicy}). A tag is resolved to its digest once and everything is verified at that digest; the
 * registry is read once per image however many authorities look (a memoising read-only view of `store`);
 * authorities needing the same verification share it; decisions are cached per repository, digest, matching
 * policies and options when `cache` is given. Images that match no policy are not resolved.
 *
 * @param ref - The image, as a reference or as written in a workload.
 * @param policies - Parsed policies ({@link parsePolicies}).
 * @param options - The store, trusted roots, key resolvers, `noMatchPolicy`, `cache`, `insecureIgnoreTlog`.
 * @returns The decision; a policy failure is `allowed: false` with every reason, never a throw.
 * @throws {CountersignError} ERR_ABORTED, ERR_NETWORK, ERR_OCI_HTTP, ERR_OCI_UNAUTHORIZED when the registry could
 *   not be asked (the decision could not be made; nothing is cached); ERR_DEPENDENCY_MISSING when a matching
 *   policy has a CEL condition and the optional package `@bufbuild/cel` is not installed.
 * @example
 * ```ts
 * import { parsePoliciesAsync, verifyImageAgainstPolicies } from 'countersign/policy'
 * const { policies } = await parsePoliciesAsync(yamlText)
 * const d = await verifyImageAgainstPolicies('ghcr.io/acme/app:v1', policies, { store })
 * console.log(d.allowed, d.digest, d.reasons)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export async function verifyImageAgainstPolicies(
  ref: Reference | string,
  policies: readonly (ClusterImagePolicy | KyvernoPolicy)[],
  options: VerifyImageAgainstPoliciesOptions,
): Promise<PolicyDecision> {
  const kyverno = policies.filter(isKyvernoPolicy)
  const cips = policies.filter((p): p is ClusterImagePolicy => !isKyvernoPolicy(p))
  if (kyverno.length === 0) return verifyClusterImagePolicies(ref, cips, options)
  if (cips.length === 0) return verifyImageAgainstKyverno(ref, kyverno, options)
  // Both kinds: each decides about what it matches; an image neither matches follows policy-controller's default.
  // One read of the registry serves both (tag resolution, signatures), as within each kind.
  const { noMatchPolicy, ...rest } = { ...options, store: memoizeStore(options.store) }
  const k = await verifyImageAgainstKyverno(ref, kyverno, { ...rest, noMatchPolicy: 'allow' })
  const c = await verifyClusterImagePolicies(ref, cips, { ...rest, noMatchPolicy: 'allow' })
  if (k.matched.length === 0 && c.matched.length === 0) {
    return evaluatePolicy(c.image, [], {}, { noMatchPolicy: noMatchPolicy ?? 'deny' })
  }
  const digest = c.digest ?? k.digest
  // A ClusterImagePolicy that matched keeps policy-controller's pin; otherwise Kyverno's applies.
  const pin = c.matched.length > 0 ? undefined : k.pin
  return {
    image: c.image,
    ...(digest !== undefined ? { digest } : {}),
    ...(pin !== undefined ? { pin } : {}),
    allowed: k.allowed && c.allowed,
    matched: [...c.matched, ...k.matched],
    policies: [...c.policies, ...k.policies],
    reasons: [...c.reasons, ...k.reasons],
    warnings: [...c.warnings, ...k.warnings],
    ...(c.cached === true && (k.cached === true || k.matched.length === 0) ? { cached: true } : {}),
  }
}

/**
 * Whether a parsed policy is a Kyverno one (it has `rules`; a ClusterImagePolicy has `authorities`).
 *
 * @example
 * ```ts
 * import { isKyvernoPolicy } from 'countersign/policy'
 * const kyverno = policies.filter(isKyvernoPolicy)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function isKyvernoPolicy(p: ClusterImagePolicy | KyvernoPolicy): p is KyvernoPolicy {
  return 'rules' in p && (p.kind === 'ClusterPolicy' || p.kind === 'Policy')
}

async function verifyClusterImagePolicies(
  ref: Reference | string,
  policies: readonly ClusterImagePolicy[],
  options: VerifyImageAgainstPoliciesOptions,
): Promise<PolicyDecision> {
  const image = typeof ref === 'string' ? ref : referenceToString(ref)
  const noMatch = options.noMatchPolicy !== undefined ? { noMatchPolicy: options.noMatchPolicy } : {}
  const m = matchImage(image, ref, policies, noMatch)
  if ('decision' in m) return m.decision
  const { parsed, matched } = m

  const store = memoizeStore(options.store)
  let digest: string
  try {
    digest = await resolveDigest(parsed, store, undefined, options.signal ? { signal: options.signal } : {})
  } catch (e) {
    if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND') && !isCountersignError(e, 'ERR_OCI_DIGEST_MISMATCH')) throw e
    const reasons = matched.map((p) => ({ image, policy: p.name, check: 'error' as const, message: e.message }))
    const denied = matched.every((p) => p.mode === 'warn')
      ? { allowed: true, reasons: [], warnings: reasons }
      : { allowed: false, reasons: reasons.filter((_, i) => matched[i]!.mode === 'enforce'), warnings: [] }
    return { image, matched: matched.map((p) => p.name), policies: [], ...denied }
  }

  const cacheKey = options.cache
    ? decisionCacheKey(parsed, digest, await Promise.all(matched.map(policyContentHash)), options)
    : ''
  const hit = options.cache?.get(cacheKey)
  if (hit) return rewriteImage(asCached(hit), image)

  // Parsing loaded the CEL engine for CEL conditions; policies built in code may not have been through a parse.
  if (matched.some((p) => needsCELEngine(p.policy, p.authorities))) await loadCELEngine()
  const facts = await gatherAuthorityFacts(parsed, digest, matched, store, options)
  const decision = evaluatePolicy(image, matched, facts, { ...noMatch, digest })
  // Stored marked and frozen, so that a hit is the stored object itself (no copy per review) and nobody can change it.
  options.cache?.set(cacheKey, Object.freeze(asCached(decision)))
  return decision
}

/**
 * The decision for `image` when no registry needs asking, else undefined: an image no ClusterImagePolicy matches (or
 * whose reference does not parse), or a digest whose decision is cached. The same decision
 * {@link verifyImageAgainstPolicies} gives, made synchronously and without reading `options.signal`, so the
 * admission webhook answers cached reviews without making an AbortSignal or leaving the current task. Kyverno
 * policies (they also look at the workload) are left to the full path.
 *
 * @example
 * ```ts
 * const quick = decideWithoutRegistry(image, policies, { cache })
 * const decision = quick ?? (await verifyImageAgainstPolicies(image, policies, { store, cache, signal }))
 * ```
 */
export function decideWithoutRegistry(
  image: string,
  policies: readonly (ClusterImagePolicy | KyvernoPolicy)[],
  options: Pick<VerifyImageAgainstPoliciesOptions, 'cache' | 'noMatchPolicy' | 'insecureIgnoreTlog'>,
): PolicyDecision | undefined {
  if (policies.some(isKyvernoPolicy)) return undefined
  const noMatch = options.noMatchPolicy !== undefined ? { noMatchPolicy: options.noMatchPolicy } : {}
  const m = matchImage(image, image, policies as readonly ClusterImagePolicy[], noMatch)
  if ('decision' in m) return m.decision
  const { parsed, matched } = m
  if (parsed.digest === undefined || options.cache === undefined) return undefined
  const hashes: string[] = []
  for (const p of matched) {
    const hash = knownPolicyContentHash(p)
    if (hash === undefined) return undefined
    hashes.push(hash)
  }
  const hit = options.cache.get(decisionCacheKey(parsed, parsed.digest, hashes, options))
  return hit === undefined ? undefined : rewriteImage(asCached(hit), image)
}

/**
 * The policies whose globs match `image` with its parsed reference, or already the decision: policy-controller's
 * no-match decision when none matches, a policy failure when the reference does not parse.
 */
function matchImage(
  image: string,
  ref: Reference | string,
  policies: readonly ClusterImagePolicy[],
  noMatch: { readonly noMatchPolicy?: NoMatchPolicy },
):
  | { readonly decision: PolicyDecision }
  | { readonly parsed: Reference; readonly matched: readonly ClusterImagePolicy[] } {
  let parsed: Reference
  let matched: readonly ClusterImagePolicy[]
  try {
    parsed = typeof ref === 'string' ? parseReference(ref) : ref
    matched = matchingPolicies(image, policies)
  } catch (e) {
    if (!isCountersignError(e)) throw e
    return { decision: evaluatePolicy(image, policies, {}, noMatch) }
  }
  if (matched.length === 0) return { decision: evaluatePolicy(image, matched, {}, noMatch) }
  return { parsed, matched }
}

/** Cached decisions are keyed by repository, digest, the matching policies' content and the log setting. */
function decisionCacheKey(
  parsed: Reference,
  digest: string,
  policyHashes: readonly string[],
  options: Pick<VerifyImageAgainstPoliciesOptions, 'insecureIgnoreTlog'>,
): string {
  const tlog = `tlog=${options.insecureIgnoreTlog === true ? 'off' : 'on'}`
  return `${repositoryName(parsed)}@${digest}|${policyHashes.join('|')}|${tlog}`
}

/** `decision` marked as coming from the cache (`merged`, not a spread: see src/internal/merged.ts). */
function asCached(decision: PolicyDecision): PolicyDecision {
  return decision.cached === true ? decision : merged(decision, { cached: true as const })
}

/** A cached decision, told for the image as this caller wrote it (tag or digest, short or qualified). */
function rewriteImage(d: PolicyDecision, image: string): PolicyDecision {
  if (d.image === image) return d
  // `merged`, not `{ ...r, image }`: see asCached.
  const fix = <T extends { image: string }>(r: T): T => merged(r, { image }) as T
  return merged(d, {
    image,
    reasons: d.reasons.map(fix),
    warnings: d.warnings.map(fix),
    policies: d.policies.map((p) =>
      merged(p, {
        reasons: p.reasons.map(fix),
        authorities: p.authorities.map((a) => merged(a, { reasons: a.reasons.map(fix) })),
      }),
    ),
  })
}
