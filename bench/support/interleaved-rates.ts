/**
 * One-at-a-time rates of several contenders measured in interleaved slices (bench/verify-bundle.ts, verify-floor.ts).
 * @module
 */

/** Rates of each contender: over the whole run, and in each round of slices. */
export interface InterleavedRates {
  /** Calls per second over all of the contender's slices. */
  readonly rates: number[]
  /** `perRound[k][r]`: contender k's calls per second in round r. */
  readonly perRound: number[][]
}

/**
 * Calls per second of each contender, one call at a time, measured in interleaved `slice`-millisecond turns
 * (A, B, C, A, B, C, …, `seconds` of turns per contender) after 50 warm-up calls each (JIT, key imports, caches), so
 * that load from other processes on a shared machine falls on every contender alike and their ratios stay
 * meaningful. Each round's rates are kept too: the ratio of two contenders within one round compares slices run
 * next to each other, which a burst of load elsewhere distorts far less than the whole-run totals.
 *
 * @example
 * const { rates: [full, floor] } = await interleavedRates([() => verify(), () => replay()], 2)
 */
export async function interleavedRates(
  fns: readonly (() => Promise<unknown> | unknown)[],
  seconds: number,
  slice = 100,
): Promise<InterleavedRates> {
  for (const fn of fns) for (let i = 0; i < 50; i++) await fn()
  const counts = fns.map(() => 0)
  const times = fns.map(() => 0)
  const perRound: number[][] = fns.map(() => [])
  const rounds = Math.max(1, Math.round((seconds * 1000) / slice))
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < fns.length; k++) {
      const fn = fns[k]!
      const t0 = performance.now()
      let n = 0
      while (performance.now() - t0 < slice) {
        await fn()
        n++
      }
      const elapsed = performance.now() - t0
      counts[k]! += n
      times[k]! += elapsed
      perRound[k]!.push(n / (elapsed / 1000))
    }
  }
  return { rates: counts.map((n, k) => n / (times[k]! / 1000)), perRound }
}

/**
 * The median of `values` (the mean of the middle two for an even count).
 *
 * @example
 * median([3, 1, 2]) // 2
 */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
