// Issue 14: image references are bounded before any glob sees them. The reproductions of the issue as Pod images:
// refused at once with a coded error, denied by the evaluator whatever noMatchPolicy says, and denied by the
// webhook (fail closed, in warn mode too). References just under the bound are matched quickly and correctly.
import { describe, expect, it } from 'vitest'
import { createAdmissionHandler } from '../../src/admission/handler.js'
import type { OCIStore } from '../../src/oci/types.js'
import { evaluatePolicy } from '../../src/policy/evaluate.js'
import { matchImageGlob } from '../../src/policy/glob.js'
import { createPolicyImageCheck } from '../../src/policy/image-check.js'
import { parsePolicies } from '../../src/policy/parse.js'
import { verifyImageAgainstPolicies } from '../../src/policy/verify-policies.js'
import { loadReview, mapImages } from '../admission/fixtures.js'

const LIMIT = 4096

/** A store that must never be reached: every reference here is refused before any registry access. */
const store = new Proxy({} as OCIStore, {
  get(_t, key) {
    throw new Error(`the store must not be used (${String(key)})`)
  },
})

function timed<T>(f: () => T): { value: T; ms: number } {
  const start = performance.now()
  const value = f()
  return { value, ms: performance.now() - start }
}

const tooLong = expect.objectContaining({
  code: 'ERR_OCI_REFERENCE_INVALID',
  details: expect.objectContaining({ reason: 'too-long', limit: LIMIT }),
})

// The families as images of 100,000+ characters, shaped so that they would parse but for their length (a
// long registry host), as the attacker would write them.
const ATTACKS = [
  ['*.dkr.ecr.*.amazonaws.com/**', `${'x.dkr.ecr.'.repeat(100_000)}x/app`],
  ['**a**a**a**b', `${'a'.repeat(100_000)}.io/x:v1`],
  ['*.*.*.*.*.io/**', `${'a.'.repeat(50_000)}a/app`],
  ['*-*-*-*-*-*-*-*', `a${'-'.repeat(100_000)}a.io/x`],
] as const

const policiesFor = (glob: string) =>
  parsePolicies(`apiVersion: policy.sigstore.dev/v1beta1
kind: ClusterImagePolicy
metadata:
  name: anything-goes
spec:
  images:
    - glob: "${glob}"
    - glob: "**"
  authorities:
    - static:
        action: pass
`).policies

describe('references over 4096 characters are refused before matching', () => {
  it.each(ATTACKS)('%s: refused with ERR_OCI_REFERENCE_INVALID in well under a second', (glob, image) => {
    const { ms } = timed(() => expect(() => matchImageGlob(glob, image)).toThrow(tooLong))
    expect(ms).toBeLessThan(1000)
  })

  it('the evaluator denies, naming the reason, even with noMatchPolicy allow', () => {
    const [glob, image] = ATTACKS[2]
    for (const noMatchPolicy of ['allow', 'warn', 'deny'] as const) {
      const d = evaluatePolicy(image, policiesFor(glob), {}, { noMatchPolicy })
      expect(d.allowed).toBe(false)
      expect(d.matched).toEqual([])
      expect(d.reasons).toHaveLength(1)
      expect(d.reasons[0]).toMatchObject({ check: 'error' })
      expect(d.reasons[0]!.message).toMatch(/^reference is 100005 characters long; at most 4096 are accepted: "a\.a/)
      expect(d.reasons[0]!.message.length).toBeLessThan(400)
    }
  })

  it('verifyImageAgainstPolicies denies without touching the registry', async () => {
    for (const [glob, image] of ATTACKS) {
      const d = await verifyImageAgainstPolicies(image, policiesFor(glob), { store, noMatchPolicy: 'allow' })
      expect(d.allowed).toBe(false)
      expect(d.reasons[0]?.message).toContain('at most 4096 are accepted')
    }
  })

  it.each(['enforce', 'warn'] as const)('the webhook denies such a Pod (%s mode), naming the reason', async (mode) => {
    const [glob, image] = ATTACKS[0]
    const check = createPolicyImageCheck(policiesFor(glob), { store })
    const review = mapImages(loadReview('pod-create'), (i) => (i.includes('/web:') ? image : i))
    const out = await createAdmissionHandler({ check, mode })(review)
    expect(out.status).toBe(200)
    expect(out.decision).not.toBe('allowed')
    const response = (out.body as { response: { allowed: boolean; status?: { message?: string } } }).response
    expect(response.allowed).toBe(false)
    // The workload reader may refuse the image first (it has a tighter bound of its own); either way the length is
    // the reason given.
    expect(response.status?.message).toMatch(/image is longer than \d+ characters|at most 4096 are accepted/)
  })

  it('the policy image check rejects (so the webhook fails closed, whatever its mode)', async () => {
    const [glob, image] = ATTACKS[1]
    const check = createPolicyImageCheck(policiesFor(glob), { store })
    await expect(check(image, {})).rejects.toThrow(tooLong)
    await expect(check(`${'a'.repeat(LIMIT)}.io/x`, { namespace: 'default' })).rejects.toThrow(tooLong)
  })
})

describe('references just under the bound are matched in linear time', () => {
  // Longest valid shapes of each family (registry host carrying the load); verdicts worked out by hand.
  const cases = [
    ['*.dkr.ecr.*.amazonaws.com/**', `${'x.dkr.ecr.'.repeat(408)}x/app`, false],
    ['*.dkr.ecr.*.amazonaws.com/**', `${'x.dkr.ecr.'.repeat(406)}x.dkr.ecr.eu.amazonaws.com/app`, true],
    ['**a**a**a**b', `${'a'.repeat(4080)}.io/x:v1`, false],
    ['**a**a**a**b', `${'a'.repeat(4080)}.io/x:b`, true],
    ['*.*.*.*.*.io/**', `${'a.'.repeat(2040)}a/app`, false],
    ['*.*.*.*.*.io/**', `${'a.'.repeat(2040)}io/app`, true],
    ['*-*-*-*-*-*-*-*', `a${'-'.repeat(4080)}a.io/x`, false],
  ] as const

  it.each(cases)('%s against %#', (glob, image, want) => {
    expect(image.length).toBeLessThanOrEqual(LIMIT)
    const { value, ms } = timed(() => matchImageGlob(glob, image))
    expect(value).toBe(want)
    expect(ms).toBeLessThan(1000)
  })

  it('a reference of exactly 4096 characters is accepted, one more is refused', () => {
    const at = `${'a'.repeat(LIMIT - 7)}.io/x:v`
    expect(at).toHaveLength(LIMIT)
    expect(matchImageGlob('**', at)).toBe(true)
    expect(() => matchImageGlob('**', `${at}1`)).toThrow(tooLong)
  })
})
