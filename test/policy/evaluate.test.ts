// The policy semantics table, on facts (what verification established), with policy-controller's e2e policies.
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadCELEngine } from '../../src/policy/cel.js'
import { type AuthorityFacts, evaluatePolicy, formatPolicyReason } from '../../src/policy/evaluate.js'
import { parsePolicies } from '../../src/policy/parse.js'
import type { ClusterImagePolicy } from '../../src/policy/types.js'

// CEL conditions are compiled synchronously here (parsePolicies, compileCELCondition): load the engine first,
// as users of the synchronous API must.
beforeAll(() => loadCELEngine())

const e2e = (f: string) =>
  parsePolicies(readFileSync(new URL(`../vectors/policy-controller/e2e/${f}`, import.meta.url), 'utf8')).policies[0]!

const IMG = 'registry.local:5000/demo/app:v1'
const SIG: AuthorityFacts = { signatures: [{ format: 'bundle', id: 'sha256:1', subject: 's', issuer: 'i' }] }
const NONE: AuthorityFacts = { failure: { check: 'signature', message: 'no signatures found' } }
const CUSTOM = 'https://cosign.sigstore.dev/attestation/v1'
const att = (predicate: unknown, predicateType = CUSTOM): AuthorityFacts => ({
  attestations: [
    {
      format: 'legacy',
      id: 'sha256:2',
      predicateType,
      statement: { _type: 'https://in-toto.io/Statement/v0.1', subject: [], predicateType, predicate },
    },
  ],
})

function cip(name: string, spec: Record<string, unknown>): ClusterImagePolicy {
  return parsePolicies({
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name },
    spec,
  }).policies[0]!
}

/** cip-keyless-with-attestations.yaml with its CUE condition written in CEL. */
function keylessWithAttestationsCEL(data: string): ClusterImagePolicy {
  return cip('keyless-att-cel', {
    images: [{ glob: '**demo**' }],
    authorities: [
      {
        name: 'attestation',
        keyless: { identities: [{ issuerRegExp: '.*', subjectRegExp: '.*' }] },
        attestations: [{ name: 'custom-match-predicate', predicateType: CUSTOM, policy: { type: 'cel', data } }],
      },
    ],
  })
}

