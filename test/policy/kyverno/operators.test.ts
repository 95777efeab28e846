import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { isCountersignError } from '../../../src/errors.js'
import { evaluateKyvernoOperator } from '../../../src/policy/kyverno/operators.js'
import {
  formatGoFloat,
  formatGoFloat32Fixed,
  goSprint,
  parseGoFloat,
} from '../../../src/policy/kyverno/operators-go-values.js'

// kyverno/kyverno@111e07bb pkg/engine/variables/evaluate_test.go TestEvaluate, extracted as JSON (numbers are float64
// in Kyverno after its JSON round trip, so JSON numbers are faithful); see test/vectors/kyverno/PROVENANCE.md.
interface OperatorCase {
  readonly key: unknown
  readonly operator: string
  readonly value: unknown
  readonly result: boolean
  readonly section: string
}
const vectors: { cases: readonly OperatorCase[] } = JSON.parse(
  readFileSync(new URL('../../vectors/kyverno/condition-operator-cases.json', import.meta.url), 'utf8'),
)

describe('Kyverno condition operators: upstream TestEvaluate cases', () => {
  it('has the whole upstream table', () => {
    expect(vectors.cases).toHaveLength(336)
  })

  it.each(
    vectors.cases.map(
      (c, i) => [`#${i} ${JSON.stringify(c.key)} ${c.operator} ${JSON.stringify(c.value)} → ${c.result}`, c] as const,
    ),
  )('%s', (_name, c) => {
    expect(evaluateKyvernoOperator(c.key, c.operator, c.value)).toBe(c.result)
  })
})

function operatorError(key: unknown, operator: string, value: unknown): unknown {
  try {
    evaluateKyvernoOperator(key, operator, value)
  } catch (e) {
    return e
  }
  throw new Error(`${operator} did not throw`)
}

describe('operator names', () => {
  it('matches names in any case, as Kyverno picks its handler', () => {
    expect(evaluateKyvernoOperator('a', 'EQUALS', 'a')).toBe(true)
    expect(evaluateKyvernoOperator('a', 'notequals', 'b')).toBe(true)
    expect(evaluateKyvernoOperator('a', 'anyin', ['a'])).toBe(true)
    expect(evaluateKyvernoOperator('a', 'Equal', 'a')).toBe(true)
    expect(evaluateKyvernoOperator('a', 'NotEqual', 'a')).toBe(false)
  })

  it('only compares under the canonical spelling of an ordering operator (Kyverno compares the name as written)', () => {
    expect(evaluateKyvernoOperator(2, 'GreaterThan', 1)).toBe(true)
    expect(evaluateKyvernoOperator(2, 'greaterthan', 1)).toBe(false)
    expect(evaluateKyvernoOperator('2h', 'DurationGreaterThan', '1h')).toBe(true)
    expect(evaluateKyvernoOperator('2h', 'durationGreaterThan', '1h')).toBe(false)
  })

  it('refuses an unknown operator', () => {
    const e = operatorError('a', 'Matches', 'a')
    expect(isCountersignError(e)).toBe(true)
    expect(e).toMatchObject({ code: 'ERR_INVALID_INPUT', details: { reason: 'unknown-operator' } })
    expect(operatorError('a', '', 'a')).toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })
})

