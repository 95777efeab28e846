/** "Did you mean …?" for mistyped verbs and flags, as cobra offers cosign users. @module */

/**
 * Edit distance (insertions, deletions, substitutions, and a swap of two neighbours as one edit: `--kye` is one typo
 * away from `--key`), stopping early once it exceeds `limit`.
 */
function distance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let before: number[] = []
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1)
      row.push(v)
      best = Math.min(best, v)
    }
    if (best > limit) return limit + 1
    before = prev
    prev = row
  }
  return prev[b.length]!
}

/**
 * The candidates close to `input`: within `maxDistance` edits (default two), or starting with it; nearest first, at
 * most three.
 *
 * @example
 * ```ts
 * suggest('verfy', ['verify', 'sign']) // ['verify']
 * ```
 */
export function suggest(input: string, candidates: readonly string[], maxDistance = 2): string[] {
  if (input === '') return []
  return candidates
    .map((c) => ({ c, d: c.startsWith(input) ? 0 : distance(input, c, maxDistance) }))
    .filter((x) => x.d <= maxDistance)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, 3)
    .map((x) => x.c)
}

/**
 * The "Did you mean this?" paragraph for `suggestions` (cobra's wording), or '' when there are none.
 *
 * @example
 * ```ts
 * didYouMean(['verify']) // '\n\nDid you mean this?\n\tverify'
 * ```
 */
export function didYouMean(suggestions: readonly string[]): string {
  return suggestions.length === 0 ? '' : `\n\nDid you mean this?\n${suggestions.map((s) => `\t${s}`).join('\n')}`
}
