/**
 * Kyverno attestation conditions: the predicate merged at the context root, AND over blocks, any/all with
 * Kyverno's short-circuits and messages, substitution failures failing closed with Kyverno's text, and the
 * engine-unit mock cases of test/vectors/kyverno/engine-unit-cases.json that are about conditions.
 */
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { CountersignError } from '../../../src/errors.js'
import {
  evaluateKyvernoConditions,
  kyvernoAttestationContext,
  kyvernoConditionsUseJMESPath,
} from '../../../src/policy/kyverno/conditions.js'
import { loadJMESPathEngine } from '../../../src/policy/kyverno/jmespath.js'
import type { KyvernoConditionBlock } from '../../../src/policy/kyverno/types.js'

beforeAll(async () => {
  await loadJMESPathEngine()
})

const provenance = {
  builder: {
    id: 'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/heads/main',
  },
  buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1',
  metadata: { buildFinishedOn: '2023-12-30T00:00:00Z' },
  materials: [{ uri: 'git+https://github.com/acme/app@refs/heads/main' }],
}
const ctx = kyvernoAttestationContext(provenance)
const NOW = new Date('2024-01-01T00:00:00Z')
const evaluate = (blocks: readonly KyvernoConditionBlock[], context: unknown = ctx) =>
  evaluateKyvernoConditions(blocks, context, { now: NOW })

describe('the attestation context', () => {
  it('merges the predicate at the root, over the other entries, objects key by key', () => {
    const extra = { image: { tag: 'v1', registry: 'ghcr.io' }, request: { operation: 'CREATE' } }
    const c = kyvernoAttestationContext({ image: { tag: 'predicate' }, builder: { id: 'b' } }, extra)
    expect(c).toEqual({
      image: { tag: 'predicate', registry: 'ghcr.io' },
      request: { operation: 'CREATE' },
      builder: { id: 'b' },
    })
    // The extra context is copied, not modified.
    expect(extra.image.tag).toBe('v1')
  })

  it('keeps a "__proto__" key of the predicate as data', () => {
    const predicate = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}')
    const c = kyvernoAttestationContext(predicate)
    expect(Object.hasOwn(c, '__proto__')).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })

  it('refuses a predicate that is not an object (Kyverno: failed to extract predicate)', () => {
    for (const bad of [null, 'text', [1], 3]) {
      expect(() => kyvernoAttestationContext(bad)).toThrow(CountersignError)
    }
    try {
      kyvernoAttestationContext('x')
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_INVALID_INPUT', details: { reason: 'predicate-not-object' } })
    }
  })
})

