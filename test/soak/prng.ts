/** The soak's seed, so a run's fault decisions replay from what it printed (the PRNG: test/support/prng.ts). */

/** The seed from `raw` (decimal or 0x-hex), or a fresh random one when unset. */
export function soakSeed(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return Math.floor(Math.random() * 2 ** 32) >>> 0
  const n = Number(raw.trim())
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`COUNTERSIGN_SOAK_SEED must be a non-negative integer, not ${raw}`)
  return n >>> 0
}
