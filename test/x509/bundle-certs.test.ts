import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import { fromBase64 } from '../../src/internal/bytes.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'
import {
  type Certificate,
  certificateIdentity,
  checkIdentity,
  embeddedSCTs,
  FULCIO_EXTENSION_OIDS,
  fulcioExtensions,
  parseCertificate,
  verifyCertificateChain,
  verifyEmbeddedSCTs,
} from '../../src/x509/index.js'

const DIR = resolve(import.meta.dirname, '../vectors/certs/bundles')
// biome-ignore lint/suspicious/noExplicitAny: free-form fixture JSON
type JSONValue = any

interface Case {
  id: string
  bundle: JSONValue
  caseJSON: JSONValue
  root: TrustedRoot
  leaf: Certificate
  rest: Certificate[]
  time: Date
}

function load(id: string): Case {
  const read = (f: string) => JSON.parse(readFileSync(join(DIR, id, f), 'utf8'))
  const bundle = read('bundle.sigstore.json')
  const vm = bundle.verificationMaterial
  const ders: Uint8Array[] = vm.certificate
    ? [fromBase64(vm.certificate.rawBytes)]
    : vm.x509CertificateChain.certificates.map((c: { rawBytes: string }) => fromBase64(c.rawBytes))
  const [leaf, ...rest] = ders.map((d) => parseCertificate(d))
  return {
    id,
    bundle,
    caseJSON: read('case.json'),
    root: parseTrustedRoot(readFileSync(join(DIR, id, 'trusted_root.json'))),
    leaf: leaf!,
    rest,
    // Bundles without an integrated time (RFC 3161 only) are checked a second after notBefore: reading the TSA
    // time is the timestamp module's job, not this one's.
    time: vm.tlogEntries[0].integratedTime
      ? new Date(Number(vm.tlogEntries[0].integratedTime) * 1000)
      : new Date(leaf!.notBefore.getTime() + 1000),
  }
}

async function certVerdict(c: Case): Promise<unknown> {
  const chain = await verifyCertificateChain(c.leaf, c.root.certificateAuthorities, {
    time: c.time,
    intermediates: c.rest,
  })
  await verifyEmbeddedSCTs(c.leaf, chain.path[1]!, c.root.ctlogs)
  return chain
}

