/** A small seeded PRNG for the soak, so a run's fault decisions replay from its printed seed. */

/** mulberry32: 32-bit state, uniform floats in [0, 1). Not for cryptography; only for choosing faults. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The seed from `raw` (decimal or 0x-hex), or a fresh random one when unset. */
export function soakSeed(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return Math.floor(Math.random() * 2 ** 32) >>> 0
  const n = Number(raw.trim())
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`COUNTERSIGN_SOAK_SEED must be a non-negative integer, not ${raw}`)
  return n >>> 0
}

/** An integer in [lo, hi]. */
export function intBetween(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1))
}
