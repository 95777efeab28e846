/** Retry pacing shared by the HTTP transport and the writers that retry on their own. @module */

/**
 * Full-jitter exponential backoff for retry number `n` (0-based): a random wait below
 * `min(maxDelayMs, baseDelayMs × 2^n)` (defaults 250 ms and 8 s), as AWS's "Exponential Backoff And Jitter" advises
 * so that contending clients spread out.
 *
 * @example
 * ```ts
 * await sleep(backoffDelay(attempt, { baseDelayMs: 100 }, Math.random))
 * ```
 */
export function backoffDelay(
  n: number,
  retry: { readonly baseDelayMs?: number; readonly maxDelayMs?: number } | undefined,
  random: () => number,
): number {
  const base = retry?.baseDelayMs ?? 250
  const cap = retry?.maxDelayMs ?? 8_000
  return Math.floor(random() * Math.min(cap, base * 2 ** Math.min(n, 30)))
}
