/** Hostile deeply nested JSON for the depth-limit tests (docs/formats.md §Input limits). @module */
import { expect } from 'vitest'
import { CountersignError } from '../../src/errors.js'

/** The depth of every reproduction: far past what any recursive reader survives. */
export const HOSTILE_DEPTH = 100_000

/** `[[[…]]]`, `depth` levels, as JSON text. */
export function nestedArrays(depth: number = HOSTILE_DEPTH): string {
  return '['.repeat(depth) + ']'.repeat(depth)
}

/** `{"a":{"a":…1…}}`, `depth` levels, as JSON text. */
export function nestedObjects(depth: number = HOSTILE_DEPTH): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
}

/**
 * Run `f` (sync or async) and return what it threw, checking it is a CountersignError with `code` and
 * `details.reason` (never a RangeError from a stack overflow) and that it came quickly.
 */
export async function expectShapeError(
  f: () => unknown,
  code: string,
  reason: 'too-deep' | 'too-large',
  details?: Record<string, unknown>,
): Promise<CountersignError> {
  const start = performance.now()
  let thrown: unknown
  try {
    await f()
  } catch (e) {
    thrown = e
  }
  const elapsed = performance.now() - start
  if (!(thrown instanceof CountersignError)) {
    throw new Error(`expected a CountersignError, got ${thrown instanceof Error ? thrown.name : String(thrown)}`, {
      cause: thrown,
    })
  }
  expect(thrown.code).toBe(code)
  expect(thrown.details).toMatchObject({ ...details, reason })
  expect(thrown.message).toMatch(reason === 'too-deep' ? /nested too deeply/ : /too large|larger than/)
  expect(thrown.message.length).toBeLessThan(300)
  expect(elapsed).toBeLessThan(1000)
  return thrown
}
