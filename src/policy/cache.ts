/**
 * Decisions remembered per image digest and policy content, for a while: admission sees the same images again and
 * again, and verifying them is the expensive part. The clock is injected.
 * @module
 */
import type { PolicyDecision } from './types.js'

/**
 * Options for {@link createPolicyCache}.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyCacheOptions {
  /** How long a decision stays valid, in milliseconds (default 60 000). */
  readonly ttlMs?: number
  /** At most this many decisions are kept; the oldest go first (default 10 000). */
  readonly maxEntries?: number
  /** The clock, in milliseconds (default `Date.now`). */
  readonly now?: () => number
}

/**
 * A decision cache. Keys combine the repository, the digest, the hash of the matching policies and the options that
 * change the outcome; callers use {@link verifyImageAgainstPolicies}' key and need not build their own.
 *
 * Exported from `countersign/policy`.
 */
export interface PolicyCache {
  get(key: string): PolicyDecision | undefined
  set(key: string, decision: PolicyDecision): void
  clear(): void
  readonly size: number
}

/**
 * Create a TTL cache for policy decisions.
 *
 * @example
 * ```ts
 * import { createPolicyCache, verifyImageAgainstPolicies } from 'countersign/policy'
 * const cache = createPolicyCache({ ttlMs: 5 * 60_000 })
 * await verifyImageAgainstPolicies(ref, policies, { store, cache })
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function createPolicyCache(options?: PolicyCacheOptions): PolicyCache {
  const ttl = options?.ttlMs ?? 60_000
  const max = Math.max(1, options?.maxEntries ?? 10_000)
  const now = options?.now ?? (() => Date.now())
  if (!(ttl >= 0)) throw new RangeError('"ttlMs" must be a non-negative number')
  const entries = new Map<string, { decision: PolicyDecision; expires: number }>()
  return {
    get(key) {
      const e = entries.get(key)
      if (!e) return undefined
      if (now() >= e.expires) {
        entries.delete(key)
        return undefined
      }
      return e.decision
    },
    set(key, decision) {
      entries.delete(key)
      entries.set(key, { decision, expires: now() + ttl })
      // Map iteration is insertion order: the first keys are the oldest.
      while (entries.size > max) entries.delete(entries.keys().next().value!)
    },
    clear() {
      entries.clear()
    },
    get size() {
      return entries.size
    },
  }
}
