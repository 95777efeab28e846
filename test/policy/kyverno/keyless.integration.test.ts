// Kyverno keyless attestors against the local Sigstore stack (mock Fulcio issuing GitHub Actions-style certificates,
// our Rekor, the openssl TSA): images signed and SLSA provenance attested keyless into a real registry, then
// `subject` / `subjectRegExp` / `issuer` / `issuerRegExp` / `additionalExtensions`, attestation `type` + `conditions`
// (JMESPath, `regex_match`), and attestations without attestors. Then Kyverno's own keyless chainsaw tests, with
// their policies verbatim: the upstream identities are re-created by the mock Fulcio (it certifies whatever the
// token claims), and the images keep their ghcr.io names in an in-memory OCI layout (the store decides, not the name).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attestImage } from '../../../src/image/attest.js'
import { signImage } from '../../../src/image/sign.js'
import { generateKeyPair } from '../../../src/keys/index.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import type { OCIStore, Reference } from '../../../src/oci/types.js'
import { parsePolicies } from '../../../src/policy/parse.js'
import type { PolicyDecision } from '../../../src/policy/types.js'
import { verifyImageAgainstPolicies } from '../../../src/policy/verify-policies.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import { chainsawPod, chainsawPolicyText } from '../../support/kyverno-chainsaw.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'
import { type LocalSigstore, startLocalSigstore } from '../../support/sigstore-stack.js'

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'
const RELEASE_WORKFLOW = 'https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0'
const SLSA_V1 = 'https://slsa.dev/provenance/v1'
const BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1'

let registry: TestRegistry
let sigstore: LocalSigstore
const store = createRegistryClient({ plainHTTP: true, retry: { attempts: 0 } })
let app: string
let appDigest: string
let keyed: string

/** A GitHub Actions token for `workflow` (the mock Fulcio puts `email` in the SAN and maps the other claims to extensions). */
const githubClaims = (workflow: string, extra: Record<string, unknown> = {}) => ({
  iss: GITHUB_ISSUER,
  email: workflow,
  ...extra,
})

beforeAll(async () => {
  ;[registry, sigstore] = await Promise.all([startRegistry(), startLocalSigstore()])
  const ref: Reference = { registry: registry.host, repository: 'acme/app', tag: 'v1.2.0' }
  appDigest = await pushTinyImage(store, ref, `kyverno keyless ${Math.random()}`)
  app = `${registry.host}/acme/app:v1.2.0`
  // The release workflow signs the image and attests its SLSA v1 provenance, both keyless, in cosign's .sig/.att
  // tags (what `type: Cosign` reads). The claims become the certificate's GitHub extensions.
  const signer = () =>
    sigstore.keylessSigner(
      githubClaims(RELEASE_WORKFLOW, {
        repository: 'acme/app',
        workflow: 'release',
        ref: 'refs/tags/v1.2.0',
        event_name: 'push',
        sha: 'c0ffee0000000000000000000000000000000000',
      }),
    )
  await signImage(ref, signer(), { store, format: 'legacy', witness: sigstore.witness(), onWarning: () => {} })
  await attestImage({ ...ref, tag: undefined, digest: appDigest }, signer(), {
    store,
    format: 'legacy',
    witness: sigstore.witness(),
    predicateType: SLSA_V1,
    predicate: JSON.stringify({
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: { workflow: { ref: 'refs/tags/v1.2.0', repository: 'https://github.com/acme/app' } },
      },
      runDetails: { builder: { id: RELEASE_WORKFLOW }, metadata: { invocationId: '42' } },
    }),
  })
  // An image signed with a plain key: no certificate, so no keyless identity.
  const keyedRef: Reference = { registry: registry.host, repository: 'acme/keyed', tag: 'v1' }
  await pushTinyImage(store, keyedRef, `kyverno keyed ${Math.random()}`)
  await signImage(keyedRef, createKeySigner(await generateKeyPair()), { store, format: 'legacy', tlogUpload: false })
  keyed = `${registry.host}/acme/keyed:v1`
}, 90_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close()])
})

/** A ClusterPolicy (Enforce) with one verifyImages entry for the registry's acme/ images. */
const policy = (entry: Record<string, unknown>) => ({
  apiVersion: 'kyverno.io/v1',
  kind: 'ClusterPolicy',
  metadata: { name: 'keyless' },
  spec: {
    validationFailureAction: 'Enforce',
    rules: [
      {
        name: 'github',
        match: { any: [{ resources: { kinds: ['Pod'] } }] },
        verifyImages: [{ imageReferences: [`${registry.host}/acme/*`], ...entry }],
      },
    ],
  },
})
/** One keyless attestor set; `rekor.url` as Kyverno requires (nothing is fetched: the trusted root names the log). */
const keylessAttestors = (...identities: Record<string, unknown>[]) => ({
  attestors: [
    { entries: identities.map((k) => ({ keyless: { ...k, rekor: { url: 'https://rekor.sigstore.dev' } } })) },
  ],
})