describe('Kyverno quirks kept', () => {
  it.each([
    // Durations: a number is seconds, truncated to whole seconds first (time.Duration(f) * time.Second).
    ['1h', 'Equals', 3600, true],
    ['1h', 'Equals', '60m', true],
    ['1s', 'Equals', 1.5, true],
    [1.5, 'GreaterThan', '1s', false],
    ['1h', 'DurationGreaterThan', 3599.9, true],
    ['0', 'Equals', 0, false], // "0" is not taken for a duration, and a number value is no quantity
    // Quantities, exact.
    ['1Gi', 'Equals', '1024Mi', true],
    ['1e-999999999', 'Equals', '1n', true],
    ['1500m', 'GreaterThan', '1', true],
    ['1Gi', 'NotEquals', '', true], // an empty value is matched as a wildcard, not parsed
    ['123', 'Equals', '12*', false], // a quantity key is never wildcard-matched
    ['-', 'Equals', '0', true], // Kubernetes parses a bare sign as zero
    // Wildcards are in the value.
    ['1.5.2', 'Equals', '1.5.*', true],
    ['1.5.*', 'Equals', '1.5.2', false],
    // Strict semantic versions, after numbers.
    ['1.10.0', 'GreaterThan', '1.9.3', true],
    ['1.0.0-rc.1', 'LessThan', '1.0.0', true],
    ['v1.10.0', 'GreaterThan', 'v1.9.3', false],
    ['abc', 'GreaterThan', 'abb', false], // no string ordering
    // Types.
    [null, 'Equals', null, false],
    [null, 'NotEquals', 'x', false],
    [{ a: [1] }, 'Equals', { a: [1] }, true],
    [{ a: [1] }, 'NotEquals', [1], true],
    [true, 'NotEquals', 'true', true],
    [1, 'Equals', '1e0', true],
    [1, 'Equals', 'nan', false],
    // Membership: %v printing and wildcards both ways.
    [1000000, 'AnyIn', ['1e+06'], true],
    [true, 'AnyIn', 'true', true],
    ['ghcr.io/acme/app', 'AnyIn', ['ghcr.io/acme/*'], true],
    ['ghcr.io/*', 'AllIn', ['ghcr.io/acme/app'], true],
    [['a', 'b'], 'AllIn', ['a', 'b', 'c'], true],
    [['a', 'x'], 'AllIn', ['a', 'b'], false],
    [['a', 'x'], 'AnyNotIn', ['a', 'b'], true],
    [['a', 'x'], 'AllNotIn', ['y'], true],
    [[1, 2], 'AnyIn', 2, true], // a scalar number value is accepted by the Any* forms only
    [[1, 2], 'AllIn', 2, false],
    ['x', 'AnyIn', '["x","y"]', true],
    ['x', 'AnyNotIn', 'null', true], // Go decodes JSON null into an empty list without error
    ['x', 'AnyIn', '[1]', false], // not a list of strings: invalid, false for both forms
    ['x', 'AnyNotIn', '[1]', false],
    // Ranges: durations first, then quantities; a key equal to the range text is inside it.
    ['5', 'AnyIn', '1-10', true],
    ['11', 'AnyIn', '1-10', false],
    ['5m', 'AnyIn', '0-10', true],
    ['1.5Gi', 'AllIn', '1Gi-2Gi', true],
    ['90m', 'AnyIn', '1h-2h', true],
    ['abc', 'AnyIn', '1-10', false],
    [['1', '20'], 'AllNotIn', '5-10', true],
    [['7'], 'AnyNotIn', '5-10', false],
    [['0'], 'AnyNotIn', '-5-10', true], // Kyverno's "!-" rewrite breaks a negative lower bound
    // Legacy In/NotIn.
    ['a', 'In', ['b', 'a*'], true],
    ['a', 'In', '["a","b"]', true],
    ['a', 'NotIn', 'b', false], // not JSON: invalid, false
    [['x'], 'NotIn', 'x', true], // a one-element key equal to the value is "in" it, for NotIn too
    [['x', 'y'], 'In', ['x', 'y', 'z'], true],
    [['x', 'q'], 'NotIn', ['x', 'y'], true],
  ])('%j %s %j → %s', (key, operator, value, expected) => {
    expect(evaluateKyvernoOperator(key, operator, value)).toBe(expected)
  })

  it('refuses In/NotIn with a key list holding a non-string (Kyverno panics)', () => {
    expect(operatorError([1], 'In', ['1'])).toMatchObject({ code: 'ERR_INVALID_INPUT' })
    expect(operatorError(['a', null], 'NotIn', ['a'])).toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })

  it('refuses values nested deeper than 512 levels instead of overflowing the stack', () => {
    const nest = () => {
      let deep: unknown = 1
      for (let i = 0; i < 2000; i++) deep = [deep]
      return deep
    }
    expect(operatorError(nest(), 'Equals', nest())).toMatchObject({
      code: 'ERR_INVALID_INPUT',
      details: { reason: 'too-deep' },
    })
  })
})

describe("Go's printing and parsing of numbers", () => {
  it.each([
    [1, '1'],
    [1.5, '1.5'],
    [123456, '123456'],
    [1000000, '1e+06'],
    [1234567, '1.234567e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-0, '-0'],
    [1e100, '1e+100'],
    [Number.POSITIVE_INFINITY, '+Inf'],
    [Number.NaN, 'NaN'],
  ])('fmt.Sprint(%s) = %s', (n, text) => {
    expect(goSprint(n)).toBe(text)
  })

  it('prints lists and maps as Go does', () => {
    expect(goSprint(['a', 1, null, true])).toBe('[a 1 <nil> true]')
    expect(goSprint({ b: [1], a: { c: 'x' } })).toBe('map[a:map[c:x] b:[1]]')
  })

  it.each([
    ['1', 1],
    ['-1.5e3', -1500],
    ['.5', 0.5],
    ['1.', 1],
    ['inf', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['0x1p-2', 0.25],
  ])('strconv.ParseFloat(%j) = %s', (text, n) => {
    expect(parseGoFloat(text)).toBe(n)
  })

  it.each(['', ' 1', '1 ', '1_000', '0x10', '1e400', '+nan', '1e', '.', 'abc'])(
    'strconv.ParseFloat(%j) fails',
    (text) => {
      expect(parseGoFloat(text)).toBeUndefined()
    },
  )

  it('formats numbers for string functions as float32, as Kyverno does', () => {
    expect(formatGoFloat32Fixed(12)).toBe('12')
    expect(formatGoFloat32Fixed(0.1)).toBe('0.1')
    expect(formatGoFloat32Fixed(16777217)).toBe('16777216')
    expect(formatGoFloat32Fixed(1e20)).toBe('100000000000000000000')
    expect(formatGoFloat32Fixed(-2.5)).toBe('-2.5')
  })

  it('formats %v floats with Go rules', () => {
    expect(formatGoFloat(100)).toBe('100')
  })
})
