// Kyverno's own chainsaw conformance tests (test/vectors/kyverno/chainsaw, PROVENANCE.md): every policy document
// parses, or is refused for a reason asserted here; and the key-based tests are re-enacted offline with their
// policies verbatim except for the public key (K1 → a key we generate). The images keep their ghcr.io names in an
// in-memory OCI layout (the store decides, not the name); `:signed` is signed with our key in cosign's `.sig` form
// (what `type: Cosign` reads), `:unsigned` is not. Each Pod is decided as its admission request would be: its
// images, with the Pod (and, where the test depends on them, its namespace's labels) as the resource.
//
// Re-enacted elsewhere: the keyless tests (#6–#14) in keyless.integration.test.ts, against the local Sigstore
// stack. Not re-enactable, and why:
// - keyed-tsa (#4): admission needs an RFC 3161 token from freetsa.org (the policy's tsaCertChain root); only the
//   denial of a signature without one is re-enacted.
// - failure-policy-test-noconfigmap-diffimage-success (#19): its key is `{{myconfigmap.data.configmapkey}}`, a
//   ConfigMap lookup through the rule's context; there is no cluster to read it from, so the policy is refused.
// - multiple-image-verification-attestations-pass (#18) and skip-image-reference (#17): `type: Notary` (and
//   certificates from a ConfigMap variable) — refused. skip-image-reference's skip semantics are re-enacted with the
//   type changed to Cosign and the certificate inlined (below); its `bad.yaml` Pod (two containers of one name)
//   is not used, as PROVENANCE.md advises.
// - with-mutation (#20): countersign evaluates only verifyImages; the mutate policy that rewrites `:unsigned` to
//   `:signed` before verification is not run (its rule is ignored with a warning, asserted below).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signImage } from '../../../src/image/sign.js'
import { generateKeyPair, parsePrivateKey, publicKeyToPEM } from '../../../src/keys/index.js'
import type { PrivateKey } from '../../../src/keys/types.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import type { OCIStore, Reference } from '../../../src/oci/types.js'
import type { KyvernoResource } from '../../../src/policy/kyverno/resources.js'
import type { KyvernoPolicy } from '../../../src/policy/kyverno/types.js'
import { parsePolicies } from '../../../src/policy/parse.js'
import type { PolicyDecision } from '../../../src/policy/types.js'
import {
  type VerifyImageAgainstPoliciesOptions,
  verifyImageAgainstPolicies,
} from '../../../src/policy/verify-policies.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import {
  chainsawFile,
  chainsawNamespaceLabels,
  chainsawPod,
  chainsawPolicyText,
  chainsawYAMLFiles,
  isKyvernoPolicyDocument,
  yamlDocuments,
} from '../../support/kyverno-chainsaw.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { makeSelfSignedCert } from '../../support/tls-cert.js'

/** K1's base64 lines (PROVENANCE.md), as they appear in the policies. */
const K1_LINES = [
  'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE8nXRh950IZbRj8Ra/N9sbqOPZrfM',
  '5/KAQN0/KjHcorm/J5yctVd7iEcnessRQjU917hmKO6JWVGHpDguIyakZA==',
]