async function decide(image: string, entry: Record<string, unknown>, trusted = true): Promise<PolicyDecision> {
  const { kyverno } = parsePolicies(policy(entry))
  return verifyImageAgainstPolicies(image, kyverno, {
    store,
    ...(trusted ? { trustedRoot: sigstore.trustedRoot } : {}),
  })
}

const reasonsOf = (d: PolicyDecision) => d.reasons.map((r) => r.message)

describe('Kyverno keyless attestors on image signatures', () => {
  it('subject is a Kyverno wildcard over the SANs (* spans /); a mismatch names both sides', async () => {
    const ok = await decide(app, keylessAttestors({ subject: 'https://github.com/acme/*', issuer: GITHUB_ISSUER }))
    expect(ok.reasons).toEqual([])
    expect(ok).toMatchObject({ allowed: true, digest: appDigest, matched: ['keyless'] })
    const exact = await decide(app, keylessAttestors({ subject: RELEASE_WORKFLOW, issuer: GITHUB_ISSUER }))
    expect(exact.allowed).toBe(true)
    const other = await decide(app, keylessAttestors({ subject: 'https://github.com/other/*', issuer: GITHUB_ISSUER }))
    expect(other.allowed).toBe(false)
    expect(reasonsOf(other)).toEqual([
      `failed to verify image ${app}: verified 0 of 1 required attestor(s): .attestors[0].entries[0].keyless: ` +
        `no signature matched the identity: subject mismatch: expected https://github.com/other/*, got ${RELEASE_WORKFLOW}`,
    ])
  })

  it('subjectRegExp is unanchored (RE2): a pattern for the middle of the SAN matches', async () => {
    const middle = await decide(
      app,
      keylessAttestors({ subjectRegExp: 'github\\.com/acme/app/', issuer: GITHUB_ISSUER }),
    )
    expect(middle.reasons).toEqual([])
    expect(middle.allowed).toBe(true)
    const tags = await decide(app, keylessAttestors({ subjectRegExp: '@refs/tags/v[0-9.]+$', issuer: GITHUB_ISSUER }))
    expect(tags.allowed).toBe(true)
    // Anchored at the start of something the SAN does not start with: no match.
    const anchored = await decide(
      app,
      keylessAttestors({ subjectRegExp: '^github\\.com/acme/', issuer: GITHUB_ISSUER }),
    )
    expect(anchored.allowed).toBe(false)
    expect(reasonsOf(anchored)[0]).toMatch(/subject mismatch: expected \^github\\\.com\/acme\/, got https:\/\/github/)
  })

  it('issuer (wildcard) and issuerRegExp (unanchored) match the certificate issuer', async () => {
    const subject = 'https://github.com/acme/*'
    expect((await decide(app, keylessAttestors({ subject, issuer: 'https://token.actions.*' }))).allowed).toBe(true)
    const google = await decide(app, keylessAttestors({ subject, issuer: 'https://accounts.google.com' }))
    expect(google.allowed).toBe(false)
    expect(reasonsOf(google)[0]).toContain(
      `issuer mismatch: expected https://accounts.google.com, got ${GITHUB_ISSUER}`,
    )
    const re = await decide(app, keylessAttestors({ subject, issuerRegExp: 'token\\.actions\\.githubusercontent' }))
    expect(re.allowed).toBe(true)
    const gitlab = await decide(app, keylessAttestors({ subject, issuerRegExp: 'gitlab\\.com' }))
    expect(gitlab.allowed).toBe(false)
    expect(reasonsOf(gitlab)[0]).toContain(`issuer mismatch: expected gitlab\\.com, got ${GITHUB_ISSUER}`)
  })

  it('additionalExtensions: wildcards over the GitHub extensions the mock Fulcio set from the token claims', async () => {
    const subject = 'https://github.com/acme/*'
    const ext = (additionalExtensions: Record<string, string>) =>
      decide(app, keylessAttestors({ subject, issuer: GITHUB_ISSUER, additionalExtensions }))
    const ok = await ext({
      githubWorkflowRepository: 'acme/*',
      githubWorkflowTrigger: 'push',
      githubWorkflowRef: 'refs/tags/v*',
    })
    expect(ok.reasons).toEqual([])
    expect(ok.allowed).toBe(true)
    const fork = await ext({ githubWorkflowRepository: 'evil/*' })
    expect(fork.allowed).toBe(false)
    expect(reasonsOf(fork)[0]).toContain('extension githubWorkflowRepository mismatch: expected evil/*, got acme/app')
    const trigger = await ext({ githubWorkflowTrigger: 'pull_request' })
    expect(reasonsOf(trigger)[0]).toContain('extension githubWorkflowTrigger mismatch: expected pull_request, got push')
  })

  it('count across two keyless entries: one identity suffices with count 1; without count every entry must pass', async () => {
    const good = { subject: 'https://github.com/acme/*', issuer: GITHUB_ISSUER }
    const absent = { subject: 'https://github.com/acme/app/.github/workflows/nightly.yml@*', issuer: GITHUB_ISSUER }
    const sets = keylessAttestors(absent, good)
    const one = await decide(app, { attestors: [{ count: 1, ...sets.attestors[0] }] })
    expect(one.reasons).toEqual([])
    expect(one.allowed).toBe(true)
    const all = await decide(app, sets)
    expect(all.allowed).toBe(false)
    expect(reasonsOf(all)[0]).toMatch(
      /verified 1 of 2 required attestor\(s\): \.attestors\[0\]\.entries\[0\]\.keyless: /,
    )
  })

  it('certificates must chain to the trusted root; a key-only signature never satisfies a keyless attestor', async () => {
    const identity = keylessAttestors({ subject: 'https://github.com/acme/*', issuer: GITHUB_ISSUER })
    // The default trusted root (Sigstore public good, embedded) does not hold the mock Fulcio's CA.
    const untrusted = await decide(app, identity, false)
    expect(untrusted.allowed).toBe(false)
    expect(untrusted.reasons[0]!.check).toBe('signature')
    const key = await decide(keyed, identity)
    expect(key.allowed).toBe(false)
    expect(key.reasons[0]!.message).toMatch(/^failed to verify image .*\/acme\/keyed:v1: verified 0 of 1 required/)
  })
})

