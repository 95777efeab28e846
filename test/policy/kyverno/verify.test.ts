// verifyImageAgainstKyverno on real key signatures and attestations in an in-memory OCI layout: Kyverno's
// semantics for counts, multi-key PEMs, the transparency log default, skip lists, Audit/Enforce, the validate phase
// (verifyDigest, required), attestation conditions, annotations, and the mix with ClusterImagePolicies.
import { describe, expect, it } from 'vitest'
import { attestImage } from '../../../src/image/attest.js'
import { signImage } from '../../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../../src/keys/index.js'
import type { PrivateKey } from '../../../src/keys/types.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import type { Reference } from '../../../src/oci/types.js'
import { createPolicyCache } from '../../../src/policy/cache.js'
import { parsePolicies } from '../../../src/policy/parse.js'
import { verifyImageAgainstPolicies } from '../../../src/policy/verify-policies.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import { pushTinyImage } from '../../support/oci-image.js'

const repo = { registry: 'localhost', repository: 'demo/app' }
const IMAGE = 'localhost/demo/app:v1'

async function setup() {
  const store = createLayoutStore(createMemoryFileSystem())
  const ref: Reference = { ...repo, tag: 'v1' }
  const digest = await pushTinyImage(store, ref, `demo ${Math.random()}`)
  return { store, digest, ref }
}

function clusterPolicy(
  name: string,
  verifyImages: readonly Record<string, unknown>[],
  spec: Record<string, unknown> = {},
) {
  return {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name },
    spec: {
      validationFailureAction: 'Enforce',
      ...spec,
      rules: [{ name: 'check-image', match: { any: [{ resources: { kinds: ['Pod'] } }] }, verifyImages }],
    },
  }
}

function keyEntry(
  keys: readonly PrivateKey[],
  extra: Record<string, unknown> = {},
  entry: Record<string, unknown> = {},
) {
  return {
    imageReferences: ['localhost/demo/*'],
    attestors: [
      {
        ...extra,
        entries: [
          { keys: { publicKeys: keys.map((k) => publicKeyToPEM(k.publicKey)).join(''), rekor: { ignoreTlog: true } } },
        ],
      },
    ],
    ...entry,
  }
}

function kyverno(doc: unknown) {
  const parsed = parsePolicies(doc)
  expect(parsed.policies).toEqual([])
  return parsed.kyverno
}

describe('Kyverno verifyImages with keys', () => {
  it('the field guide shape: signed is allowed at its digest, unsigned and wrong key are denied', async () => {
    const key = await generateKeyPair()
    const other = await generateKeyPair()
    const { store, digest, ref } = await setup()
    const policies = kyverno(clusterPolicy('signed-images', [keyEntry([key], { count: 1 })]))
    const unsigned = await verifyImageAgainstPolicies(IMAGE, policies, { store })
    expect(unsigned.allowed).toBe(false)
    expect(unsigned.matched).toEqual(['signed-images'])
    expect(unsigned.reasons[0]).toMatchObject({
      policy: 'signed-images',
      authority: 'check-image.verifyImages[0]',
      check: 'signature',
    })
    expect(unsigned.reasons[0]!.message).toMatch(
      /^failed to verify image localhost\/demo\/app:v1: .*\.attestors\[0\]\.entries\[0\]\.keys: /,
    )

    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const signed = await verifyImageAgainstPolicies(IMAGE, policies, { store })
    expect(signed).toMatchObject({ allowed: true, digest, reasons: [], warnings: [] })
    expect(signed.policies[0]).toMatchObject({ name: 'signed-images/check-image', mode: 'enforce', passed: true })

    const wrong = kyverno(clusterPolicy('other-key', [keyEntry([other])]))
    expect((await verifyImageAgainstPolicies(IMAGE, wrong, { store })).allowed).toBe(false)
  })

  it('needs a transparency log entry unless rekor.ignoreTlog (Kyverno default), or the caller turns the log off', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const entry = {
      imageReferences: ['localhost/demo/*'],
      attestors: [{ entries: [{ keys: { publicKeys: publicKeyToPEM(key.publicKey) } }] }],
    }
    const policies = kyverno(clusterPolicy('tlog', [entry]))
    const d = await verifyImageAgainstPolicies(IMAGE, policies, { store })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]!.message).toMatch(/transparency log|tlog|Rekor/i)
    expect((await verifyImageAgainstPolicies(IMAGE, policies, { store, insecureIgnoreTlog: true })).allowed).toBe(true)
  })

  it('a publicKeys PEM with two keys needs both without count, one with count: 1', async () => {
    const a = await generateKeyPair()
    const b = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(a), { store, tlogUpload: false, format: 'legacy' })
    const all = kyverno(clusterPolicy('both', [keyEntry([a, b])]))
    expect(all[0]!.rules[0]!.verifyImages[0]!.attestors[0]!.entries).toHaveLength(2)
    const d = await verifyImageAgainstPolicies(IMAGE, all, { store })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]!.message).toMatch(/verified 1 of 2 required attestor\(s\)/)
    const one = kyverno(clusterPolicy('one', [keyEntry([a, b], { count: 1 })]))
    expect((await verifyImageAgainstPolicies(IMAGE, one, { store })).allowed).toBe(true)
    await signImage(ref, createKeySigner(b), { store, tlogUpload: false, format: 'legacy' })
    expect((await verifyImageAgainstPolicies(IMAGE, all, { store })).allowed).toBe(true)
  })

  it('annotations must be in a verified payload', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      format: 'legacy',
      annotations: { env: 'prod' },
    })
    const entry = (env: string) => ({
      imageReferences: ['localhost/demo/*'],
      attestors: [
        {
          entries: [
            {
              keys: { publicKeys: publicKeyToPEM(key.publicKey), rekor: { ignoreTlog: true } },
              annotations: { env },
            },
          ],
        },
      ],
    })
    expect(
      (await verifyImageAgainstPolicies(IMAGE, kyverno(clusterPolicy('p', [entry('prod')])), { store })).allowed,
    ).toBe(true)
    expect(
      (await verifyImageAgainstPolicies(IMAGE, kyverno(clusterPolicy('s', [entry('staging')])), { store })).allowed,
    ).toBe(false)
  })
})

