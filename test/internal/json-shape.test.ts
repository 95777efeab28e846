import { describe, expect, it } from 'vitest'
import {
  assertJSONShape,
  assertJSONText,
  DEFAULT_MAX_JSON_NODES,
  jsonDepth,
  jsonTextDepth,
  MAX_JSON_DEPTH,
} from '../../src/internal/json-shape.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

const LIMITS = { code: 'ERR_INVALID_INPUT', what: 'thing', maxDepth: 8 } as const

describe('jsonDepth', () => {
  it('counts objects and arrays, the outermost as level 1', () => {
    expect(jsonDepth(1, 8)).toEqual({ depth: 0 })
    expect(jsonDepth(null, 8)).toEqual({ depth: 0 })
    expect(jsonDepth({}, 8)).toEqual({ depth: 1 })
    expect(jsonDepth({ a: [1, { b: 'x' }], c: [] }, 8)).toEqual({ depth: 3 })
    expect(jsonDepth([[[]]], 3)).toEqual({ depth: 3 })
    expect(jsonDepth([[[]]], 2)).toEqual({ exceeded: 'too-deep' })
  })

  it('walks a parsed 100,000-deep value without recursion', () => {
    for (const text of [nestedArrays(), nestedObjects()]) {
      expect(jsonDepth(JSON.parse(text), MAX_JSON_DEPTH)).toEqual({ exceeded: 'too-deep' })
      expect(jsonDepth(JSON.parse(text), Number.POSITIVE_INFINITY)).toEqual({ depth: 100_000 })
    }
  })

  it('stops on a cycle and on shared sub-objects that would make the walk exponential', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(jsonDepth(cycle, 1000)).toEqual({ exceeded: 'too-deep' })
    // 40 levels of a node whose two children are the same object: 2^40 paths, 40 objects.
    let shared: unknown = {}
    for (let i = 0; i < 40; i++) shared = { l: shared, r: shared }
    const start = performance.now()
    expect(jsonDepth(shared, MAX_JSON_DEPTH, 10_000)).toEqual({ exceeded: 'too-large' })
    expect(performance.now() - start).toBeLessThan(1000)
    expect(DEFAULT_MAX_JSON_NODES).toBe(1 << 20)
  })
})

describe('jsonTextDepth', () => {
  it('counts brackets and braces outside strings only', () => {
    expect(jsonTextDepth('1', 8)).toBe(0)
    expect(jsonTextDepth('{"a":[1,{"b":2}]}', 8)).toBe(3)
    expect(jsonTextDepth('{"[[[[": "{{{{", "x\\"[[[": "\\\\"}', 8)).toBe(1)
    expect(jsonTextDepth(new TextEncoder().encode('["é[", {"ü": []}]'), 8)).toBe(3)
  })

  it('stops at the first level too many', () => {
    expect(jsonTextDepth(nestedArrays(), 64)).toBe(65)
    expect(jsonTextDepth(new TextEncoder().encode(nestedObjects()), 64)).toBe(65)
  })
})

describe('assertJSONShape and assertJSONText', () => {
  it('accept values within the limits', () => {
    expect(() => assertJSONShape({ a: [[1]] }, LIMITS)).not.toThrow()
    expect(() => assertJSONText('{"a":[[1]]}', { ...LIMITS, maxBytes: 100 })).not.toThrow()
  })

  it('refuse too deep and too large inputs with the caller code, message and details', async () => {
    const deep = await expectShapeError(
      () => assertJSONShape(JSON.parse(nestedArrays()), LIMITS),
      'ERR_INVALID_INPUT',
      'too-deep',
    )
    expect(deep.message).toBe('thing is nested too deeply (more than 8 levels)')
    const many = await expectShapeError(
      () =>
        assertJSONShape(
          Array.from({ length: 100 }, () => []),
          { ...LIMITS, maxNodes: 50 },
        ),
      'ERR_INVALID_INPUT',
      'too-large',
    )
    expect(many.message).toBe('thing is too large (more than 50 objects and arrays)')
    const text = await expectShapeError(
      () => assertJSONText(nestedArrays(), { ...LIMITS, maxBytes: 1 << 20, details: { check: 'x' } }),
      'ERR_INVALID_INPUT',
      'too-deep',
      { check: 'x' },
    )
    expect(text.message).toBe('thing is nested too deeply (more than 8 levels)')
    const big = await expectShapeError(
      () => assertJSONText(new Uint8Array(101), { ...LIMITS, maxBytes: 100 }),
      'ERR_INVALID_INPUT',
      'too-large',
    )
    expect(big.message).toBe('thing is too large (more than 100 bytes)')
  })
})