describe('Kyverno attestations (keyless SLSA provenance)', () => {
  const provenance = (conditions: unknown, attestors?: unknown) => ({
    attestations: [
      {
        type: SLSA_V1,
        ...(attestors !== undefined ? { attestors } : {}),
        conditions,
      },
    ],
  })
  const identity = keylessAttestors({ subject: 'https://github.com/acme/*', issuer: GITHUB_ISSUER }).attestors

  it('type + conditions over the predicate: a JMESPath field and regex_match', async () => {
    const conditions = [
      {
        all: [
          { key: '{{ buildDefinition.buildType }}', operator: 'Equals', value: BUILD_TYPE },
          {
            key: "{{ regex_match('^https://github.com/acme/app/.github/workflows/', '{{ runDetails.builder.id }}') }}",
            operator: 'Equals',
            value: true,
          },
        ],
      },
    ]
    const ok = await decide(app, provenance(conditions, identity))
    expect(ok.reasons).toEqual([])
    expect(ok).toMatchObject({ allowed: true, digest: appDigest })

    const wrongType = await decide(
      app,
      provenance(
        [
          {
            all: [
              {
                key: '{{ buildDefinition.buildType }}',
                operator: 'Equals',
                value: 'https://example.com/other',
                message: 'not built by GitHub Actions',
              },
            ],
          },
        ],
        identity,
      ),
    )
    expect(wrongType.allowed).toBe(false)
    expect(wrongType.reasons[0]).toMatchObject({ check: 'attestation' })
    expect(wrongType.reasons[0]!.message).toMatch(
      new RegExp(
        `^image attestations verification failed for ${esc(app)}: .*attestation checks failed for predicate ${esc(SLSA_V1)}: .*not built by GitHub Actions`,
      ),
    )
    const otherBuilder = await decide(
      app,
      provenance(
        [
          {
            any: [
              {
                key: "{{ regex_match('^https://github.com/slsa-framework/', '{{ runDetails.builder.id }}') }}",
                operator: 'Equals',
                value: true,
              },
            ],
          },
        ],
        identity,
      ),
    )
    expect(otherBuilder.allowed).toBe(false)
  })

  it('an attestation of a type the image does not carry is denied', async () => {
    const d = await decide(app, { attestations: [{ type: 'https://slsa.dev/provenance/v0.2', attestors: identity }] })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]!.message).toContain(
      `attestations not found for predicate type https://slsa.dev/provenance/v0.2 (found: ${SLSA_V1})`,
    )
  })

  it('an attestation without attestors accepts any certificate from the trusted root CAs (and only those)', async () => {
    const conditions = [{ all: [{ key: '{{ runDetails.builder.id }}', operator: 'Equals', value: RELEASE_WORKFLOW }] }]
    const any = await decide(app, provenance(conditions))
    expect(any.reasons).toEqual([])
    expect(any.allowed).toBe(true)
    const untrusted = await decide(app, provenance(conditions), false)
    expect(untrusted.allowed).toBe(false)
    expect(untrusted.reasons[0]!.check).toBe('attestation')
  })
})

