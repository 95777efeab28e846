/**
 * The content hash that keys cached decisions by policy, for either kind of policy.
 * @module
 */
import { sha256Digest } from '../oci/digest.js'

const hashes = new WeakMap<object, Promise<string>>()
/** The hashes computed so far, for callers that must not wait (see {@link knownPolicyContentHash}). */
const known = new WeakMap<object, string>()

/**
 * SHA-256 of a parsed policy (defaults applied), computed once per policy object, so an edit to a policy
 * invalidates its cached decisions.
 *
 * @example
 * ```ts
 * const key = [digest, ...(await Promise.all(matched.map(policyContentHash)))].join('|')
 * ```
 */
export function policyContentHash(policy: object): Promise<string> {
  let h = hashes.get(policy)
  if (!h) {
    h = sha256Digest(new TextEncoder().encode(JSON.stringify(policy)))
    hashes.set(policy, h)
    h.then(
      (hash) => known.set(policy, hash),
      () => {},
    )
  }
  return h
}

/**
 * The policy's content hash if {@link policyContentHash} has already computed it, else undefined: lets a cached
 * decision be found without waiting (the webhook's cache hits never leave the current task).
 *
 * @example
 * ```ts
 * const hash = knownPolicyContentHash(policy) // undefined until policyContentHash(policy) has settled once
 * ```
 */
export function knownPolicyContentHash(policy: object): string | undefined {
  return known.get(policy)
}
