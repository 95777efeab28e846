import { describe, expect, it } from 'vitest'
import { signImage } from '../../../src/image/sign.js'
import { verifyImage } from '../../../src/image/verify.js'
import { fromBase64 } from '../../../src/internal/bytes.js'
import { generateKeyPair, verifySignature } from '../../../src/keys/index.js'
import { sha256Digest } from '../../../src/oci/digest.js'
import { createLayoutStore } from '../../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../../src/oci/memory-fs.js'
import type { OCIStore, Reference } from '../../../src/oci/types.js'
import { SIGNATURE_ANNOTATION } from '../../../src/signature/annotations.js'
import { buildSignatureImage } from '../../../src/signature/signature-image.js'
import { createKeySigner } from '../../../src/signers/key-signer.js'
import { pushTinyImage } from '../../support/oci-image.js'

const repo = { registry: 'localhost', repository: 'app' }

async function pushImage(store: OCIStore, tag: string, text: string): Promise<string> {
  return pushTinyImage(store, { ...repo, tag }, text)
}

async function setup() {
  const store = createLayoutStore(createMemoryFileSystem())
  const digest = await pushImage(store, 'v1', 'hello')
  return { store, digest, ref: { ...repo, tag: 'v1' } as Reference }
}

describe('signImage / verifyImage (legacy .sig, in a memory layout)', () => {
  it('signs by tag (with a warning), then verifies with the key; the result names the signed digest', async () => {
    const { store, digest, ref } = await setup()
    const key = await generateKeyPair()
    const warnings: string[] = []
    const signed = await signImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      format: 'legacy',
      annotations: { env: 'prod' },
      onWarning: (m) => warnings.push(m),
    })
    expect(signed.digest).toBe(digest)
    expect(signed.signatureReference.tag).toBe(`sha256-${digest.slice(7)}.sig`)
    expect(warnings[0]).toMatch(/uses a tag, not a digest/)
    expect(await verifySignature(key.publicKey, signed.payload, signed.signature)).toBe(true)

    const result = await verifyImage(ref, {
      store,
      keys: [key.publicKey],
      insecureIgnoreTlog: true,
      annotations: { env: 'prod' },
    })
    expect(result.digest).toBe(digest)
    expect(result.verified).toHaveLength(1)
    expect(result.verified[0]!.claims!.critical.identity['docker-reference']).toBe('localhost/app')
    expect(result.verified[0]!.claims!.optional).toEqual({ env: 'prod' })
  })

  it('appends a second signature, dedupes a repeat by the same key, and verifies with each key', async () => {
    const { store, ref, digest } = await setup()
    const [a, b] = [await generateKeyPair(), await generateKeyPair({ algorithm: 'ecdsa-p384' })]
    await signImage(ref, createKeySigner(a), { store, tlogUpload: false, format: 'legacy' })
    const second = await signImage(ref, createKeySigner(b), { store, tlogUpload: false, format: 'legacy' })
    expect(second.deduplicated).toBe(false)
    const again = await signImage(ref, createKeySigner(a), { store, tlogUpload: false, format: 'legacy' })
    expect(again.deduplicated).toBe(true)
    expect(again.signatureManifestDigest).toBe(second.signatureManifestDigest)

    const sig = await store.fetchManifest(second.signatureReference)
    expect('layers' in sig.manifest && sig.manifest.layers).toHaveLength(2)

    const byA = await verifyImage(ref, { store, keys: [a.publicKey], insecureIgnoreTlog: true })
    expect(byA.verified).toHaveLength(1)
    expect(byA.checks).toHaveLength(2)
    // P-384 signatures are made with SHA-384; cosign verifies them with --signature-digest-algorithm sha384.
    const byB = await verifyImage(
      { ...ref, digest },
      { store, keys: [b.publicKey], insecureIgnoreTlog: true, hash: 'sha384' },
    )
    expect(byB.verified).toHaveLength(1)
    const both = await verifyImage(ref, {
      store,
      keys: [a.publicKey, b.publicKey],
      insecureIgnoreTlog: true,
      hash: 'sha256',
    })
    expect(both.verified.map((c) => c.keyIndex)).toEqual([0])
  })

  it('fails with ERR_NO_MATCHING_SIGNATURES for a wrong key, listing every reason', async () => {
    const { store, ref } = await setup()
    await signImage(ref, createKeySigner(await generateKeyPair()), { store, tlogUpload: false, format: 'legacy' })
    const other = await generateKeyPair()
    const err = await verifyImage(ref, { store, keys: [other.publicKey], insecureIgnoreTlog: true }).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    expect(err.message).toMatch(/^no matching signatures: invalid signature/)
    expect(err.details.checks).toHaveLength(1)
  })

  it('fails with ERR_NO_SIGNATURES for an unsigned image and ERR_OCI_NOT_FOUND (target image) for a missing tag', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    await expect(verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })).rejects.toMatchObject({
      code: 'ERR_NO_SIGNATURES',
      message: 'no signatures found',
    })
    await expect(
      verifyImage({ ...repo, tag: 'nope' }, { store, keys: [key.publicKey], insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND', details: expect.objectContaining({ target: 'image' }) })
  })

  it('rejects a signature whose required annotation is missing or different', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    await signImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      format: 'legacy',
      annotations: { env: 'dev' },
    })
    for (const annotations of [{ env: 'prod' }, { team: 'x' }] as Record<string, string>[]) {
      const err = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true, annotations }).catch(
        (e) => e,
      )
      expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
      expect(err.details.checks[0].reasons).toEqual(['missing or incorrect annotation'])
    }
  })

  it('rejects a valid signature whose payload claims another digest (signature copied to another image)', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    const signed = await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    // Re-home the .sig image under the tag of a different image: the signature still verifies, the claim does not.
    const otherDigest = await pushImage(store, 'v2', 'other')
    const sig = await store.fetchManifest(signed.signatureReference)
    await store.pushManifest(
      { ...repo, tag: `sha256-${otherDigest.slice(7)}.sig` },
      sig.bytes,
      sig.descriptor.mediaType,
    )
    const err = await verifyImage(
      { ...repo, tag: 'v2' },
      { store, keys: [key.publicKey], insecureIgnoreTlog: true },
    ).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    expect(err.details.checks[0].reasons[0]).toBe(`invalid or missing digest in claim: ${signed.digest}`)
  })

  it('requires a transparency log (witness) or tlogUpload=false, and a trusted root or insecureIgnoreTlog', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    await expect(signImage(ref, createKeySigner(key), { store })).rejects.toMatchObject({ code: 'ERR_TLOG_REQUIRED' })
    await expect(verifyImage(ref, { store, keys: [key.publicKey] })).rejects.toMatchObject({
      code: 'ERR_TLOG_REQUIRED',
    })
  })

  it('writes signatures to another repository (COSIGN_REPOSITORY) and leaves the signature intact after a failed push', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    const sigRepo = { registry: 'localhost', repository: 'sigs' }
    const signed = await signImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      format: 'legacy',
      signatureRepository: sigRepo,
    })
    expect(signed.signatureReference.repository).toBe('sigs')
    const before = await store.fetchManifest(signed.signatureReference)
    // A store whose manifest push fails: the earlier signature image must be unchanged.
    const failing: OCIStore = { ...store, pushManifest: async () => Promise.reject(new Error('boom')) }
    await expect(
      signImage(ref, createKeySigner(await generateKeyPair()), {
        store: failing,
        tlogUpload: false,
        format: 'legacy',
        signatureRepository: sigRepo,
      }),
    ).rejects.toThrow('boom')
    const after = await store.fetchManifest(signed.signatureReference)
    expect(after.descriptor.digest).toBe(before.descriptor.digest)
    const layer = 'layers' in after.manifest ? after.manifest.layers[0]! : undefined
    expect(fromBase64(layer!.annotations![SIGNATURE_ANNOTATION]!)).toEqual(signed.signature)
    expect(layer!.digest).toBe(await sha256Digest(signed.payload))
  })

  it('accepts a signature annotation with a trailing newline, as Go base64 decoding does (cosign attach signature)', async () => {
    const { store, ref, digest } = await setup()
    const key = await generateKeyPair()
    const signed = await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const payloadDigest = await sha256Digest(signed.payload)
    const image = await buildSignatureImage(
      [
        {
          mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
          size: signed.payload.length,
          digest: payloadDigest,
          annotations: { [SIGNATURE_ANNOTATION]: `${Buffer.from(signed.signature).toString('base64')}\n` },
        },
      ],
      { digest: sha256Digest },
    )
    await store.pushBlob(repo, image.config, image.configDescriptor.mediaType)
    await store.pushManifest({ ...repo, tag: `sha256-${digest.slice(7)}.sig` }, image.manifest, image.manifestMediaType)
    const r = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
    expect(r.verified).toHaveLength(1)
  })
})