describe('certificates of bundle fixtures', () => {
  test.each([
    'conformance-happy-path-v0.3',
    'conformance-happy-path-v0.1',
    'conformance-bundle-with-sct-with-extensions',
    'sigstore-js-compat-bundleV01-full-cert-chain',
    'sigstore-python-github-actions-wheel-production',
    'sigstore-go-othername-san',
  ])('%s: chain and SCT verify at the integrated time; identity matches case.json', async (id) => {
    const c = load(id)
    const chain = (await certVerdict(c)) as Awaited<ReturnType<typeof verifyCertificateChain>>
    // The anchor is a trusted-root certificate, byte for byte.
    const anchor = chain.path[chain.path.length - 1]!.raw
    expect(
      chain.authority.certChain.some((d) => d.length === anchor.length && d.every((b, i) => b === anchor[i])),
    ).toBe(true)
    const identity = certificateIdentity(c.leaf)
    expect(identity.issuer).toBe(c.caseJSON.issuer)
    expect(identity.subject).toBe(c.caseJSON.identity)
    expect(checkIdentity(c.leaf, { subject: c.caseJSON.identity, issuer: c.caseJSON.issuer })).toEqual(identity)
  })

  test('the othername SAN is the Sigstore username and an email identity does not match it', () => {
    const c = load('sigstore-go-othername-san-email-identity_fail')
    expect(c.leaf.subjectAltNames).toEqual([
      expect.objectContaining({ type: 'otherName', oid: '1.3.6.1.4.1.57264.1.7', value: 'foo!oidc.local' }),
    ])
    expect(certificateIdentity(c.leaf)).toEqual({
      subject: 'foo!oidc.local',
      subjectType: 'otherName',
      issuer: 'http://oidc.local:8080',
    })
    expect(() => checkIdentity(c.leaf, { subject: c.caseJSON.identity, issuer: c.caseJSON.issuer })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_DENIED', details: expect.objectContaining({ check: 'identity' }) }),
    )
  })

  test('conformance-bundle-with-root-cert_fail: a foreign root in the bundle chain fails the chain', async () => {
    const c = load('conformance-bundle-with-root-cert_fail')
    await expect(certVerdict(c)).rejects.toMatchObject({
      code: 'ERR_CERT_CHAIN_INVALID',
      details: { check: 'chain', reason: 'bundle-chain-mismatch' },
      message: expect.stringContaining('root certificate'),
    })
    // Its identity also differs from the suite default (case.json notes).
    expect(certificateIdentity(c.leaf).subject).toBe('a@tny.town')
  })

  test('conformance-invalid-ct-key_fail: the chain verifies, the SCT does not', async () => {
    const c = load('conformance-invalid-ct-key_fail')
    const chain = await verifyCertificateChain(c.leaf, c.root.certificateAuthorities, {
      time: c.time,
      intermediates: c.rest,
    })
    expect(embeddedSCTs(c.leaf)).toHaveLength(1)
    await expect(verifyEmbeddedSCTs(c.leaf, chain.path[1]!, c.root.ctlogs)).rejects.toMatchObject({
      code: 'ERR_CERT_CHAIN_INVALID',
      details: { check: 'sct', verified: 0, threshold: 1 },
    })
    // Threshold 0 means "do not require SCTs" and returns the (failed) results.
    const results = await verifyEmbeddedSCTs(c.leaf, chain.path[1]!, c.root.ctlogs, { threshold: 0 })
    expect(results.map((r) => r.verified)).toEqual([false])
  })

  test('conformance-intoto-expired-certificate_fail: the chain fails at the integrated time', async () => {
    const c = load('conformance-intoto-expired-certificate_fail')
    const error = await certVerdict(c).catch((e: unknown) => e)
    expect(isCountersignError(error)).toBe(true)
    expect(['ERR_CERT_EXPIRED', 'ERR_CERT_CHAIN_INVALID']).toContain((error as { code: string }).code)
    expect(error).toMatchObject({ details: expect.objectContaining({ check: 'chain' }) })
  })

  test('conformance-intoto-set-outside-signing-cert-validity_fail: leaf not valid at the integrated time', async () => {
    const c = load('conformance-intoto-set-outside-signing-cert-validity_fail')
    await expect(certVerdict(c)).rejects.toMatchObject({
      code: 'ERR_CERT_EXPIRED',
      details: { check: 'chain', certificate: 'leaf' },
    })
  })

  test('the leaf is valid only inside its validity window; one second outside fails', async () => {
    const c = load('conformance-happy-path-v0.3')
    const cas = c.root.certificateAuthorities
    await expect(verifyCertificateChain(c.leaf, cas, { time: c.leaf.notBefore })).resolves.toBeDefined()
    await expect(verifyCertificateChain(c.leaf, cas, { time: c.leaf.notAfter })).resolves.toBeDefined()
    await expect(
      verifyCertificateChain(c.leaf, cas, { time: new Date(c.leaf.notAfter.getTime() + 1000) }),
    ).rejects.toMatchObject({ code: 'ERR_CERT_EXPIRED' })
    await expect(
      verifyCertificateChain(c.leaf, cas, { time: new Date(c.leaf.notBefore.getTime() - 1000) }),
    ).rejects.toMatchObject({ code: 'ERR_CERT_EXPIRED' })
  })

  test('a root without the issuing CA, or with no CA valid at the time, fails', async () => {
    const c = load('conformance-happy-path-v0.3')
    // A CA from another root, valid forever: it did not issue this leaf.
    const other = load('sigstore-go-othername-san').root.certificateAuthorities.map((ca) => ({
      ...ca,
      validFor: { start: new Date(0) },
    }))
    await expect(verifyCertificateChain(c.leaf, other, { time: c.time })).rejects.toMatchObject({
      code: 'ERR_CERT_CHAIN_INVALID',
      details: { reason: 'untrusted-issuer' },
    })
    await expect(verifyCertificateChain(c.leaf, [], { time: c.time })).rejects.toMatchObject({
      code: 'ERR_CERT_CHAIN_INVALID',
      details: { reason: 'no-authority-valid-at-time' },
    })
  })

  test('a flipped byte in the leaf signature or TBS fails the chain', async () => {
    const c = load('conformance-happy-path-v0.3')
    const raw = c.leaf.raw
    const positions = [raw.length - 5, 200, 400]
    for (const at of positions) {
      const mutated = raw.slice()
      mutated[at]! ^= 0x01
      let leaf: Certificate
      try {
        leaf = parseCertificate(mutated)
      } catch (e) {
        expect(e).toMatchObject({ code: 'ERR_INVALID_INPUT' })
        continue
      }
      await expect(
        verifyCertificateChain(leaf, c.root.certificateAuthorities, { time: c.time }).then(() =>
          verifyEmbeddedSCTs(leaf, parseCertificate(c.root.certificateAuthorities[1]!.certChain[0]!), c.root.ctlogs),
        ),
      ).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_(CERT_CHAIN_INVALID|CERT_EXPIRED|POLICY_DENIED)$/) })
    }
  })

  test('the production GitHub Actions leaf carries the Fulcio extensions', () => {
    const c = load('sigstore-python-github-actions-wheel-production')
    const ext = fulcioExtensions(c.leaf)
    expect(ext.issuer).toBe('https://token.actions.githubusercontent.com')
    expect(ext.issuerV1).toBe('https://token.actions.githubusercontent.com')
    expect(ext.githubWorkflowRepository).toBe('trailofbits/rfc8785.py')
    expect(ext.sourceRepositoryURI).toBe('https://github.com/trailofbits/rfc8785.py')
    expect(ext.buildSignerURI).toBe(c.caseJSON.identity)
    // Every extension case.json lists, by OID, equals the decoded value of that name.
    const byOid = new Map<string, string>(Object.entries(FULCIO_EXTENSION_OIDS).map(([name, oid]) => [oid, name]))
    const listed = Object.entries(c.caseJSON.certificateExtensions as Record<string, string>)
    expect(listed.length).toBeGreaterThan(15)
    for (const [label, value] of listed) {
      const name = byOid.get(label.split(' ')[0]!) as keyof typeof ext
      expect(ext[name], label).toBe(value)
    }
    expect(c.leaf.issuer.text).toBe(c.caseJSON.features.leafCertificate.issuerDN)
    expect(c.leaf.subject.text).toBe('')
  })

  test('GitHub workflow claims: each one is checked against the v1 extensions, every failure reported', () => {
    const c = load('sigstore-python-github-actions-wheel-production')
    const base = { subject: c.caseJSON.identity, issuer: c.caseJSON.issuer }
    const claims = {
      githubWorkflowTrigger: 'release',
      githubWorkflowSha: 'd8b4a6445f38c48b9137a8099706d9b8073146e4',
      githubWorkflowName: 'release',
      githubWorkflowRepository: 'trailofbits/rfc8785.py',
      githubWorkflowRef: 'refs/tags/v0.1.2',
    }
    expect(checkIdentity(c.leaf, { ...base, ...claims }).subject).toBe(c.caseJSON.identity)
    for (const claim of Object.keys(claims)) {
      expect(() => checkIdentity(c.leaf, { ...base, ...claims, [claim]: 'other' })).toThrow(
        expect.objectContaining({
          code: 'ERR_POLICY_DENIED',
          details: { check: 'identity', reasons: [expect.objectContaining({ rule: claim })] },
        }),
      )
    }
    // Regexps are unanchored, like Go's MatchString.
    expect(checkIdentity(c.leaf, { subjectRegExp: 'rfc8785\\.py/', issuerRegExp: 'githubusercontent' }).issuer).toBe(
      c.caseJSON.issuer,
    )
    expect(() => checkIdentity(c.leaf, { subjectRegExp: '^rfc8785', issuer: c.caseJSON.issuer })).toThrow(
      expect.objectContaining({ code: 'ERR_POLICY_DENIED' }),
    )
    // Both subject and issuer fail: both are reported.
    try {
      checkIdentity(c.leaf, { subject: 'x', issuer: 'y' })
      expect.unreachable()
    } catch (e) {
      expect((e as { details: { reasons: { rule: string }[] } }).details.reasons.map((r) => r.rule)).toEqual([
        'subject',
        'issuer',
      ])
    }
    // A GitHub claim the certificate lacks fails closed.
    const other = load('conformance-happy-path-v0.3')
    expect(() =>
      checkIdentity(other.leaf, {
        subject: other.caseJSON.identity,
        issuer: other.caseJSON.issuer,
        githubWorkflowName: 'x',
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_POLICY_DENIED' }))
  })

  test('a policy without subject or issuer is refused rather than read as "anything"', () => {
    const c = load('conformance-happy-path-v0.3')
    expect(() => checkIdentity(c.leaf, { issuer: c.caseJSON.issuer })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(() => checkIdentity(c.leaf, { subject: c.caseJSON.identity })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(checkIdentity(c.leaf, { allowAnySubject: true, allowAnyIssuer: true }).subject).toBe(c.caseJSON.identity)
  })

  test('every fixture directory is covered', () => {
    expect(readdirSync(DIR).length).toBeGreaterThanOrEqual(11)
  })
})