describe('blocks, any and all', () => {
  const yes = {
    key: '{{ buildType }}',
    operator: 'Equals',
    value: 'https://github.com/slsa-framework/*',
    message: 'yes',
  }
  const no = { key: '{{ builder.id }}', operator: 'Equals', value: 'nope', message: 'builder is not nope' }
  const no2 = { key: 'a', operator: 'Equals', value: 'b', message: 'a is not b' }

  it('passes with no conditions, and with blocks that have neither any nor all', () => {
    expect(evaluate([])).toEqual({ ok: true })
    expect(evaluate([{}, { any: [], all: [] }])).toEqual({ ok: true })
  })

  it('needs every all condition and reports the first false one', () => {
    expect(evaluate([{ all: [yes, yes] }])).toEqual({ ok: true })
    expect(evaluate([{ all: [yes, no, no2] }])).toEqual({ ok: false, message: 'builder is not nope' })
  })

  it('needs one any condition, joining the messages of the false ones with "; "', () => {
    expect(evaluate([{ any: [no, yes] }])).toEqual({ ok: true })
    expect(evaluate([{ any: [no, no2] }])).toEqual({ ok: false, message: 'builder is not nope; a is not b' })
  })

  it('requires both parts of a block; a false all also reports false any conditions met before a true one', () => {
    expect(evaluate([{ any: [yes], all: [yes] }])).toEqual({ ok: true })
    expect(evaluate([{ any: [no, yes], all: [no2] }])).toEqual({
      ok: false,
      message: 'builder is not nope; a is not b',
    })
  })

  it('ANDs the blocks and stops at the first false one', () => {
    const typo = { key: 'a', operator: 'Typo', value: 'a' }
    expect(evaluate([{ all: [no] }, { all: [typo] }])).toEqual({ ok: false, message: 'builder is not nope' })
    expect(evaluate([{ all: [yes] }, { any: [no2] }])).toEqual({ ok: false, message: 'a is not b' })
  })

  it('substitutes every block before evaluating any, as Kyverno does (a later missing key fails it all)', () => {
    const missing = { key: '{{ nowhere }}', operator: 'Equals', value: 'x' }
    const r = evaluate([{ all: [no] }, { all: [missing] }])
    expect(!r.ok && r.message).toMatch(/at path \/1\/all\/0\/key: JMESPath query failed: Unknown key "nowhere"/)
  })

  it('says which condition was false when it has no message', () => {
    const r = evaluate([{ all: [{ key: '{{ builder.id }}', operator: 'Equals', value: 'x' }] }])
    expect(r.ok).toBe(false)
    // The key is shown clipped to 120 characters.
    expect(!r.ok && r.message).toMatch(/^"https:\/\/github\.com\/slsa-framework\/.*… Equals "x" is false$/)
  })

  it('substitutes messages too', () => {
    const r = evaluate([{ all: [{ ...no, message: 'built by {{ builder.id }}' }] }])
    expect(!r.ok && r.message).toBe(`built by ${provenance.builder.id}`)
  })

  it('evaluates the forms common in verifyImages policies', () => {
    const blocks: KyvernoConditionBlock[] = [
      {
        all: [
          {
            key: "{{ regex_match('^https://github.com/slsa-framework/slsa-github-generator/', '{{ builder.id }}') }}",
            operator: 'Equals',
            value: true,
          },
          { key: "{{ time_since('', '{{ metadata.buildFinishedOn }}', '') }}", operator: 'LessThan', value: '168h' },
          {
            key: "{{ time_since('', '{{ metadata.buildFinishedOn }}', '') }}",
            operator: 'DurationLessThan',
            value: '1h',
          },
          { key: '{{ length(materials[?starts_with(uri, `"git+"`)]) }}', operator: 'GreaterThanOrEquals', value: 1 },
          { key: '{{ materials[].uri }}', operator: 'AnyIn', value: ['git+https://github.com/acme/*'] },
        ],
      },
    ]
    const r = evaluate(blocks)
    expect(r).toEqual({ ok: false, message: '"48h0m0s" DurationLessThan "1h" is false' })
    expect(evaluate([{ all: blocks[0]!.all!.filter((c) => c.operator !== 'DurationLessThan') }])).toEqual({ ok: true })
  })

  it('substitutes keys and values twice, as Kyverno does, so \\{{ does not escape in attestation conditions', () => {
    // First pass: \{{ … }} is left alone and unescaped; the condition's own pass then substitutes it.
    const escaped = { key: '\\{{ buildType }}', operator: 'Equals', value: provenance.buildType }
    expect(evaluate([{ all: [escaped] }])).toEqual({ ok: true })
  })

  it('matches operator names in any case, as Kyverno picks its handler', () => {
    expect(evaluate([{ all: [{ ...yes, operator: 'equals' }] }])).toEqual({ ok: true })
    // Kyverno compares the name as written in its ordering handlers: only the canonical spelling can be true.
    expect(evaluate([{ all: [{ key: 2, operator: 'greaterthan', value: 1, message: 'm' }] }])).toEqual({
      ok: false,
      message: 'm',
    })
  })
})

describe('failures fail closed, with Kyverno error texts', () => {
  it('fails on a missing key instead of reading null', () => {
    expect(evaluate([{ any: [{ key: '{{ predicate.builder.id }}', operator: 'Equals', value: 'x' }] }])).toEqual({
      ok: false,
      message:
        'failed to substitute variables in attestation conditions: failed to resolve predicate.builder.id at path ' +
        '/0/any/0/key: JMESPath query failed: Unknown key "predicate" in path',
      // An error, not a false condition: a `deny` block must deny on it too.
      error: true,
    })
    // The usual guard works.
    expect(evaluate([{ all: [{ key: "{{ predicate.builder.id || '' }}", operator: 'Equals', value: '' }] }])).toEqual({
      ok: true,
    })
  })

  it('fails on an unknown operator, an operator typed wrong, a value that is not JSON', () => {
    const unknown = evaluate([{ all: [{ key: 'a', operator: 'Matches', value: 'a' }] }])
    expect(unknown).toEqual({
      ok: false,
      message: 'failed to create handler for condition operator "Matches"',
      error: true,
    })
    const numeric = evaluate([{ all: [{ key: 'a', operator: '{{ `1` }}', value: 'a' }] }])
    expect(numeric.ok).toBe(false)
    expect(!numeric.ok && numeric.message).toMatch(/^failed to substitute variables in attestation conditions: /)
    const nan = evaluate([{ all: [{ key: "{{ to_number('nan') }}", operator: 'Equals', value: 1 }] }])
    expect(!nan.ok && nan.message).toMatch(/json: unsupported value: NaN/)
  })

  it('fails on In with a key list holding a non-string (Kyverno panics)', () => {
    const r = evaluate([{ all: [{ key: [1], operator: 'In', value: ['1'] }] }])
    expect(r).toMatchObject({ ok: false, error: true })
    // A condition that is merely false is not an error.
    expect(evaluate([{ all: [{ key: 'a', operator: 'Equals', value: 'b' }] }])).not.toHaveProperty('error')
  })

  it('fails on a function error', () => {
    const r = evaluate([{ all: [{ key: "{{ time_since('', 'yesterday', '') }}", operator: 'LessThan', value: '1h' }] }])
    expect(!r.ok && r.message).toMatch(/^failed to substitute variables in attestation conditions: .*parsing time/)
  })

  it('throws only when the JMESPath engine is missing, and only for conditions that need it', async () => {
    vi.resetModules()
    const fresh = await import('../../../src/policy/kyverno/conditions.js')
    const plain = [{ all: [{ key: 'a', operator: 'Equals', value: 'a' }] }]
    expect(fresh.kyvernoConditionsUseJMESPath(plain)).toBe(false)
    expect(fresh.evaluateKyvernoConditions(plain, {})).toEqual({ ok: true })
    const withVariable = [{ all: [{ key: '{{ a }}', operator: 'Equals', value: 'a' }] }]
    expect(fresh.kyvernoConditionsUseJMESPath(withVariable)).toBe(true)
    expect(() => fresh.evaluateKyvernoConditions(withVariable, { a: 'a' })).toThrow(
      expect.objectContaining({
        code: 'ERR_DEPENDENCY_MISSING',
        details: expect.objectContaining({ reason: 'not-loaded' }),
      }),
    )
  })

  it('looks for variables in keys, values, operators and messages', () => {
    expect(kyvernoConditionsUseJMESPath([{ any: [{ key: 'a', operator: 'Equals', value: ['{{ x }}'] }] }])).toBe(true)
    expect(
      kyvernoConditionsUseJMESPath([{ all: [{ key: 'a', operator: 'Equals', value: 'a', message: '{{ m }}' }] }]),
    ).toBe(true)
    expect(kyvernoConditionsUseJMESPath([])).toBe(false)
  })
})

// kyverno/kyverno@111e07bb pkg/engine/image_verify_test.go, extracted to test/vectors/kyverno/engine-unit-cases.json:
// the mock cases whose outcome depends on attestation conditions (cosign.SetMock returns the payloads as verified).
interface EngineVectors {
  attestationPayloadsDecodedStatements: { predicateType: string; predicate: unknown }[]
  policies: Record<string, unknown>
  cases: { test: string; mode: string; mockPayloads?: string; policy: string; expect: { status?: string } }[]
}
const engine: EngineVectors = JSON.parse(
  readFileSync(new URL('../../vectors/kyverno/engine-unit-cases.json', import.meta.url), 'utf8'),
)

interface PolicyAttestation {
  type?: string
  predicateType?: string
  conditions?: KyvernoConditionBlock[]
}

function attestationsOf(policy: unknown): PolicyAttestation[] {
  const rules = (policy as { spec: { rules: { verifyImages?: { attestations?: PolicyAttestation[] }[] }[] } }).spec
    .rules
  return rules.flatMap((r) => (r.verifyImages ?? []).flatMap((v) => v.attestations ?? []))
}

describe('engine-unit mock cases about conditions', () => {
  const conditionCases = engine.cases.filter(
    (c) =>
      c.mode === 'mock' && c.mockPayloads === 'attestationPayloads' && typeof engine.policies[c.policy] === 'object',
  )

  it('runs every mock case with attestation payloads (3 of the 18 cases)', () => {
    expect(conditionCases.map((c) => c.test)).toEqual([
      'Test_CosignMockAttest',
      'Test_CosignMockAttest_fail',
      'Test_MarkImageVerified',
    ])
  })

  it.each(conditionCases.map((c) => [c.test, c] as const))('%s', (_name, c) => {
    const statements = engine.attestationPayloadsDecodedStatements
    let verdict = 'pass'
    for (const attestation of attestationsOf(engine.policies[c.policy])) {
      const type = attestation.type ?? attestation.predicateType
      // Every statement of the requested type must satisfy the conditions; other types are ignored.
      const selected = statements.filter((s) => s.predicateType === type)
      expect(selected.length).toBeGreaterThan(0)
      for (const s of selected) {
        const r = evaluateKyvernoConditions(attestation.conditions ?? [], kyvernoAttestationContext(s.predicate))
        if (!r.ok) verdict = 'fail'
      }
    }
    expect(verdict).toBe(c.expect.status)
  })
})
