/** Bounded-concurrency map. Never exported from the package. @module */

/**
 * Map `items` through `fn` with at most `limit` calls in flight; results keep the input order. The first rejection
 * rejects the whole call (calls already started still finish in the background, their results ignored).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await fn(items[i]!, i)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker))
  return results
}