describe('Kyverno storage forms', () => {
  it('type Cosign reads .sig tags (as Kyverno), SigstoreBundle reads bundle referrers', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'bundle' })
    const cosign = kyverno(clusterPolicy('cosign', [keyEntry([key])]))
    const c = await verifyImageAgainstPolicies(IMAGE, cosign, { store })
    expect(c.allowed).toBe(false)
    const bundle = kyverno(clusterPolicy('bundle', [keyEntry([key], {}, { type: 'SigstoreBundle' })]))
    expect((await verifyImageAgainstPolicies(IMAGE, bundle, { store })).allowed).toBe(true)
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    expect((await verifyImageAgainstPolicies(IMAGE, cosign, { store })).allowed).toBe(true)
    expect(() => parsePolicies(clusterPolicy('oci11', [keyEntry([key], {}, { cosignOCI11: true })]))).toThrow(
      /cosignOCI11: not supported by countersign/,
    )
  })
})

describe('Kyverno rule semantics', () => {
  it('an image no rule matches is allowed (Kyverno), unless noMatchPolicy says otherwise', async () => {
    const key = await generateKeyPair()
    const { store } = await setup()
    const policies = kyverno(clusterPolicy('elsewhere', [{ ...keyEntry([key]), imageReferences: ['ghcr.io/acme/*'] }]))
    const d = await verifyImageAgainstPolicies(IMAGE, policies, { store })
    expect(d).toMatchObject({ allowed: true, matched: [], reasons: [], warnings: [] })
    const denied = await verifyImageAgainstPolicies(IMAGE, policies, { store, noMatchPolicy: 'deny' })
    expect(denied.allowed).toBe(false)
    expect(denied.reasons[0]!.message).toBe('no matching policies')
  })

  it('imageReferences match the normalised name: a short docker.io name needs the registry in the pattern', async () => {
    const key = await generateKeyPair()
    const { store } = await setup()
    const policies = kyverno(
      clusterPolicy('dockerhub', [{ ...keyEntry([key]), imageReferences: ['docker.io/nginx:*'] }]),
    )
    // `nginx` is docker.io/nginx:latest to Kyverno: matched (and denied: the store has no such image).
    const d = await verifyImageAgainstPolicies('nginx', policies, { store })
    expect(d.matched).toEqual(['dockerhub'])
    expect(d.allowed).toBe(false)
    const bare = kyverno(clusterPolicy('bare', [{ ...keyEntry([key]), imageReferences: ['nginx:*'] }]))
    expect((await verifyImageAgainstPolicies('nginx', bare, { store })).matched).toEqual([])
  })

  it('skipImageReferences skip with a warning; Audit failures are warnings', async () => {
    const key = await generateKeyPair()
    const { store } = await setup()
    const skipped = kyverno(
      clusterPolicy('skip', [{ ...keyEntry([key]), skipImageReferences: ['localhost/demo/app:*'] }]),
    )
    const s = await verifyImageAgainstPolicies(IMAGE, skipped, { store })
    expect(s.allowed).toBe(true)
    expect(s.warnings[0]!.message).toMatch(/^skipping image reference localhost\/demo\/app:v1/)
    const audit = kyverno(
      clusterPolicy('audit', [keyEntry([key], {}, { mutateDigest: false })], { validationFailureAction: 'Audit' }),
    )
    const a = await verifyImageAgainstPolicies(IMAGE, audit, { store })
    expect(a.allowed).toBe(true)
    expect(a.policies[0]!.mode).toBe('warn')
    expect(a.warnings[0]!.check).toBe('signature')
  })

  it('refuses what Kyverno refuses: Audit with mutateDigest left on, Notary, keyless without rekor or roots', () => {
    expect(() =>
      parsePolicies(clusterPolicy('a', [{ imageReferences: ['*'] }], { validationFailureAction: 'Audit' })),
    ).toThrow(/mutateDigest must be set to false for 'Audit' failure action/)
    expect(() => parsePolicies(clusterPolicy('n', [{ type: 'Notary', imageReferences: ['*'] }]))).toThrow(
      /type: Notary is not supported by countersign/,
    )
    expect(() =>
      parsePolicies(
        clusterPolicy('k', [
          { imageReferences: ['*'], attestors: [{ entries: [{ keyless: { subject: 'a', issuer: 'b' } }] }] },
        ]),
      ),
    ).toThrow(/Either Rekor URL or roots are required/)
  })

  it('the validate phase: verifyDigest without mutateDigest needs a digest; required needs a verification', async () => {
    const key = await generateKeyPair()
    const { store, ref, digest } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const noMutate = kyverno(clusterPolicy('pin', [keyEntry([key], {}, { mutateDigest: false })]))
    const tagged = await verifyImageAgainstPolicies(IMAGE, noMutate, { store })
    expect(tagged.allowed).toBe(false)
    expect(tagged.reasons[0]!.message).toBe('missing digest for localhost/demo/app:v1')
    expect((await verifyImageAgainstPolicies(`localhost/demo/app@${digest}`, noMutate, { store })).allowed).toBe(true)
    // An entry with nothing to verify fails `required` (Kyverno records no verification for it).
    const digestOnly = kyverno(clusterPolicy('digest-only', [{ imageReferences: ['localhost/demo/*'] }]))
    const d = await verifyImageAgainstPolicies(IMAGE, digestOnly, { store })
    expect(d.reasons.map((r) => r.message)).toEqual(['unverified image localhost/demo/app:v1'])
    const notRequired = kyverno(clusterPolicy('nr', [{ imageReferences: ['localhost/demo/*'], required: false }]))
    expect((await verifyImageAgainstPolicies(IMAGE, notRequired, { store })).allowed).toBe(true)
  })

  it('with ClusterImagePolicies: each decides what it matches; an image neither matches is denied by default', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const cip = {
      apiVersion: 'policy.sigstore.dev/v1beta1',
      kind: 'ClusterImagePolicy',
      metadata: { name: 'cip' },
      spec: { images: [{ glob: 'ghcr.io/**' }], authorities: [{ key: { data: publicKeyToPEM(key.publicKey) } }] },
    }
    const parsed = parsePolicies([cip, clusterPolicy('kyv', [keyEntry([key])])])
    const all = [...parsed.policies, ...parsed.kyverno]
    const d = await verifyImageAgainstPolicies(IMAGE, all, { store })
    expect(d).toMatchObject({ allowed: true, matched: ['kyv'] })
    const none = await verifyImageAgainstPolicies('quay.io/x/y:1', all, { store })
    expect(none.allowed).toBe(false)
    expect(none.reasons[0]!.message).toBe('no matching policies')
  })

  it('caches decisions per digest, policy and resource', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const cache = createPolicyCache({ ttlMs: 10_000 })
    const policies = kyverno(clusterPolicy('c', [keyEntry([key])]))
    const first = await verifyImageAgainstPolicies(IMAGE, policies, { store, cache })
    expect(first.cached).toBeUndefined()
    const second = await verifyImageAgainstPolicies(IMAGE, policies, { store, cache })
    expect(second).toMatchObject({ allowed: true, cached: true })
    // useCache: false verifies every time.
    const fresh = kyverno(clusterPolicy('fresh', [keyEntry([key], {}, { useCache: false })]))
    await verifyImageAgainstPolicies(IMAGE, fresh, { store, cache })
    expect((await verifyImageAgainstPolicies(IMAGE, fresh, { store, cache })).cached).toBeUndefined()
  })
})

