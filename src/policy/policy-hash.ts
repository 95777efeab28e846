/**
 * The content hash that keys cached decisions by policy, for either kind of policy.
 * @module
 */
import { sha256Digest } from '../oci/digest.js'

const hashes = new WeakMap<object, Promise<string>>()

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
  }
  return h
}
