/**
 * Kyverno's wildcard patterns (its `ext/wildcard` package, go-wildcard v1.0.3): `*` matches any run of characters,
 * `/` and `:` included; `?` matches exactly one character; everything else matches itself; the whole text must
 * match; no escapes, no classes. Used for image references, keyless subjects and issuers, resource names and
 * namespaces, and the `Equals`/`In` operators (docs/policy.md, "Kyverno").
 * @module
 */

/**
 * Whether `text` matches the Kyverno wildcard `pattern`. Runs in O(pattern × text) at worst (greedy with one
 * backtrack point), so hostile patterns cannot make it explode.
 *
 * @param pattern - `*` any run, `?` one character (a code point), anything else literally.
 * @param text - The text, e.g. a normalised image reference `ghcr.io/acme/app:v1`.
 * @example
 * ```ts
 * import { matchKyvernoWildcard } from 'countersign/policy'
 * matchKyvernoWildcard('ghcr.io/acme/*', 'ghcr.io/acme/app:v1') // true: `*` spans `/` and `:`
 * matchKyvernoWildcard('ghcr.io/acme/app:v?', 'ghcr.io/acme/app:v10') // false: `?` is one character
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function matchKyvernoWildcard(pattern: string, text: string): boolean {
  if (pattern === '*') return true
  // Code points, not UTF-16 units: `?` stands for one character, as Go's runes.
  const p = Array.from(pattern)
  const t = Array.from(text)
  let i = 0
  let j = 0
  let star = -1
  let resume = 0
  while (j < t.length) {
    if (i < p.length && (p[i] === '?' || (p[i] !== '*' && p[i] === t[j]))) {
      i++
      j++
    } else if (i < p.length && p[i] === '*') {
      star = i++
      resume = j
    } else if (star >= 0) {
      i = star + 1
      j = ++resume
    } else {
      return false
    }
  }
  while (i < p.length && p[i] === '*') i++
  return i === p.length
}
