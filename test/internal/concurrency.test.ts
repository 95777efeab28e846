import { describe, expect, it } from 'vitest'
import { mapLimit } from '../../src/internal/concurrency.js'

describe('mapLimit', () => {
  it('keeps order and never runs more than `limit` at once', async () => {
    let active = 0
    let peak = 0
    const out = await mapLimit([5, 1, 4, 2, 3, 0, 6], 3, async (n) => {
      active++
      peak = Math.max(peak, active)
      await new Promise((r) => setTimeout(r, n))
      active--
      return n * 2
    })
    expect(out).toEqual([10, 2, 8, 4, 6, 0, 12])
    expect(peak).toBe(3)
  })

  it('handles empty input and propagates the first failure', async () => {
    expect(await mapLimit([], 4, async () => 1)).toEqual([])
    await expect(mapLimit([1, 2], 2, async (n) => (n === 2 ? Promise.reject(new Error('x')) : n))).rejects.toThrow('x')
  })
})
