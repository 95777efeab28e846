// verifyImageAgainstPolicies on real signatures and attestations (key-based, both storage forms) in an in-memory
// OCI layout: allow/deny, conditions, shared registry reads, the decision cache with an injected clock.
import { beforeAll, describe, expect, it } from 'vitest'
import { attestImage } from '../../src/image/attest.js'
import { signImage } from '../../src/image/sign.js'
import { generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import type { PrivateKey } from '../../src/keys/types.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import type { OCIStore, Reference } from '../../src/oci/types.js'
import { createPolicyCache } from '../../src/policy/cache.js'
import { loadCELEngine } from '../../src/policy/cel.js'
import { createPolicyImageCheck } from '../../src/policy/image-check.js'
import { parsePolicies } from '../../src/policy/parse.js'
import { verifyImageAgainstPolicies } from '../../src/policy/verify-policies.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'

// CEL conditions are compiled synchronously here (parsePolicies, compileCELCondition): load the engine first,
// as users of the synchronous API must.
beforeAll(() => loadCELEngine())

const repo = { registry: 'localhost', repository: 'demo/app' }
const CUSTOM = 'https://cosign.sigstore.dev/attestation/v1'

/** Counts reads, to show the registry is read once per image however many authorities look. */
function counting(store: OCIStore) {
  const counts: Record<string, number> = {}
  const bump = (k: string) => {
    counts[k] = (counts[k] ?? 0) + 1
  }
  const wrapped: OCIStore = {
    ...store,
    kind: store.kind,
    resolve: (r, o) => {
      bump('resolve')
      return store.resolve(r, o)
    },
    fetchManifest: (r, o) => {
      bump(`manifest ${r.tag ?? r.digest}`)
      return store.fetchManifest(r, o)
    },
    referrers: (r, d, o) => {
      bump('referrers')
      return store.referrers(r, d, o)
    },
    fetchBlob: (r, d, o) => {
      bump(`blob ${d}`)
      return store.fetchBlob(r, d, o)
    },
  }
  return { store: wrapped, counts }
}

async function setup(tag = 'v1') {
  const store = createLayoutStore(createMemoryFileSystem())
  const digest = await pushTinyImage(store, { ...repo, tag }, `demo ${Math.random()}`)
  return { store, digest, ref: { ...repo, tag } as Reference }
}

function keyPolicy(name: string, key: PrivateKey, extra: Record<string, unknown> = {}, glob = '**demo**') {
  return {
    apiVersion: 'policy.sigstore.dev/v1beta1',
    kind: 'ClusterImagePolicy',
    metadata: { name },
    spec: {
      images: [{ glob }],
      authorities: [{ name: 'key', key: { data: publicKeyToPEM(key.publicKey) }, ...extra }],
    },
  }
}

describe('verifyImageAgainstPolicies (key authorities, memory layout)', () => {
  it('signed image (bundle and legacy forms) is allowed at its digest; unsigned and wrong key are denied', async () => {
    const key = await generateKeyPair()
    const other = await generateKeyPair()
    const { policies } = parsePolicies([keyPolicy('signed', key), keyPolicy('other-key', other, {}, 'nomatch/**')])
    for (const format of ['bundle', 'legacy'] as const) {
      const { store, digest, ref } = await setup()
      const unsigned = await verifyImageAgainstPolicies(ref, policies, { store })
      expect(unsigned).toMatchObject({ allowed: false, digest, matched: ['signed'] })
      expect(unsigned.reasons[0]).toMatchObject({ policy: 'signed', authority: 'key', check: 'signature' })
      await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format })
      const d = await verifyImageAgainstPolicies(ref, policies, { store })
      expect(d).toMatchObject({ allowed: true, digest, reasons: [] })
      expect(d.policies[0]!.authorities[0]).toMatchObject({ passed: true, signatures: 1 })
      // The same image under the other key's policy: denied with the verifier's reason.
      const wrong = parsePolicies(keyPolicy('wrong', other)).policies
      const denied = await verifyImageAgainstPolicies(ref, wrong, { store })
      expect(denied.allowed).toBe(false)
      expect(denied.reasons[0]!.message).toMatch(/no matching signatures/)
    }
  })

  it('signatureFormat restricts the form; absent accepts either (policy-controller defaults to legacy)', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'bundle' })
    const any = parsePolicies(keyPolicy('any', key)).policies
    const legacy = parsePolicies(keyPolicy('legacy', key, { signatureFormat: 'legacy' })).policies
    const bundle = parsePolicies(keyPolicy('bundle', key, { signatureFormat: 'bundle' })).policies
    expect((await verifyImageAgainstPolicies(ref, any, { store })).allowed).toBe(true)
    expect((await verifyImageAgainstPolicies(ref, bundle, { store })).allowed).toBe(true)
    expect((await verifyImageAgainstPolicies(ref, legacy, { store })).allowed).toBe(false)
  })

  it('a key authority with ctlog requires the transparency log; insecureIgnoreTlog disables it explicitly', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    const withLog = parsePolicies(keyPolicy('log', key, { ctlog: { url: 'https://rekor.sigstore.dev' } })).policies
    const d = await verifyImageAgainstPolicies(ref, withLog, { store })
    expect(d.allowed).toBe(false)
    expect(d.reasons[0]!.message).toMatch(/transparency log/)
    const off = await verifyImageAgainstPolicies(ref, withLog, { store, insecureIgnoreTlog: true })
    expect(off.allowed).toBe(true)
    expect(off.warnings[0]!.message).toMatch(/insecureIgnoreTlog/)
  })

  it('attestation conditions (CEL) true and false, in both forms, from one read of the registry', async () => {
    const key = await generateKeyPair()
    const { store: base, ref, digest } = await setup()
    await attestImage(ref, createKeySigner(key), {
      store: base,
      tlogUpload: false,
      format: 'bundle',
      predicateType: 'custom',
      // cosign wraps a custom predicate file as {Data: <the file as text>, Timestamp}, as policy-controller's e2e does.
      predicate: 'foobar key e2e test',
    })
    await attestImage(ref, createKeySigner(key), {
      store: base,
      tlogUpload: false,
      format: 'legacy',
      predicateType: 'https://example.com/scan/v1',
      predicate: JSON.stringify({ critical: 0, high: 2 }),
    })
    await signImage(ref, createKeySigner(key), { store: base, tlogUpload: false })
    const attestation = (name: string, predicateType: string, data: string) => ({
      name,
      predicateType,
      policy: { type: 'cel', data },
    })
    const { policies } = parsePolicies([
      keyPolicy('custom-ok', key, {
        attestations: [attestation('custom', CUSTOM, 'predicate.Data == "foobar key e2e test"')],
      }),
      keyPolicy('scan-ok', key, {
        attestations: [attestation('scan', 'https://example.com/scan/v1', 'predicate.critical == 0')],
      }),
      keyPolicy('signed', key),
    ])
    const { store, counts } = counting(base)
    const ok = await verifyImageAgainstPolicies(ref, policies, { store })
    expect(ok.reasons).toEqual([])
    expect(ok).toMatchObject({ allowed: true, digest })
    expect(ok.policies.map((p) => p.authorities[0]!.attestations)).toEqual([{ custom: 1 }, { scan: 1 }, undefined])
    // verifyImage counts any verified DSSE bundle on the digest, so the attestation bundle counts as a signature too.
    expect(ok.policies[2]!.authorities[0]!.signatures).toBeGreaterThanOrEqual(1)
    // Three policies, two verifications (signatures, attestations): one referrers listing, one fetch per blob.
    expect(counts.referrers).toBe(1)
    expect(counts.resolve).toBe(1)
    for (const [k, n] of Object.entries(counts)) if (k.startsWith('blob')) expect(n, k).toBe(1)

    const strict = parsePolicies(
      keyPolicy('scan-strict', key, {
        attestations: [attestation('scan', 'https://example.com/scan/v1', 'predicate.high == 0')],
      }),
    ).policies
    const denied = await verifyImageAgainstPolicies(ref, strict, { store: base })
    expect(denied.allowed).toBe(false)
    expect(denied.reasons[0]).toMatchObject({ check: 'condition', authority: 'key' })
    expect(denied.reasons[0]!.message).toMatch(/attestation scan: condition "predicate.high == 0" evaluated to false/)
  })

  it('caches per digest and policy content; expires with the injected clock; a moved tag is re-verified', async () => {
    const key = await generateKeyPair()
    const { store: base, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store: base, tlogUpload: false })
    const { store, counts } = counting(base)
    let now = 1_000
    const cache = createPolicyCache({ ttlMs: 10_000, now: () => now })
    const { policies } = parsePolicies(keyPolicy('signed', key))
    const first = await verifyImageAgainstPolicies(ref, policies, { store, cache })
    expect(first.cached).toBeUndefined()
    const reads = counts.referrers
    const second = await verifyImageAgainstPolicies('localhost/demo/app:v1', policies, { store, cache })
    expect(second).toMatchObject({ allowed: true, cached: true, image: 'localhost/demo/app:v1' })
    expect(counts.referrers).toBe(reads)
    // An edited policy (different content) misses.
    const edited = parsePolicies(keyPolicy('signed', key, { signatureFormat: 'bundle' })).policies
    expect((await verifyImageAgainstPolicies(ref, edited, { store, cache })).cached).toBeUndefined()
    now += 10_001
    expect((await verifyImageAgainstPolicies(ref, policies, { store, cache })).cached).toBeUndefined()
    // The tag moves to an unsigned image: a new digest, so no stale allow.
    await pushTinyImage(base, ref, `moved ${Math.random()}`)
    const moved = await verifyImageAgainstPolicies(ref, policies, { store, cache })
    expect(moved).toMatchObject({ allowed: false })
  })

  it('missing image is denied with a reason; no-match images are not resolved', async () => {
    const key = await generateKeyPair()
    const { store: base } = await setup()
    const { store, counts } = counting(base)
    const { policies } = parsePolicies(keyPolicy('signed', key))
    const d = await verifyImageAgainstPolicies({ ...repo, tag: 'absent-demo' }, policies, { store })
    expect(d).toMatchObject({ allowed: false, reasons: [{ check: 'error' }] })
    expect(d.reasons[0]!.message).toMatch(/not found/)
    const none = await verifyImageAgainstPolicies('ghcr.io/other/app:v1', policies, { store, noMatchPolicy: 'allow' })
    expect(none).toMatchObject({ allowed: true, matched: [] })
    expect(counts.resolve).toBe(1)
  })

  it('KMS and secretRef keys come from caller resolvers; a missing resolver fails the authority', async () => {
    const key = await generateKeyPair()
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    const doc = (k: Record<string, unknown>) => ({
      ...keyPolicy('kms', key),
      spec: { images: [{ glob: '**demo**' }], authorities: [{ key: k }] },
    })
    const kms = parsePolicies(doc({ kms: 'gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k' })).policies
    const seen: string[] = []
    const resolveKMSKey = async (uri: string) => {
      seen.push(uri)
      return key.publicKey
    }
    expect((await verifyImageAgainstPolicies(ref, kms, { store, resolveKMSKey })).allowed).toBe(true)
    expect(seen).toEqual(['gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k'])
    const noResolver = await verifyImageAgainstPolicies(ref, kms, { store })
    expect(noResolver.reasons[0]).toMatchObject({ check: 'key' })
    const secret = parsePolicies(doc({ secretRef: { name: 'cosign-pub' } })).policies
    const resolveSecretKey = async () => [key.publicKey]
    expect((await verifyImageAgainstPolicies(ref, secret, { store, resolveSecretKey })).allowed).toBe(true)
  })

  it('createPolicyImageCheck: the admission contract, cached verdicts, policies from a getter', async () => {
    const key = await generateKeyPair()
    const { store, ref, digest } = await setup()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    let current = parsePolicies(keyPolicy('signed', key)).policies
    const decisions: string[] = []
    const check = createPolicyImageCheck(() => current, {
      store,
      noMatchPolicy: 'warn',
      onDecision: (d) => decisions.push(`${d.image} ${d.allowed}`),
    })
    const [a, b] = await Promise.all([check('localhost/demo/app:v1', {}), check('localhost/demo/app:v1', {})])
    expect(a).toEqual({ image: 'localhost/demo/app:v1', allowed: true, digest, warnings: [], reasons: [] })
    expect(b).toEqual(a)
    expect(await check('localhost/demo/app:v1', {})).toMatchObject({ allowed: true, cached: true })
    expect(await check('ghcr.io/elsewhere/x:1', { namespace: 'ns' })).toEqual({
      image: 'ghcr.io/elsewhere/x:1',
      allowed: true,
      warnings: ['ghcr.io/elsewhere/x:1: match: no matching policies'],
      reasons: [],
    })
    current = parsePolicies(keyPolicy('static-fail', key)).policies.map((p) => ({
      ...p,
      authorities: [{ name: 'deny', static: { action: 'fail' as const, message: 'frozen' } }],
    }))
    const denied = await check('localhost/demo/app:v1', {})
    expect(denied).toMatchObject({ allowed: false })
    expect(denied.reasons).toEqual([
      'localhost/demo/app:v1: policy static-fail, authority deny: static: disallowed by static policy: frozen',
    ])
    expect(decisions.length).toBe(5)
  })
})
