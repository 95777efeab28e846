import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { matchKyvernoWildcard } from '../../../src/policy/kyverno/wildcard.js'

// kyverno/kyverno@111e07bb ext/wildcard/match_test.go TestMatch (pattern, input) and utils_test.go TestCheckPatterns
// (patterns, input: any pattern matching is a match); see test/vectors/kyverno/PROVENANCE.md.
interface WildcardCase {
  readonly name?: string
  readonly pattern?: string
  readonly patterns?: readonly string[]
  readonly input: string
  readonly match: boolean
  readonly mode?: string
}
const cases: readonly WildcardCase[] = JSON.parse(
  readFileSync(new URL('../../vectors/kyverno/wildcard-cases.json', import.meta.url), 'utf8'),
)
const single = cases.filter((c) => c.pattern !== undefined)
const anyOf = cases.filter((c) => c.patterns !== undefined)

describe('Kyverno wildcard (go-wildcard v1.0.3) upstream cases', () => {
  it('has the whole upstream tables', () => {
    expect(single).toHaveLength(52)
    expect(anyOf).toHaveLength(6)
    expect(anyOf.every((c) => c.mode === 'any-of-patterns')).toBe(true)
  })

  it.each(single.map((c) => [`${c.name}: ${JSON.stringify(c.pattern)} ~ ${JSON.stringify(c.input)}`, c] as const))(
    '%s',
    (_n, c) => {
      expect(matchKyvernoWildcard(c.pattern!, c.input)).toBe(c.match)
    },
  )

  it.each(anyOf.map((c) => [`CheckPatterns(${JSON.stringify(c.patterns)}, ${JSON.stringify(c.input)})`, c] as const))(
    '%s',
    (_n, c) => {
      expect(c.patterns!.some((p) => matchKyvernoWildcard(p, c.input))).toBe(c.match)
    },
  )
})

describe('Kyverno wildcard on image references', () => {
  it('spans / and : with *, and ? is exactly one character', () => {
    expect(
      matchKyvernoWildcard('ghcr.io/kyverno/test-verify-image:*', 'ghcr.io/kyverno/test-verify-image:signed'),
    ).toBe(true)
    expect(matchKyvernoWildcard('ghcr.io/*', 'ghcr.io/kyverno/zulu@sha256:476b')).toBe(true)
    expect(matchKyvernoWildcard('ghcr.io/acme/app:v?', 'ghcr.io/acme/app:v10')).toBe(false)
    expect(matchKyvernoWildcard('ghcr.io/acme/app:v??', 'ghcr.io/acme/app:v10')).toBe(true)
    // Anchored and case-sensitive; no escapes or classes.
    expect(matchKyvernoWildcard('ghcr.io/acme', 'ghcr.io/acme/app')).toBe(false)
    expect(matchKyvernoWildcard('GHCR.io/*', 'ghcr.io/acme/app')).toBe(false)
    expect(matchKyvernoWildcard('[a]', 'a')).toBe(false)
    expect(matchKyvernoWildcard('[a]', '[a]')).toBe(true)
  })

  it('counts ? in characters (code points), not UTF-16 units', () => {
    expect(matchKyvernoWildcard('a?b', 'a😀b')).toBe(true)
    expect(matchKyvernoWildcard('a??b', 'a😀b')).toBe(false)
  })
})

describe('Kyverno wildcard on hostile input', () => {
  it('returns on a 10k-character pathological pattern against a 10k-character text', () => {
    const pattern = `${'*a'.repeat(5000)}b`
    expect(pattern.length).toBe(10_001)
    expect(matchKyvernoWildcard(pattern, 'a'.repeat(10_000))).toBe(false)
    expect(matchKyvernoWildcard(pattern, `${'a'.repeat(10_000)}b`)).toBe(true)
  })

  it('returns on many ? and * against a long text', () => {
    const pattern = `${'?*'.repeat(5000)}x`
    expect(matchKyvernoWildcard(pattern, 'y'.repeat(10_000))).toBe(false)
    expect(matchKyvernoWildcard('*'.repeat(10_000), 'z'.repeat(10_000))).toBe(true)
  })
})