// Kyverno's keyless chainsaw tests (PROVENANCE.md #6–#14), policies verbatim. The upstream signers are re-created:
// ID-zulu signs ghcr.io/kyverno/zulu:v0.0.14, ID-slsa attests its SLSA v0.2 provenance, ID-vuln attests a vuln scan
// (PROVENANCE.md: it does not sign the SLSA statement) with the type `cosign attest --type vuln` writes,
// https://cosign.sigstore.dev/attestation/vuln/v1. The policies' `rekor.url` is never contacted: logs and CAs come
// from the trusted root, which names the local stack.
describe("Kyverno's keyless chainsaw tests, re-enacted", () => {
  const ZULU_WORKFLOW =
    'https://github.com/chipzoller/zulu/.github/workflows/slsa-generic-keyless.yaml@refs/tags/v0.0.14'
  const SLSA_GENERATOR =
    'https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/heads/main'
  const VULN_WORKFLOW = 'https://github.com/chipzoller/zulu/.github/workflows/vulnerability-scan.yaml@refs/heads/main'
  const VULN_TYPE = 'https://cosign.sigstore.dev/attestation/vuln/v1'
  let layout: OCIStore
  let zuluDigest: string

  beforeAll(async () => {
    layout = createLayoutStore(createMemoryFileSystem())
    const zulu: Reference = { registry: 'ghcr.io', repository: 'kyverno/zulu', tag: 'v0.0.14' }
    zuluDigest = await pushTinyImage(layout, zulu, 'zulu v0.0.14')
    // The same manifest as :latest, for the pod that names the image without a tag.
    expect(await pushTinyImage(layout, { ...zulu, tag: 'latest' }, 'zulu v0.0.14')).toBe(zuluDigest)
    const at: Reference = { registry: 'ghcr.io', repository: 'kyverno/zulu', digest: zuluDigest }
    const common = { store: layout, format: 'legacy', witness: sigstore.witness(), onWarning: () => {} } as const
    await signImage(at, sigstore.keylessSigner(githubClaims(ZULU_WORKFLOW)), common)
    await attestImage(at, sigstore.keylessSigner(githubClaims(SLSA_GENERATOR)), {
      ...common,
      predicateType: 'https://slsa.dev/provenance/v0.2',
      predicate: JSON.stringify({
        builder: { id: SLSA_GENERATOR },
        buildType: 'https://github.com/slsa-framework/slsa-github-generator/container@v1',
        invocation: { configSource: { uri: 'git+https://github.com/chipzoller/zulu@refs/tags/v0.0.14' } },
      }),
    })
    await attestImage(at, sigstore.keylessSigner(githubClaims(VULN_WORKFLOW)), {
      ...common,
      predicateType: VULN_TYPE,
      predicate: JSON.stringify({ scanner: { uri: 'pkg:github/aquasecurity/trivy@0.40.0', result: {} } }),
    })
  }, 60_000)

  /** The chainsaw test's Pod, decided with its policy verbatim: admitted when every image is allowed. */
  async function reenact(dir: string, podFile: string) {
    const { kyverno } = parsePolicies(chainsawPolicyText(dir), { source: `${dir}/policy.yaml` })
    const pod = chainsawPod(dir, podFile)
    const decisions = await Promise.all(
      pod.images.map((image) =>
        verifyImageAgainstPolicies(image, kyverno, {
          store: layout,
          trustedRoot: sigstore.trustedRoot,
          resource: pod.resource,
        }),
      ),
    )
    return { admitted: decisions.every((d) => d.allowed), decisions, images: pod.images }
  }

  it('#6 keyless-image-invalid-attestor: count 1 with an invalid subject first → admitted', async () => {
    const r = await reenact('standard/keyless-image-invalid-attestor', 'pod.yaml')
    expect(r.images).toEqual(['ghcr.io/kyverno/zulu:v0.0.14'])
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
  })

  it('#7 keyless-attestation-regexp: subjectRegExp / issuerRegExp on the SLSA attestation → admitted', async () => {
    const r = await reenact('standard/keyless-attestation-regexp', 'pod.yaml')
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
  })

  it('#8 keyless-attestations-multiple-subjects-3: the vuln statement was not signed by the SLSA identity → denied', async () => {
    const dir = 'standard/keyless-attestations-multiple-subjects-3'
    const r = await reenact(dir, 'pod.yaml')
    expect(r.admitted).toBe(false)
    // Verbatim, the policy's predicateType has no scheme, so no statement has that exact type (cosign writes the
    // https:// form): denied before any identity is compared.
    expect(r.decisions[0]!.reasons[0]!.message).toContain(
      'attestations not found for predicate type cosign.sigstore.dev/attestation/vuln/v1',
    )
    // With the type cosign writes, the statement is found and denied for what the test is about: its signer.
    const text = chainsawPolicyText(dir).replace(
      'predicateType: cosign.sigstore.dev/attestation/vuln/v1',
      `predicateType: ${VULN_TYPE}`,
    )
    const { kyverno } = parsePolicies(text)
    const pod = chainsawPod(dir, 'pod.yaml')
    const d = await verifyImageAgainstPolicies(pod.images[0]!, kyverno, {
      store: layout,
      trustedRoot: sigstore.trustedRoot,
      resource: pod.resource,
    })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]!.message).toContain(
      `attestation of type ${VULN_TYPE}: subject mismatch: expected ${SLSA_GENERATOR}, got ${VULN_WORKFLOW}`,
    )
  })

  it('#9 keyless-attestations-multiple-subjects-4: no attestors, regex_match over builder.id → admitted and pinned', async () => {
    const r = await reenact('standard/keyless-attestations-multiple-subjects-4', 'chainsaw-step-02-apply-1.yaml')
    expect(r.images).toEqual(['ghcr.io/kyverno/zulu:v0.0.14'])
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
    expect(r.decisions[0]!.pin).toBe(`ghcr.io/kyverno/zulu:v0.0.14@${zuluDigest}`)
  })

  it('#10–#12 counts: two keyless entries, only one signed the SLSA statement: count 1 admits, count 2 and no count deny', async () => {
    const one = await reenact(
      'standard/keyless-attestations-multiple-subjects-counts-1',
      'chainsaw-step-02-apply-1.yaml',
    )
    expect(one.decisions[0]!.reasons).toEqual([])
    expect(one.admitted).toBe(true)
    expect(one.decisions[0]!.pin).toBe(`ghcr.io/kyverno/zulu:v0.0.14@${zuluDigest}`)
    for (const dir of ['counts-2', 'counts-3']) {
      const r = await reenact(`standard/keyless-attestations-multiple-subjects-${dir}`, 'pod.yaml')
      expect(r.admitted, dir).toBe(false)
      expect(r.decisions[0]!.reasons[0]!.message, dir).toMatch(/verified 1 of 2 required attestor\(s\)/)
      expect(r.decisions[0]!.reasons[0]!.message, dir).toContain(`subject mismatch: expected ${VULN_WORKFLOW}`)
    }
  })

  it('#13 keyless-mutatedigest-verifydigest-required: admitted, the tag pinned to tag@digest', async () => {
    const r = await reenact('standard/keyless-mutatedigest-verifydigest-required', 'chainsaw-step-02-apply-1.yaml')
    expect(r.images).toEqual(['ghcr.io/kyverno/zulu:v0.0.14'])
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
    expect(r.decisions[0]!.pin).toBe(`ghcr.io/kyverno/zulu:v0.0.14@${zuluDigest}`)
  })

  it('#14 keyless-nomutatedigest-noverifydigest-norequired: an untagged name (:latest) admitted and left unchanged', async () => {
    const r = await reenact(
      'standard/keyless-nomutatedigest-noverifydigest-norequired',
      'chainsaw-step-02-apply-1.yaml',
    )
    expect(r.images).toEqual(['ghcr.io/kyverno/zulu'])
    expect(r.decisions[0]!.reasons).toEqual([])
    expect(r.admitted).toBe(true)
    expect(r.decisions[0]!.digest).toBe(zuluDigest)
    // mutateDigest: false: no patch (null, not the default pin).
    expect(r.decisions[0]!.pin).toBeNull()
  })
})

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