describe('evaluatePolicy', () => {
  it('static pass and fail (cip-static-pass.yaml, cip-static-fail.yaml)', () => {
    expect(evaluatePolicy(IMG, [e2e('cip-static-pass.yaml')], {}).allowed).toBe(true)
    const d = evaluatePolicy(IMG, [e2e('cip-static-fail.yaml')], {})
    expect(d.allowed).toBe(false)
    expect(d.reasons).toEqual([
      {
        image: IMG,
        policy: 'image-policy-static-fail',
        authority: 'authority-0',
        check: 'static',
        message: 'disallowed by static policy:',
      },
    ])
  })

  it('key authority: signed passes, unsigned fails (cip-key.yaml)', () => {
    const p = e2e('cip-key.yaml')
    expect(evaluatePolicy(IMG, [p], { [p.name]: [SIG] })).toMatchObject({ allowed: true, matched: [p.name] })
    const d = evaluatePolicy(IMG, [p], { [p.name]: [NONE] })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]).toMatchObject({ policy: p.name, check: 'signature', message: 'no signatures found' })
    // Unverified means denied: no facts fail closed.
    expect(evaluatePolicy(IMG, [p], {}).reasons[0]!.message).toBe('authority was not verified')
  })

  it('authorities are OR: one passing authority is enough (cip-key-and-keyless.yaml)', () => {
    const p = e2e('cip-key-and-keyless.yaml')
    expect(p.authorities).toHaveLength(2)
    expect(evaluatePolicy(IMG, [p], { [p.name]: [NONE, SIG] }).allowed).toBe(true)
    expect(evaluatePolicy(IMG, [p], { [p.name]: [SIG, NONE] }).allowed).toBe(true)
    const d = evaluatePolicy(IMG, [p], { [p.name]: [NONE, { failure: { check: 'identity', message: 'no match' } }] })
    expect(d.allowed).toBe(false)
    // Every authority's reason, not just the first.
    expect(d.reasons.map((r) => [r.authority, r.check])).toEqual([
      ['authority-0', 'signature'],
      ['authority-1', 'identity'],
    ])
  })

  it('every matching policy must pass', () => {
    const a = e2e('cip-static-pass.yaml')
    const b = e2e('cip-key.yaml')
    const other = cip('other', { images: [{ glob: 'ghcr.io/**' }], authorities: [{ static: { action: 'fail' } }] })
    const d = evaluatePolicy(IMG, [a, b, other], { [b.name]: [NONE] })
    expect(d.matched).toEqual([a.name, b.name])
    expect(d.allowed).toBe(false)
    expect(d.policies.map((p) => [p.name, p.passed])).toEqual([
      [a.name, true],
      [b.name, false],
    ])
    expect(evaluatePolicy(IMG, [a, b, other], { [b.name]: [SIG] }).allowed).toBe(true)
  })

  it('warn mode turns a failure into warnings (cip-keyless-warn.yaml)', () => {
    const p = e2e('cip-keyless-warn.yaml')
    const d = evaluatePolicy(IMG, [p], { [p.name]: [NONE] })
    expect(d).toMatchObject({ allowed: true, reasons: [] })
    expect(d.warnings[0]).toMatchObject({ policy: p.name, check: 'signature' })
    expect(d.policies[0]).toMatchObject({ passed: false, mode: 'warn' })
    // Warn plus an enforcing failure: denied, with both lists filled.
    const both = evaluatePolicy(IMG, [p, e2e('cip-static-fail.yaml')], { [p.name]: [NONE] })
    expect(both.allowed).toBe(false)
    expect([both.reasons.length, both.warnings.length]).toEqual([1, 1])
  })

  it('no-match policy: deny (default), allow, warn', () => {
    const p = e2e('cip-key.yaml')
    const img = 'ghcr.io/acme/other:v1'
    expect(evaluatePolicy(img, [p], {})).toMatchObject({
      allowed: false,
      matched: [],
      reasons: [{ check: 'match', message: 'no matching policies' }],
    })
    expect(evaluatePolicy(img, [p], {}, { noMatchPolicy: 'allow' })).toMatchObject({ allowed: true, warnings: [] })
    expect(evaluatePolicy(img, [p], {}, { noMatchPolicy: 'warn' })).toMatchObject({
      allowed: true,
      warnings: [{ check: 'match' }],
    })
  })

  it('attestation conditions in CEL: true passes, false fails with the reason', () => {
    const p = keylessWithAttestationsCEL('predicate.Data == "foobar e2e test"')
    expect(evaluatePolicy(IMG, [p], { [p.name]: [att({ Data: 'foobar e2e test' })] })).toMatchObject({
      allowed: true,
      policies: [{ authorities: [{ passed: true, attestations: { 'custom-match-predicate': 1 } }] }],
    })
    const d = evaluatePolicy(IMG, [p], { [p.name]: [att({ Data: 'something else' })] })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]).toMatchObject({ check: 'condition' })
    expect(d.reasons[0]!.message).toMatch(/evaluated to false/)
    // A field the predicate lacks is a CEL error: the condition fails, it does not throw.
    const missing = evaluatePolicy(IMG, [p], { [p.name]: [att({ Other: 1 })] })
    expect(missing.reasons[0]!.message).toMatch(/CEL evaluation failed/)
  })

  it('attestations: wrong predicate type, short names, and every listed attestation required', () => {
    const p = cip('two', {
      images: [{ glob: '**' }],
      authorities: [
        {
          keyless: { identities: [{ issuer: 'i', subject: 's' }] },
          attestations: [
            { name: 'custom', predicateType: 'custom' },
            {
              name: 'vuln',
              predicateType: 'https://cosign.sigstore.dev/attestation/vuln/v1',
              policy: { type: 'cel', data: 'predicate.scanner.uri.endsWith("cosign-testing")' },
            },
          ],
        },
      ],
    })
    const only = evaluatePolicy(IMG, [p], { two: [att({ Data: 'x' })] })
    expect(only.allowed).toBe(false)
    expect(only.reasons).toHaveLength(1)
    expect(only.reasons[0]!.message).toMatch(/attestation vuln: no matching attestations with type/)
    const vuln = att(
      { scanner: { uri: 'fakescanner.example.com/cosign-testing' } },
      'https://cosign.sigstore.dev/attestation/vuln/v1',
    )
    const both: AuthorityFacts = { attestations: [...att({ Data: 'x' }).attestations!, ...vuln.attestations!] }
    expect(evaluatePolicy(IMG, [p], { two: [both] }).allowed).toBe(true)
  })

  it('CUE and Rego conditions fail closed with a clear reason (cip-key-with-attestations.yaml)', () => {
    const p = e2e('cip-key-with-attestations.yaml')
    const d = evaluatePolicy(IMG, [p], { [p.name]: [att({ Data: 'foobar key e2e test' })] })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]).toMatchObject({ check: 'unsupported' })
    expect(d.reasons[0]!.message).toMatch(/cue policies are not evaluated by countersign/)
  })

  it('CIP-level CEL condition over authorityMatches (cip-requires-two-signatures-and-two-attestations.yaml in CEL)', () => {
    const p = cip('two-sigs', {
      images: [{ glob: '**demo**' }],
      authorities: [
        { name: 'keylesssignature', keyless: { identities: [{ issuer: 'i', subject: 's' }] } },
        { name: 'keysignature', key: { data: e2e('cip-key.yaml').authorities[0]!.key!.data } },
      ],
      policy: {
        type: 'cel',
        data: 'size(authorityMatches.keylesssignature.signatures) == 1 && size(authorityMatches.keysignature.signatures) == 1',
      },
    })
    expect(evaluatePolicy(IMG, [p], { 'two-sigs': [SIG, SIG] }).allowed).toBe(true)
    const d = evaluatePolicy(IMG, [p], { 'two-sigs': [SIG, NONE] })
    expect(d.allowed).toBe(false)
    expect(d.reasons).toEqual([expect.objectContaining({ policy: 'two-sigs', check: 'policy' })])
  })

  it('formats reasons as one line; an unparsable image is denied with a reason', () => {
    const p = e2e('cip-static-fail.yaml')
    expect(formatPolicyReason(evaluatePolicy(IMG, [p], {}).reasons[0]!)).toBe(
      `${IMG}: policy image-policy-static-fail, authority authority-0: static: disallowed by static policy:`,
    )
    expect(evaluatePolicy('UPPER/Case::', [p], {})).toMatchObject({ allowed: false, reasons: [{ check: 'error' }] })
  })

  it('notes from verification become warnings', () => {
    const p = e2e('cip-key.yaml')
    const d = evaluatePolicy(IMG, [p], { [p.name]: [{ ...SIG, notes: ['source.signaturePullSecrets ignored'] }] })
    expect(d).toMatchObject({ allowed: true, warnings: [{ check: 'unsupported', authority: 'authority-0' }] })
  })
})