/** What parsing each Kyverno document under chainsaw/ gives: its policy name, or the refusal. */
const PARSE_EXPECTATIONS: Record<string, { readonly name: string } | { readonly refused: readonly RegExp[] }> = {
  'cornercases/multiple-attestors/policy.yaml#0': { name: 'validate-signatures' },
  // Kyverno reads the key from a ConfigMap through the rule's context; countersign has no cluster to read it from.
  'standard/failure-policy-test-noconfigmap-diffimage-success/policy.yaml#0': {
    refused: [
      /spec\.rules\[0\]\.verifyImages\[0\]\.attestors\[0\]\.entries\[0\]\.keys\.publicKeys: variables \(\{\{ \}\}\) are not supported by countersign/,
    ],
  },
  'standard/imageExtractors-simple/policy.yaml#0': { name: 'tasks-simple' },
  'standard/keyed-basic-namespace-selector/policy.yaml#0': { name: 'keyed-basic-ns-selector-policy' },
  'standard/keyed-basic/policy.yaml#0': { name: 'keyed-basic-policy' },
  'standard/keyed-secret/policy.yaml#0': { name: 'secret-in-keys' },
  'standard/keyed-tsa/policy.yaml#0': { name: 'keyed-tsa-policy' },
  'standard/keyless-attestation-regexp/policy.yaml#0': { name: 'check-invalid-attestors-in-attestations' },
  'standard/keyless-attestations-multiple-subjects-3/policy.yaml#0': { name: 'check-slsa-attestations-fail-1' },
  'standard/keyless-attestations-multiple-subjects-4/policy.yaml#0': { name: 'check-slsa-attestations-pass-4' },
  'standard/keyless-attestations-multiple-subjects-counts-1/policy.yaml#0': { name: 'check-slsa-attestations-pass-3' },
  'standard/keyless-attestations-multiple-subjects-counts-2/policy.yaml#0': { name: 'check-slsa-attestations-fail-2' },
  'standard/keyless-attestations-multiple-subjects-counts-3/policy.yaml#0': { name: 'check-slsa-attestations-fail-3' },
  'standard/keyless-image-invalid-attestor/policy.yaml#0': { name: 'check-invalid-attestors' },
  'standard/keyless-mutatedigest-verifydigest-required/policy.yaml#0': {
    name: 'keyless-mutatedigest-verifydigest-required',
  },
  'standard/keyless-nomutatedigest-noverifydigest-norequired/policy.yaml#0': {
    name: 'keyless-nomutatedigest-noverifydigest-norequired',
  },
  // Notary signatures are out of scope (countersign verifies cosign and Sigstore formats), and the certificates come
  // from a ConfigMap variable. Every such field is reported.
  'standard/multiple-image-verification-attestations-pass/policy.yaml#2': {
    refused: [
      /spec\.rules\[0\]\.verifyImages\[0\]\.type: Notary is not supported by countersign/,
      /attestations\[0\]\.attestors\[0\]\.entries\[0\]\.certificates\.cert: variables \(\{\{ \}\}\) are not supported/,
      /attestations\[1\]\.attestors\[0\]\.entries\[0\]\.certificates\.cert: variables \(\{\{ \}\}\) are not supported/,
    ],
  },
  'standard/mutateDigest-noverifyDigest-norequired/policy.yaml#0': { name: 'mutatedigest-policy' },
  'standard/nomutateDigest-verifyDigest-norequired/policy.yaml#0': { name: 'mutatedigest-policy' },
  // kyverno.io/v2beta1, type Notary.
  'standard/skip-image-reference/policy.yaml#2': {
    refused: [
      /spec\.rules\[0\]\.verifyImages\[0\]\.type: Notary is not supported by countersign/,
      /attestors\[0\]\.entries\[0\]\.certificates\.cert: variables \(\{\{ \}\}\) are not supported/,
    ],
  },
  'standard/with-mutation/policy.yaml#0': { name: 'with-mutation-img' },
  'standard/with-mutation/policy.yaml#1': { name: 'with-mutation-mut' },
}

describe('every Kyverno policy document of the chainsaw vectors', () => {
  const found: string[] = []
  for (const file of chainsawYAMLFiles()) {
    for (const [i, doc] of yamlDocuments(chainsawFile('', file)).entries()) {
      if (isKyvernoPolicyDocument(doc)) found.push(`${file}#${i}`)
    }
  }

  it('the table below covers exactly the policy documents on disk (21 chainsaw tests, 22 documents)', () => {
    expect(found).toEqual(Object.keys(PARSE_EXPECTATIONS).sort())
    expect(found).toHaveLength(22)
  })

  it.each(found)('%s', (where) => {
    const [file, index] = where.split('#') as [string, string]
    const doc = yamlDocuments(chainsawFile('', file))[Number(index)]
    const expected = PARSE_EXPECTATIONS[where]!
    if ('name' in expected) {
      const parsed = parsePolicies(doc, { source: where })
      expect(parsed.policies).toEqual([])
      expect(parsed.kyverno.map((p) => p.name)).toEqual([expected.name])
      return
    }
    let error: unknown
    try {
      parsePolicies(doc, { source: where })
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ code: 'ERR_INVALID_INPUT' })
    const message = (error as Error).message
    expect(message).toContain(`invalid Kyverno policy in ${where}: `)
    for (const re of expected.refused) expect(message).toMatch(re)
  })

  it('what countersign ignores is said in warnings: other rule types, preconditions, imageExtractors, deprecated fields', () => {
    const mutation = parsePolicies(yamlDocuments(chainsawFile('standard/with-mutation', 'policy.yaml'))[1])
    expect(mutation.kyverno[0]!.rules).toEqual([])
    expect(mutation.warnings).toEqual([
      'with-mutation-mut: 1 rule(s) without verifyImages ignored: countersign evaluates image verification',
      'with-mutation-mut: no verifyImages rules: the policy checks no images',
    ])
    const extractors = parsePolicies(chainsawPolicyText('standard/imageExtractors-simple'))
    expect(extractors.warnings).toEqual([
      'tasks-simple: spec.rules[0].preconditions: not evaluated by countersign; the rule applies to every image it matches',
      'tasks-simple: spec.rules[0].imageExtractors: not applied; countersign checks the images of pods and pod templates',
      'tasks-simple: spec.rules[0].verifyImages[0].image: deprecated, use imageReferences',
      'tasks-simple: spec.rules[0].verifyImages[0]: key, subject, issuer, roots and annotations are deprecated; use attestors',
    ])
    // The deprecated `image`/`key` fields become an imageReferences entry and a keys attestor, as Kyverno converts them.
    const entry = extractors.kyverno[0]!.rules[0]!.verifyImages[0]!
    expect(entry.imageReferences).toEqual(['*'])
    expect(entry.attestors[0]!.entries[0]!.keys?.publicKeys).toContain(K1_LINES[0])
  })

  it('a policy file that also declares cluster objects (a Namespace, a ConfigMap) is refused as a policy file', () => {
    const text = chainsawPolicyText('standard/skip-image-reference')
    expect(() => parsePolicies(text)).toThrow(
      /policy "policy#0": kind: expected ClusterImagePolicy or a Kyverno ClusterPolicy\/Policy, got "Namespace"; policy "policy#1": kind: expected ClusterImagePolicy or a Kyverno ClusterPolicy\/Policy, got "ConfigMap"/,
    )
  })
})

