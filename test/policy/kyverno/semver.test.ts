/**
 * blang/semver v4 as Kyverno uses it: strict parsing and precedence (GreaterThan/LessThan on version strings) and
 * ranges (semver_compare). Range rows come from blang/semver v4 range_test.go TestParseRange.
 */
import { describe, expect, it } from 'vitest'
import { compareSemver, parseSemver, parseSemverRange } from '../../../src/policy/kyverno/semver.js'

const v = (s: string) => {
  const parsed = parseSemver(s)
  if (parsed === undefined) throw new Error(`${s} does not parse`)
  return parsed
}

describe('parseSemver (strict)', () => {
  it('parses the full form', () => {
    expect(v('1.2.3-alpha.1+build.5')).toEqual({
      major: 1n,
      minor: 2n,
      patch: 3n,
      pre: ['alpha', 1n],
      build: ['build', '5'],
    })
    expect(v('18446744073709551615.0.0').major).toBe(18446744073709551615n)
  })

  it.each([
    '',
    '1',
    '1.2',
    'v1.2.3',
    '01.2.3',
    '1.02.3',
    '1.2.03',
    '1.2.3-',
    '1.2.3+',
    '1.2.3-01',
    '1.2.3-a..b',
    '1.2.3-ä',
    '18446744073709551616.0.0',
    ' 1.2.3',
  ])('refuses %j', (text) => {
    expect(parseSemver(text)).toBeUndefined()
  })

  it('orders pre-releases by the semver rules', () => {
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ]
    for (let i = 0; i + 1 < order.length; i++) {
      expect(compareSemver(v(order[i]!), v(order[i + 1]!)), `${order[i]} < ${order[i + 1]}`).toBe(-1)
      expect(compareSemver(v(order[i + 1]!), v(order[i]!))).toBe(1)
    }
    expect(compareSemver(v('1.0.0+a'), v('1.0.0+b'))).toBe(0)
  })
})

describe('parseSemverRange (blang TestParseRange)', () => {
  const cases: [string, [string, boolean][]][] = [
    [
      '>1.2.3',
      [
        ['1.2.2', false],
        ['1.2.3', false],
        ['1.2.4', true],
      ],
    ],
    [
      '>=1.2.3',
      [
        ['1.2.3', true],
        ['1.2.4', true],
        ['1.2.2', false],
      ],
    ],
    [
      '<1.2.3',
      [
        ['1.2.2', true],
        ['1.2.3', false],
        ['1.2.4', false],
      ],
    ],
    [
      '<=1.2.3',
      [
        ['1.2.2', true],
        ['1.2.3', true],
        ['1.2.4', false],
      ],
    ],
    [
      '1.2.3',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
      ],
    ],
    [
      '=1.2.3',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
      ],
    ],
    [
      '==1.2.3',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
      ],
    ],
    [
      '!=1.2.3',
      [
        ['1.2.2', true],
        ['1.2.3', false],
        ['1.2.4', true],
      ],
    ],
    [
      '!1.2.3',
      [
        ['1.2.2', true],
        ['1.2.3', false],
        ['1.2.4', true],
      ],
    ],
    [
      '>1.2.2 <1.2.4',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
      ],
    ],
    [
      '<1.2.2 <1.2.4',
      [
        ['1.2.1', true],
        ['1.2.2', false],
        ['1.2.3', false],
        ['1.2.4', false],
      ],
    ],
    [
      '>1.2.2 <1.2.5 !=1.2.4',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
        ['1.2.5', false],
      ],
    ],
    [
      '>1.2.2 <1.2.5 !1.2.4',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
        ['1.2.5', false],
      ],
    ],
    [
      '>1.2.2 || <1.2.4',
      [
        ['1.2.2', true],
        ['1.2.3', true],
        ['1.2.4', true],
      ],
    ],
    [
      '<1.2.2 || >1.2.4',
      [
        ['1.2.2', false],
        ['1.2.3', false],
        ['1.2.4', false],
      ],
    ],
    [
      '>1.x',
      [
        ['0.1.9', false],
        ['1.2.6', false],
        ['1.9.0', false],
        ['2.0.0', true],
      ],
    ],
    [
      '>1.2.x',
      [
        ['1.1.9', false],
        ['1.2.6', false],
        ['1.3.0', true],
      ],
    ],
    [
      '>1.2.2 <1.2.4 || >=2.0.0',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
        ['2.0.0', true],
        ['2.0.1', true],
      ],
    ],
    [
      '1.x || >=2.0.x <2.2.x',
      [
        ['0.9.2', false],
        ['1.2.2', true],
        ['2.0.0', true],
        ['2.1.8', true],
        ['2.2.0', false],
      ],
    ],
    [
      '>1.2.2 <1.2.4 || >=2.0.0 <3.0.0',
      [
        ['1.2.2', false],
        ['1.2.3', true],
        ['1.2.4', false],
        ['2.0.0', true],
        ['2.0.1', true],
        ['2.9.9', true],
        ['3.0.0', false],
      ],
    ],
    // blang keeps a space after an operator inside the comparison
    [
      '>= 1.2.3',
      [
        ['1.2.3', true],
        ['1.2.2', false],
      ],
    ],
  ]
  it.each(cases)('%s', (range, rows) => {
    const r = parseSemverRange(range)
    expect(r).toBeDefined()
    for (const [version, expected] of rows) expect(r!(v(version)), version).toBe(expected)
  })

  it.each(['>>1.2.3', '1.0', 'string', '', 'fo.ob.ar.x', '|| 1.0.0', '1.0.0 ||', '1.2.3-x'])('refuses %j', (range) => {
    expect(parseSemverRange(range)).toBeUndefined()
  })
})
