/**
 * The admission webhook's {@link ImageCheck}, backed by the policy evaluator: one decision per image, cached per
 * digest and policy content, concurrent requests for the same image sharing one verification.
 * @module
 */
import type { ImageCheck, ImageCheckResult } from '../admission/types.js'
import { assertReferenceLength } from '../oci/reference.js'
import { createPolicyCache, type PolicyCacheOptions } from './cache.js'
import { formatPolicyReason } from './evaluate.js'
import type { KyvernoPolicy } from './kyverno/types.js'
import type { ClusterImagePolicy, PolicyDecision } from './types.js'
import {
  decideWithoutRegistry,
  isKyvernoPolicy,
  type VerifyImageAgainstPoliciesOptions,
  verifyImageAgainstPolicies,
} from './verify-policies.js'

/**
 * The policies, or a function returning the current ones (called per check, so reloaded files take effect).
 *
 * Exported from `countersign/policy`.
 */
export type PolicySource =
  | readonly (ClusterImagePolicy | KyvernoPolicy)[]
  | (() => readonly (ClusterImagePolicy | KyvernoPolicy)[] | Promise<readonly (ClusterImagePolicy | KyvernoPolicy)[]>)

/**
 * Options for {@link createPolicyImageCheck}.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyImageCheckOptions extends Omit<VerifyImageAgainstPoliciesOptions, 'cache' | 'signal'> {
  /** Decision cache settings, or `false` for none (default: a cache with a 60 s TTL). */
  readonly cache?: PolicyCacheOptions | false
  /** Receives every decision (for logs and metrics). */
  readonly onDecision?: (decision: PolicyDecision) => void
}

/**
 * An {@link ImageCheck} for the admission webhook: `allowed`, the verified `digest`, warnings (warn-mode failures,
 * no-match under `warn`, unsupported fields) and one line per denying reason. Policy failures never throw; a throw
 * (registry unreachable, aborted, an image reference over 4096 characters) means no decision, and the webhook fails
 * closed.
 *
 * @param policies - The policies, or a getter for the current ones.
 * @param options - As {@link verifyImageAgainstPolicies}, with cache settings.
 * @example
 * ```ts
 * import { createPolicyImageCheck, parsePoliciesAsync } from 'countersign/policy'
 * const check = createPolicyImageCheck((await parsePoliciesAsync(yamlText)).policies, { store })
 * const r = await check('ghcr.io/acme/app:v1', { namespace: 'default' })
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function createPolicyImageCheck(policies: PolicySource, options: PolicyImageCheckOptions): ImageCheck {
  const { cache: cacheOptions, onDecision, ...verifyOptions } = options
  const cache = cacheOptions === false ? undefined : createPolicyCache(cacheOptions ?? {})
  const inFlight = new Map<string, Promise<PolicyDecision>>()
  // Made once: an options object per call would be one more allocation on the path of every cached review.
  const quickOptions = cache ? { ...verifyOptions, cache } : verifyOptions
  return async (image, context) => {
    // An over-long reference is refused by throwing, so the webhook denies it in warn mode too (an unparseable image
    // is otherwise a policy failure, which warn mode allows), before it costs any matching or becomes a cache key.
    assertReferenceLength(image)
    const current = typeof policies === 'function' ? await policies() : policies
    // Kyverno rules match on the workload, so its description is part of what decides.
    const resource = context.resource && current.some(isKyvernoPolicy) ? context.resource : undefined
    // Cached verdicts and images no policy matches are decided here, before anything reads `context.signal`: the
    // webhook makes its signals only when read, and a review answered from the cache never needs one.
    const quick = resource ? undefined : decideWithoutRegistry(image, current, quickOptions)
    if (quick) {
      onDecision?.(quick)
      return toImageCheckResult(quick)
    }
    const key = resource ? `${image}\n${JSON.stringify(resource)}` : image
    // Requests without a signal share one verification; one with a signal runs its own so an abort stays local.
    const shared = context.signal === undefined
    let pending = shared ? inFlight.get(key) : undefined
    if (!pending) {
      pending = verifyImageAgainstPolicies(image, current, {
        ...verifyOptions,
        ...(cache ? { cache } : {}),
        ...(resource ? { resource } : {}),
        ...(context.signal ? { signal: context.signal } : {}),
      })
      if (shared) {
        inFlight.set(key, pending)
        const clear = () => inFlight.delete(key)
        pending.then(clear, clear)
      }
    }
    const decision = await pending
    onDecision?.(decision)
    return toImageCheckResult(decision)
  }
}

/**
 * The webhook's view of a decision: reasons and warnings as one line each.
 *
 * @example
 * ```ts
 * import { toImageCheckResult } from 'countersign/policy'
 * const result = toImageCheckResult(decision)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function toImageCheckResult(decision: PolicyDecision): ImageCheckResult {
  return {
    image: decision.image,
    allowed: decision.allowed,
    ...(decision.digest !== undefined ? { digest: decision.digest } : {}),
    warnings: decision.warnings.map(formatPolicyReason),
    reasons: decision.reasons.map(formatPolicyReason),
    ...(decision.cached ? { cached: true } : {}),
    ...(decision.pin !== undefined ? { pin: decision.pin } : {}),
  }
}
