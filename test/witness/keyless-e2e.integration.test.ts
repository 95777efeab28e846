// Keyless signing end to end: an identity token → mock Fulcio certificate (verified before use) → signature logged
// in a faithful local Rekor (v1, or v2 with a TSA) and timestamped by a real RFC 3161 TSA (`openssl ts`) → stored
// in a real docker-registry (both forms) or written as a bundle → verified by identity and issuer, by countersign
// and, for blob and attestation bundles, by sigstore-js. Wrong identities, issuers, entries and SETs are rejected
// with their codes; failing services leave the registry untouched.
import { bundleFromJSON } from '@sigstore/bundle'
import { TrustedRoot as TrustedRootMessage } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attestBlob } from '../../src/blob/attest-blob.js'
import { signBlob } from '../../src/blob/sign-blob.js'
import { verifyBlob } from '../../src/blob/verify-blob.js'
import { createFulcioClient } from '../../src/fulcio/client.js'
import { createKeylessSigner } from '../../src/fulcio/keyless-signer.js'
import { attestImage } from '../../src/image/attest.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { verifyImageAttestations } from '../../src/image/verify-attestation.js'
import { fromBase64, toBase64 } from '../../src/internal/bytes.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { OCIStore, Reference } from '../../src/oci/types.js'
import { createRekorClient } from '../../src/rekor/client.js'
import { createRekorV2Client } from '../../src/rekor/client-v2.js'
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
} from '../../src/signature/annotations.js'
import { createTimestampClient } from '../../src/timestamp/client.js'
import type { TrustedRoot } from '../../src/trust/trusted-root.js'
import { verifyBundle } from '../../src/verifier/verify-bundle.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER } from '../support/sigstore-mock.js'
import { type LocalSigstore, startLocalSigstore } from '../support/sigstore-stack.js'

let registry: TestRegistry
let sigstore: LocalSigstore
let trustedRoot: TrustedRoot
let store: OCIStore

const identity = { subject: MOCK_IDENTITY, issuer: MOCK_OIDC_ISSUER }

beforeAll(async () => {
  // The mock's Fulcio CA and CT log; our faithful logs (v1 and v2); the real openssl TSA.
  ;[registry, sigstore] = await Promise.all([startRegistry(), startLocalSigstore({ rekorV2: true })])
  trustedRoot = sigstore.trustedRoot
  store = createRegistryClient({ plainHTTP: true })
}, 60_000)

afterAll(async () => {
  await Promise.all([registry?.stop(), sigstore?.close()])
})

const keyless = (claims?: Record<string, unknown>) => sigstore.keylessSigner(claims)
const witnessV1 = () => sigstore.witness()
const witnessV2 = () => sigstore.witnessV2()

async function image(name: string): Promise<Reference> {
  const repo = { registry: registry.host, repository: `keyless/${name}` }
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, `keyless ${name} ${Math.random()}`)
  return { ...repo, digest }
}

function sigstoreJs(bundle: Uint8Array, artifact: Uint8Array) {
  const trust = toTrustMaterial(TrustedRootMessage.fromJSON(JSON.parse(sigstore.trustedRootJSON)))
  return new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }).verify(
    toSignedEntity(bundleFromJSON(JSON.parse(new TextDecoder().decode(bundle))), Buffer.from(artifact)),
    { subjectAlternativeName: MOCK_IDENTITY, extensions: { issuer: MOCK_OIDC_ISSUER } },
  )
}

