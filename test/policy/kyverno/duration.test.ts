/** Go's time.ParseDuration and Duration.String(), as Kyverno's operators and functions use them. */
import { describe, expect, it } from 'vitest'
import {
  formatGoDuration,
  goDurationFromSeconds,
  goDurationSeconds,
  INT64_MIN,
  parseGoDuration,
} from '../../../src/policy/kyverno/duration.js'

describe('parseGoDuration', () => {
  it.each([
    ['1h30m', 5_400_000_000_000n],
    ['1.5h', 5_400_000_000_000n],
    ['-1.5s', -1_500_000_000n],
    ['+2m', 120_000_000_000n],
    ['.5s', 500_000_000n],
    ['1.s', 1_000_000_000n],
    ['0', 0n],
    ['-0', 0n],
    ['1us', 1000n],
    ['1µs', 1000n],
    ['1μs', 1000n],
    ['100ns', 100n],
    ['1h1m1s1ms1us1ns', 3_661_001_001_001n],
    ['9223372036854775807ns', 9223372036854775807n],
    ['-9223372036854775808ns', -9223372036854775808n],
    ['0.1s', 100_000_000n],
    ['1.0000000001s', 1_000_000_000n],
  ])('%s', (text, ns) => {
    expect(parseGoDuration(text)).toBe(ns)
  })

  it.each(['', '1', '1d', 'h', '.s', '-', '1h1', ' 1h', '1h ', '9223372036854775808ns', '2562048h', '1e3s', '0x1s'])(
    'refuses %j as Go does',
    (text) => {
      expect(parseGoDuration(text)).toBeUndefined()
    },
  )
})

describe('formatGoDuration', () => {
  it.each([
    [0n, '0s'],
    [1n, '1ns'],
    [1500n, '1.5µs'],
    [1_500_000n, '1.5ms'],
    [1_500_000_000n, '1.5s'],
    [3_600_000_000_000n, '1h0m0s'],
    [648_600_000_000_000n, '180h10m0s'],
    [90_061_000_000_001n, '25h1m1.000000001s'],
    [-1n, '-1ns'],
    [INT64_MIN, '-2562047h47m16.854775808s'],
  ])('%s ns → %s', (ns, text) => {
    expect(formatGoDuration(ns)).toBe(text)
  })
})

describe('seconds as Kyverno converts them', () => {
  it('truncates a fractional number of seconds before multiplying (Go: time.Duration(f) * time.Second)', () => {
    expect(goDurationFromSeconds(1.9)).toBe(1_000_000_000n)
    expect(goDurationFromSeconds(-1.9)).toBe(-1_000_000_000n)
  })

  it('wraps on overflow as Go int64 arithmetic does', () => {
    expect(goDurationFromSeconds(1e10)).toBe(BigInt.asIntN(64, 10_000_000_000n * 1_000_000_000n))
  })

  it('compares seconds as floats (Duration.Seconds)', () => {
    expect(goDurationSeconds(1_500_000_000n)).toBe(1.5)
  })
})