describe("Kyverno's key-based chainsaw tests, re-enacted offline (K1 replaced by our key)", () => {
  let key: PrivateKey
  let store: OCIStore
  const digests: Record<string, string> = {}

  /** The test's policy.yaml verbatim, but for K1's two base64 lines, which become our key's. */
  function policyWithOurKey(dir: string): readonly KyvernoPolicy[] {
    const ours = publicKeyToPEM(key.publicKey).trim().split('\n').slice(1, -1)
    expect(ours).toHaveLength(2)
    let text = chainsawPolicyText(dir)
    for (const [i, line] of K1_LINES.entries()) {
      expect(text).toContain(line)
      text = text.replaceAll(line, ours[i]!)
    }
    const parsed = parsePolicies(text, { source: `${dir}/policy.yaml` })
    expect(parsed.policies).toEqual([])
    return parsed.kyverno
  }

  /** Decide a Pod of the test: admitted when every image is allowed. */
  async function admit(
    policies: readonly KyvernoPolicy[],
    images: readonly string[],
    resource: KyvernoResource | undefined,
    options: Partial<VerifyImageAgainstPoliciesOptions> = {},
  ): Promise<{ admitted: boolean; decisions: PolicyDecision[] }> {
    const decisions: PolicyDecision[] = []
    for (const image of images) {
      decisions.push(
        await verifyImageAgainstPolicies(image, policies, { store, ...(resource ? { resource } : {}), ...options }),
      )
    }
    return { admitted: decisions.every((d) => d.allowed), decisions }
  }

  const repo = (repository: string, tag: string): Reference => ({ registry: 'ghcr.io', repository, tag })

  beforeAll(async () => {
    key = await generateKeyPair()
    // One layout is one repository: the registry and repository of a name are not looked at, so every tag used in
    // this describe block is distinct.
    store = createLayoutStore(createMemoryFileSystem())
    for (const [repository, tag, sign] of [
      ['kyverno/test-verify-image', 'signed', true],
      ['kyverno/test-verify-image', 'unsigned', false],
      ['kyverno/test-verify-image', 'signed-keyless', false],
      ['kyverno/zulu', 'v0.0.14', false],
      ['other/app', 'v1', false],
    ] as const) {
      digests[`${repository}:${tag}`] = await pushTinyImage(store, repo(repository, tag), `${repository}:${tag}`)
      if (sign)
        await signImage(repo(repository, tag), createKeySigner(key), { store, format: 'legacy', tlogUpload: false })
    }
  })

  it('#1 keyed-basic: the signed image is admitted and pinned to tag@digest; the unsigned one would be denied', async () => {
    const dir = 'standard/keyed-basic'
    const policies = policyWithOurKey(dir)
    const pod = chainsawPod(dir, 'chainsaw-step-02-apply-1.yaml')
    expect(pod.images).toEqual(['ghcr.io/kyverno/test-verify-image:signed'])
    const r = await admit(policies, pod.images, pod.resource)
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
    expect(r.decisions[0]!.pin).toBe(
      `ghcr.io/kyverno/test-verify-image:signed@${digests['kyverno/test-verify-image:signed']}`,
    )
    // Not part of the chainsaw test, but the control that the key decides: :unsigned is denied.
    const unsigned = await admit(policies, ['ghcr.io/kyverno/test-verify-image:unsigned'], pod.resource)
    expect(unsigned.admitted).toBe(false)
    expect(unsigned.decisions[0]!.reasons[0]).toMatchObject({
      policy: 'keyed-basic-policy',
      authority: 'keyed-basic-rule.verifyImages[0]',
      check: 'signature',
    })
  })

  it('#2 keyed-basic-namespace-selector: signed admitted, unsigned denied in signed=true; unsigned admitted in signed=false', async () => {
    const dir = 'standard/keyed-basic-namespace-selector'
    const policies = policyWithOurKey(dir)
    const protectedNs = chainsawNamespaceLabels(dir, 'chainsaw-step-01-apply-1.yaml')
    const unprotectedNs = chainsawNamespaceLabels(dir, 'chainsaw-step-01-apply-2.yaml')
    expect(protectedNs).toEqual({ name: 'test-verify-images', labels: { signed: 'true' } })
    expect(unprotectedNs).toEqual({ name: 'test-verify-images-unprotected', labels: { signed: 'false' } })
    const labelsOf = (ns: string) => (ns === protectedNs.name ? protectedNs.labels : unprotectedNs.labels)
    const steps: [file: string, admitted: boolean][] = [
      ['chainsaw-step-02-apply-1.yaml', true],
      ['pod-unsigned.yaml', false],
      ['pod-signed.yaml', true],
      ['pod-unprotected-ns.yaml', true],
    ]
    for (const [file, admitted] of steps) {
      const pod = chainsawPod(dir, file)
      const withLabels = chainsawPod(dir, file, labelsOf(pod.namespace))
      const r = await admit(policies, pod.images, withLabels.resource)
      expect(r.admitted, file).toBe(admitted)
    }
    // In the unprotected namespace the rule does not apply at all: the image is not even looked at.
    const unprotected = chainsawPod(dir, 'pod-unprotected-ns.yaml', unprotectedNs.labels)
    const u = await admit(policies, unprotected.images, unprotected.resource)
    expect(u.decisions[0]).toMatchObject({ matched: [], reasons: [], warnings: [] })
    // Without the namespace's labels (the admission webhook does not have them) the selector cannot be decided and
    // the rule applies: the stricter answer, a documented difference from Kyverno.
    const blind = await admit(policies, unprotected.images, chainsawPod(dir, 'pod-unprotected-ns.yaml').resource)
    expect(blind.admitted).toBe(false)
  })

  it('#3 keyed-secret: the key from Secret test-verify-images/testsecret (through the secret resolver) admits :signed', async () => {
    const dir = 'standard/keyed-secret'
    const { kyverno } = parsePolicies(chainsawPolicyText(dir))
    const pod = chainsawPod(dir, 'chainsaw-step-02-apply-1.yaml')
    const asked: unknown[] = []
    const resolveSecretKey: VerifyImageAgainstPoliciesOptions['resolveSecretKey'] = async (secret) => {
      asked.push(secret)
      return key.publicKey
    }
    const r = await admit(kyverno, pod.images, pod.resource, { resolveSecretKey })
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
    expect(asked).toEqual([{ name: 'testsecret', namespace: 'test-verify-images' }])
    // Without a resolver (the CLI has none) the attestor fails closed.
    const none = await admit(kyverno, pod.images, pod.resource)
    expect(none.admitted).toBe(false)
    expect(none.decisions[0]!.reasons[0]!.message).toContain('no secret resolver configured for secret testsecret')
  })

  it('#4 keyed-tsa: our key signs :tsa, but without the RFC 3161 timestamp the attestor asks for, it is denied', async () => {
    // Not re-enactable in full: admission needs a timestamp token from freetsa.org, whose root is the policy's
    // tsaCertChain. What is checked: with K3 replaced by our key, a signature without the timestamp (and without a
    // log entry: the policy has no rekor block) is not enough.
    const dir = 'standard/keyed-tsa'
    const k3 = [
      'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEstG5Xl7UxkQsmLUxdmS85HLgYBFy',
      'c/P/oQ22iazkKm8P0sNlaZiaZC4TSEea3oh2Pim0+wxSubhKoK+7jq9Egg==',
    ]
    const ours = publicKeyToPEM(key.publicKey).trim().split('\n').slice(1, -1)
    let text = chainsawPolicyText(dir)
    for (const [i, line] of k3.entries()) {
      expect(text).toContain(line)
      text = text.replaceAll(line, ours[i]!)
    }
    const { kyverno } = parsePolicies(text)
    expect(kyverno[0]!.rules[0]!.verifyImages[0]!.attestors[0]!.entries[0]!.keys?.ctlog?.tsaCertChain).toContain(
      '-----BEGIN CERTIFICATE-----',
    )
    const pod = chainsawPod(dir, 'chainsaw-step-02-apply-1.yaml')
    expect(pod.images).toEqual(['ghcr.io/kyverno/test-verify-image:tsa'])
    await pushTinyImage(store, repo('kyverno/test-verify-image', 'tsa'), 'tsa')
    await signImage(repo('kyverno/test-verify-image', 'tsa'), createKeySigner(key), {
      store,
      format: 'legacy',
      tlogUpload: false,
    })
    const r = await admit(kyverno, pod.images, pod.resource)
    expect(r.admitted).toBe(false)
    expect(r.decisions[0]!.reasons[0]!.message).toMatch(
      /^failed to verify image ghcr\.io\/kyverno\/test-verify-image:tsa: verified 0 of 1 required attestor\(s\): \.attestors\[0\]\.entries\[0\]\.keys: /,
    )
  })

  it('#5 multiple-attestors: rule 1 (count 1, our key) admits :signed; rule 2 (my.local.repo/*) matches nothing', async () => {
    const dir = 'cornercases/multiple-attestors'
    const policies = policyWithOurKey(dir)
    const pod = chainsawPod(dir, 'pod.yaml')
    const r = await admit(policies, pod.images, pod.resource)
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
    expect(r.decisions[0]!.policies.map((p) => p.name)).toEqual(['validate-signatures/check-1'])
    // The autogen-controllers: none annotation keeps the rules to Pods.
    expect(policies[0]!.autogenControllers).toBe('none')
  })

  it('#15 mutateDigest-noverifyDigest-norequired: no attestors; admitted and rewritten to tag@digest', async () => {
    const dir = 'standard/mutateDigest-noverifyDigest-norequired'
    const { kyverno } = parsePolicies(chainsawPolicyText(dir))
    const pod = chainsawPod(dir, 'chainsaw-step-02-apply-1.yaml')
    expect(pod.images).toEqual(['ghcr.io/kyverno/test-verify-image:signed-keyless'])
    const r = await admit(kyverno, pod.images, pod.resource)
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
    // Upstream's assert: `…:signed-keyless@sha256:445a…` (the digest of the real image; ours is our own).
    const asserted = chainsawPod(dir, 'chainsaw-step-03-assert-1.yaml').images[0]!
    expect(asserted).toMatch(/^ghcr\.io\/kyverno\/test-verify-image:signed-keyless@sha256:445a/)
    expect(r.decisions[0]!.pin).toBe(
      `ghcr.io/kyverno/test-verify-image:signed-keyless@${digests['kyverno/test-verify-image:signed-keyless']}`,
    )
  })

  it('#16 nomutateDigest-verifyDigest-norequired: tag@digest admitted unchanged; the tag alone denied (missing digest)', async () => {
    const dir = 'standard/nomutateDigest-verifyDigest-norequired'
    const { kyverno } = parsePolicies(chainsawPolicyText(dir))
    const digest = digests['kyverno/test-verify-image:signed-keyless']!
    // The pod's digest re-targeted to the image in our store.
    const [upstream] = chainsawPod(dir, 'chainsaw-step-02-apply-1.yaml').images
    const pinned = upstream!.replace(/@sha256:[0-9a-f]{64}$/, `@${digest}`)
    expect(pinned).toBe(`ghcr.io/kyverno/test-verify-image:signed-keyless@${digest}`)
    const pod = chainsawPod(dir, 'chainsaw-step-02-apply-1.yaml')
    const ok = await admit(kyverno, [pinned], pod.resource)
    expect(ok.decisions[0]!.reasons).toEqual([])
    expect(ok.admitted).toBe(true)
    expect(ok.decisions[0]!.pin).toBeUndefined()
    const bad = chainsawPod(dir, 'badpod.yaml')
    expect(bad.images).toEqual(['ghcr.io/kyverno/test-verify-image:signed-keyless'])
    const denied = await admit(kyverno, bad.images, bad.resource)
    expect(denied.admitted).toBe(false)
    expect(denied.decisions[0]!.reasons.map((x) => x.message)).toEqual([
      'missing digest for ghcr.io/kyverno/test-verify-image:signed-keyless',
    ])
    expect(denied.decisions[0]!.pin).toBeNull()
  })

  describe('#17 skip-image-reference, with type Cosign and the certificate inlined (the test is Notary)', () => {
    let dir: string
    afterAll(() => rmSync(dir, { recursive: true, force: true }))

    it('images under skipImageReferences are admitted without verification (and warned about); the rest are verified', async () => {
      dir = mkdtempSync(join(tmpdir(), 'kyverno-chainsaw-cert-'))
      const tls = makeSelfSignedCert(dir, { name: 'signer', commonName: 'Notary test stand-in' })
      const certPEM = readFileSync(tls.cert, 'utf8')
      const signer = createKeySigner(parsePrivateKey(readFileSync(tls.key, 'utf8')))
      await pushTinyImage(store, repo('other/signed', 'cert'), 'other signed')
      await signImage(repo('other/signed', 'cert'), signer, { store, format: 'legacy', tlogUpload: false })
      const [policyDoc] = yamlDocuments(chainsawFile('standard/skip-image-reference', 'policy.yaml')).filter(
        isKyvernoPolicyDocument,
      )
      const text = JSON.stringify(policyDoc)
        .replace('"type":"Notary",', '')
        .replace('"{{ keys.data.certificate }}"', JSON.stringify(certPEM))
      expect(text).not.toContain('Notary')
      const { kyverno } = parsePolicies(JSON.parse(text))
      expect(kyverno[0]!.apiVersion).toBe('kyverno.io/v2beta1')
      // Notary has no transparency log; the stand-in signature has none either.
      const options = { insecureIgnoreTlog: true }
      for (const file of ['pod.yaml', 'skipped.yaml']) {
        const pod = chainsawPod('standard/skip-image-reference', file)
        const r = await admit(kyverno, pod.images, pod.resource, options)
        expect(r.admitted, file).toBe(true)
        expect(r.decisions[0]!.warnings[0]!.message, file).toMatch(/^skipping image reference ghcr\.io\/kyverno\//)
      }
      // Controls (not in the chainsaw test): ghcr.io/* outside the skip list is verified against the certificate.
      const resource = chainsawPod('standard/skip-image-reference', 'pod.yaml').resource
      expect((await admit(kyverno, ['ghcr.io/other/signed:cert'], resource, options)).admitted).toBe(true)
      const unsigned = await admit(kyverno, ['ghcr.io/other/app:v1'], resource, options)
      expect(unsigned.admitted).toBe(false)
      expect(unsigned.decisions[0]!.reasons[0]!.message).toMatch(/\.attestors\[0\]\.entries\[0\]\.certificates: /)
    })
  })

  it('#21 imageExtractors-simple: the Task step image, unsigned, is denied (deprecated image/key fields)', async () => {
    const dir = 'standard/imageExtractors-simple'
    const policies = policyWithOurKey(dir)
    const [task] = yamlDocuments(chainsawFile(dir, 'badtask.yaml'))
    const steps = (task!.spec as { steps: { image: string }[] }).steps.map((s) => s.image)
    expect(steps).toEqual(['public.ecr.aws/docker/library/ubuntu:bionic'])
    const ubuntu: Reference = { registry: 'public.ecr.aws', repository: 'docker/library/ubuntu', tag: 'bionic' }
    await pushTinyImage(store, ubuntu, 'ubuntu bionic')
    const resource: KyvernoResource = {
      group: 'tekton.dev',
      version: 'v1beta1',
      kind: 'Task',
      name: 'example-task-name',
      namespace: 'default',
      operation: 'CREATE',
    }
    const denied = await admit(policies, steps, resource)
    expect(denied.admitted).toBe(false)
    expect(denied.decisions[0]!.reasons[0]!.message).toMatch(/^failed to verify image public\.ecr\.aws\//)
    // The control: signed with our key, the same step image is admitted.
    // (The deprecated `key` has no rekor block, so Kyverno would want a log entry: the caller turns the log off.)
    await signImage(ubuntu, createKeySigner(key), { store, format: 'legacy', tlogUpload: false })
    const admitted = await admit(policies, steps, resource, { insecureIgnoreTlog: true })
    expect(admitted.decisions[0]!.reasons).toEqual([])
    expect(admitted.admitted).toBe(true)
  })
})
