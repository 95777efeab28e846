/**
 * Kyverno's JMESPath dialect: the optional engine and its loader, go-jmespath's missing-key rule (where an absent
 * field is an error and where it reads as null), the syntax go-jmespath lacks, and Go's literal decoding.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { CountersignError } from '../../../src/errors.js'
import { loadJMESPathEngine, searchKyvernoJMESPath } from '../../../src/policy/kyverno/jmespath.js'

beforeAll(async () => {
  await loadJMESPathEngine()
})

function errorOf(expression: string, data: unknown): CountersignError {
  try {
    searchKyvernoJMESPath(expression, data)
  } catch (e) {
    expect(e).toBeInstanceOf(CountersignError)
    return e as CountersignError
  }
  throw new Error(`${expression} did not throw`)
}

const data = {
  a: { b: 1, list: [{ name: 'x', v: 1 }, { name: 'y' }], empty: {} },
  s: 'text',
  n: null,
  nums: [3, 1, 2],
}

describe('loading the optional engine', () => {
  it('refuses to search before the engine is loaded, saying what to call', async () => {
    vi.resetModules()
    const fresh = await import('../../../src/policy/kyverno/jmespath.js')
    expect(fresh.isJMESPathEngineLoaded()).toBe(false)
    let error: unknown
    try {
      fresh.searchKyvernoJMESPath('a', { a: 1 })
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({
      code: 'ERR_DEPENDENCY_MISSING',
      details: { package: '@jmespath-community/jmespath', reason: 'not-loaded' },
    })
    expect((error as Error).message).toContain('loadJMESPathEngine()')
  })

  it('fails closed with an install hint when the package is missing, and retries on the next call', async () => {
    vi.resetModules()
    const fresh = await import('../../../src/policy/kyverno/jmespath.js')
    const missing = Object.assign(new Error("Cannot find package '@jmespath-community/jmespath'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    })
    const failed = await fresh.loadJMESPathEngineWith(() => Promise.reject(missing)).catch((e: unknown) => e)
    expect(failed).toMatchObject({
      code: 'ERR_DEPENDENCY_MISSING',
      details: { package: '@jmespath-community/jmespath', reason: 'not-installed' },
    })
    expect((failed as Error).message).toContain('npm install @jmespath-community/jmespath')
    expect(fresh.isJMESPathEngineLoaded()).toBe(false)
    const broken = await fresh.loadJMESPathEngineWith(() => Promise.reject(new Error('boom'))).catch((e: unknown) => e)
    expect(broken).toMatchObject({ code: 'ERR_DEPENDENCY_MISSING', details: { reason: 'load-failed' } })
    await fresh.loadJMESPathEngine()
    expect(fresh.isJMESPathEngineLoaded()).toBe(true)
    expect(fresh.searchKyvernoJMESPath('a', { a: 1 })).toBe(1)
  })

  it('loads once: later calls return at once and share the first import', async () => {
    vi.resetModules()
    const fresh = await import('../../../src/policy/kyverno/jmespath.js')
    const importer = vi.fn(() => import('@jmespath-community/jmespath'))
    await Promise.all([fresh.loadJMESPathEngineWith(importer), fresh.loadJMESPathEngineWith(importer)])
    await fresh.loadJMESPathEngineWith(importer)
    expect(importer).toHaveBeenCalledTimes(1)
  })

  it('registers nothing in the library: its global table keeps the community built-ins only', async () => {
    const community = await import('@jmespath-community/jmespath')
    expect(community.getCustomFunctions()).toEqual([])
    expect(community.isRegistered('regex_match')).toBe(false)
    // The library still means its own `items` (pairs), unaffected by Kyverno's `items`.
    expect(community.search({ a: 1 }, 'items(@)')).toEqual([['a', 1]])
  })
})

describe("go-jmespath's missing-key rule", () => {
  const errors: [string, string][] = [
    ['missing', 'missing'],
    ['a.missing', 'missing'],
    ['a.missing.deeper', 'missing'],
    ['a.list[0].missing', 'missing'],
    ['a.missing[0]', 'missing'],
    // The right side of && is not forgiven.
    ['a.b && missing', 'missing'],
    ['"quoted-missing"', 'quoted-missing'],
  ]
  it.each(errors)('%s → Unknown key "%s" in path', (expression, key) => {
    const e = errorOf(expression, data)
    expect(e.code).toBe('ERR_INVALID_INPUT')
    expect(e.message).toBe(`Unknown key "${key}" in path`)
    expect(e.details).toMatchObject({ reason: 'unknown-key', key })
  })

  const nulls: [string, unknown][] = [
    // A field of something that is not an object is null.
    ['n.x', null],
    ['s.x', null],
    ['nums.x', null],
    ['a.b.x', null],
    // ||, !, pipes, comparisons, function arguments and multi-selects read a missing key as null.
    ["missing || 'fallback'", 'fallback'],
    ["a.missing || a.also_missing || 'x'", 'x'],
    ['missing || also_missing', null],
    ['!missing', true],
    ['missing | x', null],
    ['a | missing', null],
    ['missing == `null`', true],
    ['a.missing != `null`', false],
    ['to_string(missing)', 'null'],
    ['not_null(missing, a.b)', 1],
    ['[missing, a.b]', [null, 1]],
    ['{x: missing, y: a.b}', { x: null, y: 1 }],
    ['missing && a.b', null],
    // Projections and filters drop elements where the key is missing.
    ['a.list[*].v', [1]],
    ['a.list[?v == `1`].name', ['x']],
    ['a.list[?missing].name', []],
    ['missing[*].x', null],
    ['missing[?x]', null],
    ['missing[]', null],
    ['missing.*', null],
    ['map(&v, a.list)', [1, null]],
  ]
  it.each(nulls)('%s → %j', (expression, expected) => {
    expect(searchKyvernoJMESPath(expression, data)).toEqual(expected)
  })

  it('keeps null values that are present (a key with null is not missing)', () => {
    expect(searchKyvernoJMESPath('n', data)).toBeNull()
    expect(searchKyvernoJMESPath('x.y', { x: null })).toBeNull()
  })

  it('does not mistake inherited properties for keys', () => {
    expect(errorOf('constructor', {}).details).toMatchObject({ reason: 'unknown-key', key: 'constructor' })
    expect(errorOf('toString', { a: 1 }).message).toBe('Unknown key "toString" in path')
  })
})

describe('the original-specification dialect', () => {
  it.each([
    ['$', 'Root'],
    ['a.b + `1`', 'Arithmetic'],
    ['let $x = a in $x', 'LetExpression'],
    ["a ? 'y' : 'n'", 'Ternary'],
  ])('refuses community-only syntax: %s', (expression, what) => {
    const e = errorOf(expression, data)
    expect(e.details).toMatchObject({ reason: 'syntax' })
    expect(e.message).toContain(what)
  })

  it('reports syntax errors as ERR_INVALID_INPUT (syntax)', () => {
    for (const bad of ['a.', 'a[', "'unterminated", '`{"a":`', 'a[?b==]', '`not json`']) {
      expect(errorOf(bad, data).details, bad).toMatchObject({ reason: 'syntax' })
    }
  })

  it('has no community-only built-ins', () => {
    for (const name of ['lower(s)', 'upper(s)', 'find_first(s, `"t"`)', 'group_by(nums, &@)', 'zip(nums, nums)']) {
      expect(errorOf(name, data).message, name).toMatch(/^unknown function: /)
    }
  })

  it("decodes raw strings as go-jmespath: only \\' is an escape, every other backslash stays", () => {
    expect(searchKyvernoJMESPath(String.raw`'it\'s'`, null)).toBe("it's")
    expect(searchKyvernoJMESPath(String.raw`'\d+\\n'`, null)).toBe(String.raw`\d+\\n`)
    expect(searchKyvernoJMESPath(String.raw`'a\\'`.slice(0, -1) + "x'", null)).toBe(String.raw`a\\x`)
  })

  it('decodes JSON literals as Go: \\` is a backtick, whitespace around the JSON is fine', () => {
    expect(searchKyvernoJMESPath('` true `', null)).toBe(true)
    expect(searchKyvernoJMESPath('`"a\\`b\\`c"`', null)).toBe('a`b`c')
    expect(searchKyvernoJMESPath('`{"k": [1, 2.5]}`.k[1]', null)).toBe(2.5)
  })

  it('treats only false, null and empty values as false (0 is true)', () => {
    expect(searchKyvernoJMESPath('`0` || `1`', null)).toBe(0)
    expect(searchKyvernoJMESPath("'' || 'x'", null)).toBe('x')
    expect(searchKyvernoJMESPath('a.empty || `1`', data)).toBe(1)
  })

  it('compares only numbers with < and >, anything else is null', () => {
    expect(searchKyvernoJMESPath("'a' < 'b'", null)).toBeNull()
    expect(searchKyvernoJMESPath('`1` < `2`', null)).toBe(true)
    expect(searchKyvernoJMESPath('`{"a":[1]}` == `{"a":[1]}`', null)).toBe(true)
  })

  it('slices arrays only (a string slice is null, as in go-jmespath)', () => {
    expect(searchKyvernoJMESPath('nums[::-1]', data)).toEqual([2, 1, 3])
    expect(searchKyvernoJMESPath('s[0:2]', data)).toBeNull()
    expect(errorOf('nums[::0]', data).details).toMatchObject({ reason: 'evaluation' })
  })

  it('bounds the work of one search', () => {
    const big = Array.from({ length: 2000 }, (_, i) => i)
    // 2000 × 2000 filter steps: past a million.
    const costly = errorOf('x[*][?@ == `1`]', { x: big.map(() => big) })
    expect(costly.details).toMatchObject({ reason: 'too-costly' })
    // A step budget, not an error a filter could swallow: the left side of a filter forgives errors, not this.
    expect(errorOf('x[*][?@ == `1`][?@]', { x: big.map(() => big) }).details).toMatchObject({ reason: 'too-costly' })
    expect(searchKyvernoJMESPath('length(x[0][?@ == `1`])', { x: [big] })).toBe(1)
  })

  it('refuses expressions longer than 16 KiB and nesting deeper than the stack', () => {
    expect(errorOf(`a${'.b'.repeat(9000)}`, data).details).toMatchObject({ reason: 'syntax' })
    expect(errorOf(`${'['.repeat(5000)}a${']'.repeat(5000)}`, data).details).toMatchObject({ reason: 'syntax' })
  })

  it('evaluates with the clock it is given', () => {
    const now = new Date('2024-05-06T07:08:09.5Z')
    expect(searchKyvernoJMESPath('time_now_utc()', null, { now })).toBe('2024-05-06T07:08:09Z')
  })
})