describe('Kyverno attestations', () => {
  it('conditions over the predicate (merged at the context root), every statement of the type', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await attestImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      format: 'legacy',
      predicateType: 'https://example.com/scan/v1',
      predicate: JSON.stringify({ critical: 0, high: 2, scanner: { name: 'trivy' } }),
    })
    const attestation = (conditions: unknown) => ({
      imageReferences: ['localhost/demo/*'],
      attestations: [
        {
          type: 'https://example.com/scan/v1',
          attestors: [
            { entries: [{ keys: { publicKeys: publicKeyToPEM(key.publicKey), rekor: { ignoreTlog: true } } }] },
          ],
          conditions,
        },
      ],
    })
    const pass = kyverno(
      clusterPolicy('scan', [
        attestation([
          {
            all: [
              { key: '{{ critical }}', operator: 'Equals', value: 0 },
              { key: '{{ scanner.name }}', operator: 'AnyIn', value: ['trivy', 'grype'] },
            ],
          },
        ]),
      ]),
    )
    expect((await verifyImageAgainstPolicies(IMAGE, pass, { store })).allowed).toBe(true)
    const fail = kyverno(
      clusterPolicy('scan', [
        attestation([{ all: [{ key: '{{ high }}', operator: 'LessThan', value: 1, message: 'too many highs' }] }]),
      ]),
    )
    const d = await verifyImageAgainstPolicies(IMAGE, fail, { store })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]!.check).toBe('attestation')
    expect(d.reasons[0]!.message).toMatch(/too many highs/)
    // A missing field is an error in Kyverno's JMESPath, so the condition fails closed.
    const missing = kyverno(
      clusterPolicy('scan', [attestation([{ all: [{ key: '{{ nothere.x }}', operator: 'Equals', value: 'y' }] }])]),
    )
    expect((await verifyImageAgainstPolicies(IMAGE, missing, { store })).allowed).toBe(false)
    // Another predicate type is not found.
    const other = kyverno(
      clusterPolicy('scan', [
        {
          ...attestation([]),
          attestations: [{ ...attestation([]).attestations[0], type: 'https://slsa.dev/provenance/v1' }],
        },
      ]),
    )
    const o = await verifyImageAgainstPolicies(IMAGE, other, { store })
    expect(o.allowed).toBe(false)
    expect(o.reasons[0]!.message).toMatch(
      /attestations not found for predicate type https:\/\/slsa.dev\/provenance\/v1/,
    )
  })

  it('validate.deny: conditions over named attestations deny when they hold, and when they cannot be evaluated', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    for (const [type, predicate] of [
      ['https://cyclonedx.org/bom', { bomFormat: 'CycloneDX', metadata: { timestamp: '2026-01-02T00:00:00Z' } }],
      ['https://example.com/scan/v1', { descriptor: { timestamp: '2026-01-01T00:00:00Z' } }],
    ] as const) {
      await attestImage(ref, createKeySigner(key), {
        store,
        tlogUpload: false,
        format: 'legacy',
        predicateType: type,
        predicate: JSON.stringify(predicate),
      })
    }
    const attestor = [
      { entries: [{ keys: { publicKeys: publicKeyToPEM(key.publicKey), rekor: { ignoreTlog: true } } }] },
    ]
    const entry = (deny: unknown) => ({
      imageReferences: ['localhost/demo/*'],
      attestations: [
        { name: 'sbom', type: 'https://cyclonedx.org/bom', attestors: attestor },
        { name: 'scan', type: 'https://example.com/scan/v1', attestors: attestor },
      ],
      validate: { message: 'the scan must be newer than the SBOM', deny: { conditions: deny } },
    })
    // Kyverno's own chainsaw shape: the SBOM must be CycloneDX and the scan must come after it.
    const newer = {
      any: [
        { key: '{{ sbom.bomFormat }}', operator: 'NotEquals', value: 'CycloneDX' },
        {
          key: "{{ time_after('{{ sbom.metadata.timestamp }}', '{{ scan.descriptor.timestamp }}') }}",
          operator: 'Equals',
          value: true,
        },
      ],
    }
    const d = await verifyImageAgainstPolicies(IMAGE, kyverno(clusterPolicy('deny', [entry(newer)])), { store })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]).toMatchObject({
      check: 'condition',
      message: 'validation in verifyImages failed: the scan must be newer than the SBOM',
    })
    const fine = { any: [{ key: '{{ sbom.bomFormat }}', operator: 'NotEquals', value: 'CycloneDX' }] }
    expect(
      (await verifyImageAgainstPolicies(IMAGE, kyverno(clusterPolicy('ok', [entry(fine)])), { store })).allowed,
    ).toBe(true)
    // The older form (a list: all must hold) and a condition that cannot be evaluated: denied.
    const broken = [{ key: '{{ nothere.x }}', operator: 'Equals', value: 'y' }]
    const b = await verifyImageAgainstPolicies(IMAGE, kyverno(clusterPolicy('broken', [entry(broken)])), { store })
    expect(b.allowed).toBe(false)
    expect(b.reasons[0]!.message).toMatch(
      /^validation in verifyImages failed: the scan must be newer than the SBOM; failed to substitute/,
    )
  })
})