describe('keyless signing against local Fulcio, Rekor and TSA', () => {
  it('image, bundle form: verifies by identity and issuer; a wrong identity or issuer is rejected', async () => {
    const ref = await image('bundle')
    const signer = keyless()
    expect(await signer.identity()).toMatchObject({ subject: MOCK_IDENTITY, issuer: MOCK_OIDC_ISSUER })
    const signed = await signImage(ref, signer, { store, witness: witnessV1() })
    const bundle = JSON.parse(new TextDecoder().decode(signed.bundle!))
    expect(bundle.verificationMaterial.certificate.rawBytes).toBeTypeOf('string')
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion.kind).toBe('dsse')
    expect(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps).toHaveLength(1)
    const result = await verifyImage(ref, { store, keys: [], identity, trustedRoot })
    expect(result.verified[0]).toMatchObject({ format: 'bundle', identity: { subject: MOCK_IDENTITY } })
    for (const wrong of [
      { subject: 'mallory@example.com', issuer: MOCK_OIDC_ISSUER },
      { subject: MOCK_IDENTITY, issuer: 'https://token.actions.githubusercontent.com' },
    ]) {
      await expect(verifyImage(ref, { store, keys: [], identity: wrong, trustedRoot })).rejects.toMatchObject({
        code: 'ERR_NO_MATCHING_SIGNATURES',
      })
    }
  })

  it('image, legacy form: certificate, chain, Rekor bundle and RFC 3161 annotations; verifies by identity', async () => {
    const ref = await image('legacy')
    const signed = await signImage(ref, keyless(), { store, witness: witnessV1(), format: 'legacy' })
    const { manifest } = await store.fetchManifest(signed.signatureReference)
    const ann = (manifest as unknown as { layers: { annotations: Record<string, string> }[] }).layers[0]!.annotations
    expect(ann[CERTIFICATE_ANNOTATION]).toMatch(/^-----BEGIN CERTIFICATE-----/)
    expect(ann[CHAIN_ANNOTATION]).toBe('')
    expect(JSON.parse(ann[BUNDLE_ANNOTATION]!).Payload.logID).toBe(sigstore.rekor.logID)
    expect(Object.keys(JSON.parse(ann[RFC3161_TIMESTAMP_ANNOTATION]!))).toEqual(['SignedRFC3161Timestamp'])
    const result = await verifyImage(ref, { store, keys: [], identity, trustedRoot, signatureFormat: 'legacy' })
    expect(result.verified[0]).toMatchObject({ format: 'legacy', identity: { subject: MOCK_IDENTITY } })
    await expect(
      verifyImage(ref, {
        store,
        keys: [],
        identity,
        trustedRoot,
        signatureFormat: 'legacy',
        useSignedTimestamps: true,
      }),
    ).resolves.toBeDefined()
    await expect(
      verifyImage(ref, { store, keys: [], identity: { ...identity, subject: 'x@example.com' }, trustedRoot }),
    ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
  })

  it('image attestations in both forms verify by identity', async () => {
    for (const format of ['bundle', 'legacy'] as const) {
      const ref = await image(`att-${format}`)
      await attestImage(ref, keyless(), {
        store,
        witness: witnessV1(),
        format,
        predicateType: 'https://example.com/p',
        predicate: '{"ok":true}',
      })
      const result = await verifyImageAttestations(ref, { store, keys: [], identity, trustedRoot })
      expect(result.verified[0]).toMatchObject({ format, identity: { subject: MOCK_IDENTITY } })
    }
  })

  it('blob and blob attestation bundles (Rekor v1 + TSA) verify with countersign and with sigstore-js', async () => {
    const data = new TextEncoder().encode(`keyless blob ${Math.random()}`)
    const signed = await signBlob(data, keyless(), { witness: witnessV1() })
    await expect(verifyBlob(data, { keys: [], bundle: signed.bundle, identity, trustedRoot })).resolves.toBeDefined()
    expect(() => sigstoreJs(signed.bundle, data)).not.toThrow()
    expect(() => sigstoreJs(signed.bundle, new TextEncoder().encode('tampered'))).toThrow()

    const attested = await attestBlob(data, keyless(), {
      subjectName: 'blob.txt',
      predicateType: 'slsaprovenance1',
      predicate: JSON.stringify({ buildDefinition: { buildType: 'https://example.com/b' }, runDetails: {} }),
      witness: witnessV1(),
    })
    await expect(verifyBundle(attested.bundle, data, { trustedRoot, policy: { identity } })).resolves.toBeDefined()
    expect(() => sigstoreJs(attested.bundle, data)).not.toThrow()
  })

  it('Rekor v2 + TSA: a keyless blob bundle verifies with countersign and sigstore-js; v2 without a TSA is refused', async () => {
    const data = new TextEncoder().encode(`v2 blob ${Math.random()}`)
    const signed = await signBlob(data, keyless(), { witness: witnessV2() })
    const entry = JSON.parse(new TextDecoder().decode(signed.bundle)).verificationMaterial.tlogEntries[0]
    expect(entry.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.2' })
    await expect(verifyBlob(data, { keys: [], bundle: signed.bundle, identity, trustedRoot })).resolves.toBeDefined()
    expect(() => sigstoreJs(signed.bundle, data)).not.toThrow()
    await expect(
      signBlob(data, keyless(), {
        witness: { trustedRoot, transparencyLogs: [createRekorV2Client({ url: sigstore.rekorV2!.url })] },
      }),
    ).rejects.toMatchObject({ code: 'ERR_TLOG_REQUIRED' })
  })

  it('bundles with a swapped Rekor entry or a tampered SET are rejected at verification', async () => {
    const data = new TextEncoder().encode(`swap ${Math.random()}`)
    const other = new TextEncoder().encode(`other ${Math.random()}`)
    const a = JSON.parse(new TextDecoder().decode((await signBlob(data, keyless(), { witness: witnessV1() })).bundle))
    const b = JSON.parse(new TextDecoder().decode((await signBlob(other, keyless(), { witness: witnessV1() })).bundle))
    const swapped = {
      ...a,
      verificationMaterial: { ...a.verificationMaterial, tlogEntries: b.verificationMaterial.tlogEntries },
    }
    const set = fromBase64(a.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp)
    set[set.length - 3]! ^= 1
    const tampered = structuredClone(a)
    tampered.verificationMaterial.tlogEntries[0].inclusionPromise.signedEntryTimestamp = toBase64(set)
    const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x))
    await expect(verifyBundle(enc(swapped), data, { trustedRoot, policy: { identity } })).rejects.toMatchObject({
      code: 'ERR_TLOG_ENTRY_MISMATCH',
    })
    await expect(verifyBundle(enc(tampered), data, { trustedRoot, policy: { identity } })).rejects.toMatchObject({
      code: 'ERR_TLOG_INCLUSION_PROOF',
    })
  })

  it('an expired certificate without a signed timestamp is rejected; the same signature with a timestamp verifies', async () => {
    const data = new TextEncoder().encode(`expiry ${Math.random()}`)
    // No log, no TSA: nothing proves when the signature was made.
    const bare = await signBlob(data, keyless(), { tlogUpload: false })
    const later = new Date(Date.now() + 60 * 60 * 1000)
    await expect(
      verifyBundle(bare.bundle, data, {
        trustedRoot,
        policy: { identity },
        tlogThreshold: 0,
        useCurrentTime: true,
        now: later,
      }),
    ).rejects.toMatchObject({ code: 'ERR_CERT_EXPIRED' })
    // Without the current time as a fallback there is no verified time at all.
    await expect(
      verifyBundle(bare.bundle, data, { trustedRoot, policy: { identity }, tlogThreshold: 0, now: later }),
    ).rejects.toBeDefined()
    const stamped = await signBlob(data, keyless(), {
      tlogUpload: false,
      witness: { trustedRoot, timestampAuthorities: [createTimestampClient({ url: sigstore.tsa.url })] },
    })
    await expect(
      verifyBundle(stamped.bundle, data, {
        trustedRoot,
        policy: { identity },
        tlogThreshold: 0,
        signedTimestampThreshold: 1,
        now: later,
      }),
    ).resolves.toBeDefined()
  })

  it('Fulcio 500 and a TSA that is down fail the signing with clear codes and write nothing', async () => {
    const ref = await image('faults')
    sigstore.fulcio.failNext('/api/v2/signingCert', 20)
    const broken = createKeylessSigner({
      fulcio: createFulcioClient({ url: sigstore.fulcio.url, retry: { attempts: 1 }, sleep: async () => {} }),
      identityToken: sigstore.fulcio.identityToken(),
      trustedRoot,
    })
    await expect(signImage(ref, broken, { store, witness: witnessV1() })).rejects.toMatchObject({
      code: 'ERR_FULCIO_HTTP',
    })
    sigstore.fulcio.failNext('/api/v2/signingCert', 0)
    const downTSA = createTimestampClient({ url: 'http://127.0.0.1:9/api/v1/timestamp', retry: { attempts: 0 } })
    await expect(
      signImage(ref, keyless(), {
        store,
        witness: {
          trustedRoot,
          transparencyLogs: [createRekorClient({ url: sigstore.rekor.url })],
          timestampAuthorities: [downTSA],
        },
      }),
    ).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    await expect(verifyImage(ref, { store, keys: [], identity, trustedRoot })).rejects.toMatchObject({
      code: 'ERR_NO_SIGNATURES',
    })
  })
})
