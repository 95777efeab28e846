// Issue 14: YAML that is shallow but costly. Alias resolution in the yaml package scans every anchor and alias before
// the one it resolves, so 100 KB of `&a x` / `*a` pairs took 1.3 s and 400 KB 17 s; anchors and aliases are now
// counted while lexing and refused past 1,000. Plain shallow YAML still parses at about 2 s per hostile MiB, so the
// webhook reads policies with parsePoliciesAsync, which hands the event loop back while it parses.
import { describe, expect, it } from 'vitest'
import { CountersignError } from '../../src/errors.js'
import { parsePolicies, parsePoliciesAsync } from '../../src/policy/parse.js'
import { MAX_YAML_ANCHORS, parseYAMLDocumentsBounded } from '../../src/policy/yaml-nesting.js'

const POLICY = `apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: p
spec:
  images:
    - glob: &registry "registry.example/**"
  authorities:
    - name: a
      static: { action: pass }
`

function anchorPairs(pairs: number): string {
  return `${POLICY}---\n${'- &a x\n- *a\n'.repeat(pairs)}`
}

describe('YAML anchors and aliases are bounded (quadratic alias resolution)', () => {
  it('refuses more than MAX_YAML_ANCHORS with a coded error, at once', () => {
    // 400 KB: 17 s before the bound.
    const text = anchorPairs(400_000 / 12)
    const start = performance.now()
    let error: unknown
    try {
      parsePolicies(text, { source: 'p.yaml' })
    } catch (e) {
      error = e
    }
    const ms = performance.now() - start
    expect(error).toBeInstanceOf(CountersignError)
    expect((error as CountersignError).code).toBe('ERR_INVALID_INPUT')
    expect((error as CountersignError).details).toEqual({ reason: 'too-large' })
    expect((error as CountersignError).message).toContain(`more than ${MAX_YAML_ANCHORS} YAML anchors and aliases`)
    expect(ms).toBeLessThan(1000)
  })

  it('counts anchors and aliases, not scalars or block text that start with & or *', () => {
    const block = `${POLICY}    - name: b\n      static: { action: pass }\n`
    const lines = Array.from({ length: MAX_YAML_ANCHORS + 10 }, (_, i) => `  *not-an-alias-${i} &nor-anchor`)
    const text = `${block}---\ntext: |\n${lines.join('\n')}\nquoted: ["*x", '&y']\n`
    const docs = parseYAMLDocumentsBounded(text, 64)
    expect(docs).toBeInstanceOf(Array)
    // anchorPairs(n) holds 2n + 1 anchors and aliases (the policy has one anchor).
    expect(parseYAMLDocumentsBounded(anchorPairs(MAX_YAML_ANCHORS / 2 - 1), 64)).toBeInstanceOf(Array)
    expect(parseYAMLDocumentsBounded(anchorPairs(MAX_YAML_ANCHORS / 2), 64)).toBe('too-many-anchors')
  })

  it('still reads a policy that uses an anchor and an alias', () => {
    const text = POLICY.replace('    - glob: &registry', '    - glob: *registry\n    - glob: &registry').replace(
      '  images:\n    - glob: *registry\n    - glob: &registry "registry.example/**"',
      '  images:\n    - glob: &registry "registry.example/**"\n    - glob: *registry',
    )
    const { policies } = parsePolicies(text)
    expect(policies[0]?.images.map((i) => i.glob)).toEqual(['registry.example/**', 'registry.example/**'])
  })
})

describe('parsePoliciesAsync', () => {
  it('returns what parsePolicies returns, and throws what it throws', async () => {
    expect(await parsePoliciesAsync(POLICY)).toEqual(parsePolicies(POLICY))
    const bad = `${POLICY}---\nkind: Other\n`
    const syncError = (() => {
      try {
        parsePolicies(bad, { source: 'b.yaml' })
      } catch (e) {
        return e as CountersignError
      }
    })()
    await expect(parsePoliciesAsync(bad, { source: 'b.yaml' })).rejects.toMatchObject({
      code: syncError?.code,
      message: syncError?.message,
    })
  })

  it('lets timers run while it parses a large shallow policy', async () => {
    // 200 KB of shallow, invalid YAML: about a second of parsing (a ConfigMap holds up to 1 MiB).
    const text = `${POLICY}---\n${'a:\n\t- b\n'.repeat(25_000)}`
    let ticks = 0
    let longestGap = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      longestGap = Math.max(longestGap, now - last)
      last = now
      ticks++
    }, 1)
    const start = performance.now()
    try {
      await expect(parsePoliciesAsync(text)).rejects.toBeInstanceOf(CountersignError)
    } finally {
      clearInterval(timer)
    }
    const total = performance.now() - start
    // The event loop was handed back throughout: many timer turns, and no gap near the parse's own length.
    expect(ticks).toBeGreaterThan(10)
    expect(longestGap).toBeLessThan(Math.max(250, total / 4))
  })
})
