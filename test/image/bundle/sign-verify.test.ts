import { describe, expect, it } from 'vitest'
import { COSIGN_SIGN_PREDICATE_TYPE, parseStatement } from '../../../src/attestation/statement.js'
import { parseBundle } from '../../../src/bundle/bundle.js'
import { dssePAE } from '../../../src/dsse/pae.js'
import { signImage } from '../../../src/image/sign.js'
import { verifyImage } from '../../../src/image/verify.js'
import { generateKeyPair, keyHint, verifySignature } from '../../../src/keys/index.js'
import { sha256Digest } from '../../../src/oci/digest.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { BUNDLE_V03_MEDIA_TYPE } from '../../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import { listReferrers, pushReferrer } from '../../../src/oci/referrers.js'
import type { Reference } from '../../../src/oci/types.js'
import { buildBundleReferrerManifest } from '../../../src/signature/bundle-referrer.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import { pushTinyImage } from '../../support/oci-image.js'

const repo = { registry: 'localhost', repository: 'app' }
const dec = new TextDecoder()

async function setup() {
  const store = createLayoutStore(createMemoryFileSystem())
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, 'hello')
  return { store, digest, ref: { ...repo, tag: 'v1' } as Reference }
}

describe('signImage / verifyImage (bundle referrers, in a memory layout)', () => {
  it('writes cosign v3 bytes: statement, DSSE, bundle v0.3 with the key hint, referrer manifest', async () => {
    const { store, digest, ref } = await setup()
    const key = await generateKeyPair()
    const created = new Date('2025-10-28T04:07:47.123Z')
    const signed = await signImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      annotations: { env: 'prod' },
      created,
    })
    expect(signed.format).toBe('bundle')
    const hex = digest.slice(7)
    expect(dec.decode(signed.payload)).toBe(
      `{"_type":"https://in-toto.io/Statement/v1","subject":[{"digest":{"sha256":"${hex}"},"annotations":{"env":"prod"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{}}`,
    )
    expect(
      await verifySignature(key.publicKey, dssePAE('application/vnd.in-toto+json', signed.payload), signed.signature),
    ).toBe(true)
    const bundleText = dec.decode(signed.bundle!)
    expect(bundleText).toMatch(
      new RegExp(
        `^\\{"mediaType":"application/vnd\\.dev\\.sigstore\\.bundle\\.v0\\.3\\+json","verificationMaterial":\\{"publicKey":\\{"hint":"${keyHint(key.publicKey).replace(/[+/]/g, '\\$&')}"\\}\\},"dsseEnvelope":\\{"payload":"[A-Za-z0-9+/=]+","payloadType":"application/vnd\\.in-toto\\+json","signatures":\\[\\{"sig":"[A-Za-z0-9+/=]+"\\}\\]\\}\\}$`,
      ),
    )
    const referrers = await listReferrers(store, repo, digest)
    expect(referrers).toHaveLength(1)
    expect(referrers[0]!.artifactType).toBe(BUNDLE_V03_MEDIA_TYPE)
    const manifest = await store.fetchManifest({ ...repo, digest: referrers[0]!.digest })
    const subject = await store.resolve({ ...repo, digest })
    const bundleDigest = await sha256Digest(signed.bundle!)
    expect(dec.decode(manifest.bytes)).toBe(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' +
        '"config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"},' +
        `"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","size":${signed.bundle!.length},"digest":"${bundleDigest}"}],` +
        '"annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1","org.opencontainers.image.created":"2025-10-28T04:07:47Z"},' +
        `"subject":{"mediaType":"${subject.mediaType}","size":${subject.size},"digest":"${digest}"},` +
        '"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json"}',
    )
    expect(signed.signatureManifestDigest).toBe(manifest.descriptor.digest)

    const result = await verifyImage(ref, {
      store,
      keys: [key.publicKey],
      insecureIgnoreTlog: true,
      annotations: { env: 'prod' },
    })
    expect(result.verified).toHaveLength(1)
    expect(result.verified[0]!.format).toBe('bundle')
    expect(result.verified[0]!.statement!.predicateType).toBe(COSIGN_SIGN_PREDICATE_TYPE)
  })

  it('every signature is its own referrer; verify reports each and which key matched', async () => {
    const { store, ref } = await setup()
    const keys = [await generateKeyPair(), await generateKeyPair(), await generateKeyPair()]
    for (const k of keys) await signImage(ref, createKeySigner(k), { store, tlogUpload: false })
    const r = await verifyImage(ref, {
      store,
      keys: [keys[2]!.publicKey, keys[0]!.publicKey],
      insecureIgnoreTlog: true,
    })
    expect(r.checks).toHaveLength(3)
    expect(r.verified.map((c) => c.keyIndex).sort()).toEqual([0, 1])
  })

  it('fails for a wrong key, a missing annotation, or a bundle moved to another image', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    const signed = await signImage(ref, createKeySigner(key), { store, tlogUpload: false, annotations: { env: 'dev' } })
    const wrong = await verifyImage(ref, {
      store,
      keys: [(await generateKeyPair()).publicKey],
      insecureIgnoreTlog: true,
    }).catch((e) => e)
    expect(wrong).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    expect(wrong.details.checks[0].reasons).toEqual(['failed to verify signature'])
    const ann = await verifyImage(ref, {
      store,
      keys: [key.publicKey],
      insecureIgnoreTlog: true,
      annotations: { env: 'prod' },
    }).catch((e) => e)
    expect(ann.details.checks[0].reasons).toEqual(['missing or incorrect annotation'])

    // Attach the same signed bundle to another image: the signature verifies, the statement's subject does not.
    const other = await pushTinyImage(store, { ...repo, tag: 'v2' }, 'other')
    const otherSubject = await store.resolve({ ...repo, digest: other })
    const bundleDesc = await store.pushBlob(repo, signed.bundle!, BUNDLE_V03_MEDIA_TYPE)
    const emptyConfig = await store.pushBlob(repo, new TextEncoder().encode('{}'), 'application/vnd.oci.empty.v1+json')
    const moved = buildBundleReferrerManifest({
      bundle: bundleDesc,
      emptyConfig,
      subject: otherSubject,
      predicateType: COSIGN_SIGN_PREDICATE_TYPE,
      created: new Date(),
    })
    await pushReferrer(store, repo, moved, 'application/vnd.oci.image.manifest.v1+json', {
      subject: otherSubject,
      artifactType: BUNDLE_V03_MEDIA_TYPE,
    })
    const err = await verifyImage(
      { ...repo, tag: 'v2' },
      { store, keys: [key.publicKey], insecureIgnoreTlog: true },
    ).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    expect(err.details.checks[0].reasons).toEqual(['provided artifact digests do not match digests in statement'])
  })

  it('falls back to legacy signatures, and reports the form of each', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const legacyOnly = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
    expect(legacyOnly.verified.map((c) => c.format)).toEqual(['legacy'])
    // A bundle by another key does not hide the valid legacy signature.
    await signImage(ref, createKeySigner(await generateKeyPair()), { store, tlogUpload: false })
    const mixed = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
    expect(mixed.checks.map((c) => [c.format, c.verified])).toEqual([
      ['bundle', false],
      ['legacy', true],
    ])
    await expect(
      verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true, signatureFormat: 'bundle' }),
    ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
  })

  it('skips referrers that are not valid bundles, as cosign does', async () => {
    const { store, ref, digest } = await setup()
    const subject = await store.resolve({ ...repo, digest })
    const junk = await store.pushBlob(repo, new TextEncoder().encode('{"mediaType":"nope"}'), BUNDLE_V03_MEDIA_TYPE)
    const emptyConfig = await store.pushBlob(repo, new TextEncoder().encode('{}'), 'application/vnd.oci.empty.v1+json')
    const manifest = buildBundleReferrerManifest({
      bundle: junk,
      emptyConfig,
      subject,
      predicateType: 'x',
      created: new Date(),
    })
    await pushReferrer(store, repo, manifest, 'application/vnd.oci.image.manifest.v1+json', {
      subject,
      artifactType: BUNDLE_V03_MEDIA_TYPE,
    })
    const key = await generateKeyPair()
    const none = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true }).catch((e) => e)
    expect(none).toMatchObject({ code: 'ERR_NO_SIGNATURES' })
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    const ok = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
    expect(ok.skipped).toHaveLength(1)
    expect(ok.skipped[0]!.reason).toMatch(/unsupported bundle media type/)
  })

  it('COSIGN_REPOSITORY: the referrer goes to the signature repository', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    const sigRepo = { registry: 'localhost', repository: 'sigs' }
    const signed = await signImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      signatureRepository: sigRepo,
    })
    expect(signed.signatureReference.repository).toBe('sigs')
    const r = await verifyImage(ref, {
      store,
      keys: [key.publicKey],
      insecureIgnoreTlog: true,
      signatureRepository: sigRepo,
    })
    expect(r.verified).toHaveLength(1)
    expect(parseBundle(signed.bundle!).content.type).toBe('dsseEnvelope')
    expect(parseStatement(signed.payload).subject[0]!.annotations).toEqual({})
  })
})
