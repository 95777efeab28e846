import { readdirSync, readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { loadCELEngine } from '../../src/policy/cel.js'
import { parsePolicies } from '../../src/policy/parse.js'

// CEL conditions are compiled synchronously here (parsePolicies, compileCELCondition): load the engine first,
// as users of the synchronous API must.
beforeAll(() => loadCELEngine())

const V = new URL('../vectors/policy-controller/', import.meta.url)
const read = (dir: string, f: string) => readFileSync(new URL(`${dir}/${f}`, V), 'utf8')
const files = (dir: string) => readdirSync(new URL(dir, V)).filter((f) => f.endsWith('.yaml'))

const KEY = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIcbqK2RAVZOfPzo+kbOhNYq8DK9f
B2BGbU7jAXEvYthJ3vRcYq8l7g9UAXXiz9P2awFuTa4COcZU2IdEDVU0uA==
-----END PUBLIC KEY-----`

function cip(spec: Record<string, unknown>, name = 'p') {
  return { apiVersion: 'policy.sigstore.dev/v1beta1', kind: 'ClusterImagePolicy', metadata: { name }, spec }
}

function errorsOf(input: unknown): { policy: string; field: string; message: string }[] {
  try {
    parsePolicies(input)
  } catch (e) {
    expect(e).toMatchObject({ code: 'ERR_INVALID_INPUT' })
    return (e as { details: { errors: { policy: string; field: string; message: string }[] } }).details.errors
  }
  throw new Error('expected an error')
}

describe('parsePolicies: policy-controller test data', () => {
  it.each(files('valid'))('valid/%s parses', (f) => {
    const { policies } = parsePolicies(read('valid', f), { source: f })
    expect(policies).toHaveLength(1)
  })

  it.each(files('invalid'))('invalid/%s is rejected with ERR_INVALID_INPUT naming the policy and field', (f) => {
    const errors = errorsOf(read('invalid', f))
    expect(errors.length).toBeGreaterThan(0)
    for (const e of errors) {
      expect(e.policy).not.toBe('')
      expect(e.field).toMatch(/^(spec|metadata)/)
    }
  })

  it.each(files('e2e'))('e2e/%s parses', (f) => {
    expect(parsePolicies(read('e2e', f)).policies).toHaveLength(1)
  })

  it.each(files('examples').filter((f) => f !== 'signed-by-aws-kms-key.yaml'))('examples/%s parses', (f) => {
    expect(parsePolicies(read('examples', f)).policies).toHaveLength(1)
  })

  it('examples/signed-by-aws-kms-key.yaml is a template (<< region >> placeholders) and is rejected', () => {
    expect(errorsOf(read('examples', 'signed-by-aws-kms-key.yaml'))[0]!.field).toBe('spec.authorities[0].key.kms')
  })

  it('reports the upstream error for each invalid shape', () => {
    const cases: [string, string, RegExp][] = [
      ['invalid-authority.yaml', 'spec.authorities[0]', /got neither: key, keyless, static/],
      ['valid-keyref-and-keylessref.yaml', 'spec.authorities[0]', /got both: key, keyless, static/],
      ['invalid-glob.yaml', 'spec.images[0].glob', /glob is invalid/],
      ['missing-identity.yaml', 'spec.authorities[0].keyless.identities', /missing/],
      ['missing-issuer.yaml', 'spec.authorities[0].keyless.identities[0]', /issuer, issuerRegExp/],
      ['missing-subject.yaml', 'spec.authorities[0].keyless.identities[0]', /subject, subjectRegExp/],
      ['keylessref-with-multiple-properties.yaml', 'spec.authorities[0].keyless', /got both: url, ca-cert/],
      ['keyref-with-multiple-properties.yaml', 'spec.authorities[0].key', /got both: data, kms, secretref/],
      ['v1beta1-invalid-hash-algo.yaml', 'spec.authorities[0].key.hashAlgorithm', /shaINVALID/],
      ['v1beta1-invalid-match-resource.yaml', 'spec.match[0].resource', /unsupported resource name/],
      ['invalid-mode.yaml', 'spec.mode', /unsupported mode/],
      ['invalid-pubkey.yaml', 'spec.authorities[0].key.data', /invalid value/],
      ['keylessref-with-empty-authorities.yaml', 'spec.authorities', /missing/],
    ]
    for (const [file, field, message] of cases) {
      const errors = errorsOf(read('invalid', file))
      expect(
        errors.some((e) => e.field === field && message.test(e.message)),
        `${file}: ${JSON.stringify(errors)}`,
      ).toBe(true)
    }
    // Every bad AWS KMS reference of the file is reported, not just the first.
    expect(errorsOf(read('invalid', 'invalid-keyref-awskms.yaml')).map((e) => e.field)).toEqual([
      'spec.authorities[0].key.kms',
      'spec.authorities[1].key.kms',
      'spec.authorities[2].key.kms',
      'spec.authorities[3].key.kms',
    ])
  })
})

describe('parsePolicies: defaults and forms', () => {
  it('applies policy-controller defaults: enforce, authority-<i>, public Fulcio, sha256', () => {
    const { policies } = parsePolicies(
      cip({
        images: [{ glob: '**' }],
        authorities: [{ key: { data: KEY } }, { keyless: { identities: [{ issuer: 'i', subject: 's' }] } }],
      }),
    )
    const p = policies[0]!
    expect(p.mode).toBe('enforce')
    expect(p.authorities.map((a) => a.name)).toEqual(['authority-0', 'authority-1'])
    expect(p.authorities[0]!.key!.hashAlgorithm).toBe('sha256')
    expect(p.authorities[1]!.keyless!.url).toBe('https://fulcio.sigstore.dev')
    expect(p.authorities[0]!.signatureFormat).toBeUndefined()
    expect(Object.isFrozen(p.authorities[0])).toBe(true)
  })

  it('reads multi-document YAML, JSON, Lists and arrays', () => {
    const a = cip({ images: [{ glob: 'a/**' }], authorities: [{ static: { action: 'pass' } }] }, 'a')
    const b = cip({ images: [{ glob: 'b/**' }], authorities: [{ static: { action: 'fail' } }] }, 'b')
    const yamlText = `${JSON.stringify(a)}\n---\n# comment\n---\n${JSON.stringify(b)}\n`
    expect(parsePolicies(yamlText).policies.map((p) => p.name)).toEqual(['a', 'b'])
    expect(parsePolicies(JSON.stringify({ kind: 'List', items: [a, b] })).policies).toHaveLength(2)
    expect(parsePolicies({ kind: 'ClusterImagePolicyList', items: [a] }).policies).toHaveLength(1)
    expect(parsePolicies([a, b]).policies).toHaveLength(2)
    expect(parsePolicies(new TextEncoder().encode(JSON.stringify(a))).policies).toHaveLength(1)
  })

  it('rejects malformed input with coded errors', () => {
    const bad: unknown[] = [
      'spec: [unclosed',
      'a: 1\na: 2\n',
      '',
      '42',
      JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x' } }),
      { kind: 'ClusterImagePolicy', apiVersion: 'policy.sigstore.dev/v2', metadata: { name: 'x' }, spec: {} },
      new Uint8Array([0xff, 0xfe, 0x00]),
      'x'.repeat(5 * 1024 * 1024),
      // billion laughs
      `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`,
    ]
    for (const input of bad) {
      expect(() => parsePolicies(input), String(input).slice(0, 40)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
      )
    }
  })

  it('rejects duplicate policy and authority names, bad CEL, static with attestations', () => {
    const p = cip({ images: [{ glob: '**' }], authorities: [{ static: { action: 'pass' } }] }, 'same')
    expect(errorsOf([p, p])[0]).toMatchObject({ field: 'metadata.name', message: 'duplicate policy name' })
    expect(
      errorsOf(
        cip({
          images: [{ glob: '**' }],
          authorities: [
            { name: 'x', static: { action: 'pass' } },
            { name: 'x', static: { action: 'nope' } },
          ],
        }),
      ).map((e) => e.field),
    ).toEqual(['spec.authorities[1].static.action', 'spec.authorities[1].name'])
    const celErr = errorsOf(
      cip({
        images: [{ glob: '**' }],
        authorities: [
          {
            key: { data: KEY },
            attestations: [
              { name: 'a', predicateType: 'https://x/y', policy: { type: 'cel', data: 'predicate.x ==' } },
            ],
          },
        ],
      }),
    )
    expect(celErr[0]).toMatchObject({ field: 'spec.authorities[0].attestations[0].policy.data' })
    expect(celErr[0]!.message).toMatch(/CEL expression does not parse/)
    expect(
      errorsOf(
        cip({
          images: [{ glob: '**' }],
          authorities: [{ static: { action: 'pass' }, attestations: [{ name: 'a', predicateType: 'custom' }] }],
        }),
      )[0]!.message,
    ).toMatch(/static, attestations/)
  })

  it('warns about unknown fields and features it fails closed on, without echoing key material', () => {
    const { warnings } = parsePolicies(
      cip({ images: [{ glob: '**' }], authorities: [{ key: { data: KEY }, identites: [] }], typo: 1 }),
    )
    expect(warnings).toEqual([
      'spec.typo: unknown field, ignored',
      'spec.authorities[0].identites: unknown field, ignored',
    ])
    try {
      parsePolicies(cip({ images: [{ glob: '**' }], authorities: [{ key: { data: `${KEY}x`, kms: 'gcpkms://k' } }] }))
    } catch (e) {
      expect((e as Error).message).not.toContain('MFkwEwYHKoZIzj0')
    }
  })
})
