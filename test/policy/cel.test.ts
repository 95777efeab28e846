import { beforeAll, describe, expect, it } from 'vitest'
import { createPolicyCache } from '../../src/policy/cache.js'
import { compileCELCondition, loadCELEngine } from '../../src/policy/cel.js'
import type { PolicyDecision } from '../../src/policy/types.js'

// CEL conditions are compiled synchronously here (parsePolicies, compileCELCondition): load the engine first,
// as users of the synchronous API must.
beforeAll(() => loadCELEngine())

const predicate = {
  builder: { id: 'https://github.com/actions/runner' },
  materials: [{ uri: 'git+https://github.com/acme/app', digest: { sha1: 'abc' } }],
  metadata: { scanStartedOn: '2022-04-01T00:00:00Z' },
  count: 3,
}

describe('CEL conditions over decoded JSON predicates', () => {
  it.each([
    ['predicate.builder.id == "https://github.com/actions/runner"', true],
    ['predicate.materials.exists(m, m.uri.startsWith("git+https://github.com/acme/"))', true],
    ['predicate.materials.all(m, has(m.digest.sha1))', true],
    ['predicate.count >= 3 && predicate.count < 4', true],
    ['timestamp(predicate.metadata.scanStartedOn) < timestamp("2022-04-15T17:10:27Z")', true],
    ['predicate.builder.id.matches("^https://github\\\\.com/")', true],
    ['has(predicate.invocation)', false],
    ['predicateType == "https://slsa.dev/provenance/v0.2"', true],
    ['size(subject) == 0', true],
  ])('%s → %s', (expr, want) => {
    const r = compileCELCondition(expr).evaluate({
      predicate,
      predicateType: 'https://slsa.dev/provenance/v0.2',
      subject: [],
    })
    expect(r.ok).toBe(want)
  })

  it('errors and non-bool results fail the condition instead of throwing', () => {
    const missing = compileCELCondition('predicate.nope == 1').evaluate({ predicate })
    expect(missing).toMatchObject({ ok: false })
    expect((missing as { message: string }).message).toMatch(/CEL evaluation failed/)
    expect(compileCELCondition('predicate.count').evaluate({ predicate })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/not a bool/),
    })
    expect(compileCELCondition('1 / 0 == 1').evaluate({})).toMatchObject({ ok: false })
  })

  it('refuses unparsable, empty and oversized expressions', () => {
    for (const bad of ['predicate.x ==', '', '   ', `a == "${'x'.repeat(20_000)}"`]) {
      expect(() => compileCELCondition(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    }
  })
})

describe('createPolicyCache', () => {
  const d = (image: string) => ({ image, allowed: true }) as unknown as PolicyDecision
  it('expires entries at the TTL and evicts the oldest past maxEntries', () => {
    let now = 0
    const cache = createPolicyCache({ ttlMs: 100, maxEntries: 2, now: () => now })
    cache.set('a', d('a'))
    now = 99
    expect(cache.get('a')?.image).toBe('a')
    now = 100
    expect(cache.get('a')).toBeUndefined()
    cache.set('a', d('a'))
    cache.set('b', d('b'))
    cache.set('c', d('c'))
    expect([cache.get('a'), cache.get('b')?.image, cache.get('c')?.image]).toEqual([undefined, 'b', 'c'])
    expect(cache.size).toBe(2)
    cache.clear()
    expect(cache.size).toBe(0)
    expect(() => createPolicyCache({ ttlMs: -1 })).toThrow(RangeError)
  })
})
