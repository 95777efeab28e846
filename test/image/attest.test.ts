import { describe, expect, it } from 'vitest'
import { createStatement, IN_TOTO_STATEMENT_V1, IN_TOTO_STATEMENT_V01 } from '../../src/attestation/statement.js'
import { parseBundle } from '../../src/bundle/bundle.js'
import { serializeDSSEEnvelope } from '../../src/dsse/envelope.js'
import { signDSSE } from '../../src/dsse/sign.js'
import { attestImage } from '../../src/image/attest.js'
import { verifyImageAttestations } from '../../src/image/verify-attestation.js'
import { generateKeyPair, keyHint } from '../../src/keys/index.js'
import { sha256Digest } from '../../src/oci/digest.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { BUNDLE_V03_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import { listReferrers } from '../../src/oci/referrers.js'
import type { Descriptor, OCIStore, Reference } from '../../src/oci/types.js'
import { buildSignatureImage, signatureLayers } from '../../src/signature/signature-image.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'

const repo = { registry: 'localhost', repository: 'app' }
const dec = new TextDecoder()
const enc = new TextEncoder()
const SLSA1 = {
  buildDefinition: { buildType: 'https://example.com/build/v1', externalParameters: { ref: 'main' } },
  runDetails: { builder: { id: 'https://example.com/builder' } },
}

async function setup() {
  const store = createLayoutStore(createMemoryFileSystem())
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, 'hello')
  return { store, digest, ref: { ...repo, tag: 'v1' } as Reference }
}

/** Put `layers` (with their blobs) at the `.att` tag of `digest`, as another tool might have written them. */
async function writeAtt(
  store: OCIStore,
  digest: string,
  blobs: readonly { bytes: Uint8Array; annotations: Record<string, string> }[],
) {
  const ref = { ...repo, tag: `sha256-${digest.slice(7)}.att` }
  const layers: Descriptor[] = []
  for (const b of blobs) {
    await store.pushBlob(ref, b.bytes, 'application/vnd.dsse.envelope.v1+json')
    layers.push({
      mediaType: 'application/vnd.dsse.envelope.v1+json',
      size: b.bytes.length,
      digest: await sha256Digest(b.bytes),
      annotations: b.annotations,
    })
  }
  const img = await buildSignatureImage(layers, { digest: sha256Digest })
  await store.pushBlob(ref, img.config, img.configDescriptor.mediaType)
  await store.pushManifest(ref, img.manifest, img.manifestMediaType)
}

describe('attestImage (memory layout)', () => {
  it('bundle form: cosign v3 statement (v0.1, subject name + sha256), DSSE, bundle v0.3, referrer with predicateType', async () => {
    const { store, digest, ref } = await setup()
    const key = await generateKeyPair()
    const created = new Date('2025-10-28T04:07:47.5Z')
    const r = await attestImage(ref, createKeySigner(key), {
      store,
      predicate: enc.encode('{"foo": "bar"}\n'),
      tlogUpload: false,
      created,
      timestamp: new Date('2025-02-28T19:18:11.999Z'),
    })
    const hex = digest.slice(7)
    expect(r.format).toBe('bundle')
    expect(r.predicateType).toBe('https://cosign.sigstore.dev/attestation/v1')
    expect(dec.decode(r.statement)).toBe(
      `{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"localhost/app","digest":{"sha256":"${hex}"}}],"predicateType":"https://cosign.sigstore.dev/attestation/v1","predicate":{"Data":"{\\"foo\\": \\"bar\\"}\\n","Timestamp":"2025-02-28T19:18:11Z"}}`,
    )
    const bundle = parseBundle(r.bundle!)
    expect(bundle.verificationMaterial).toEqual({ type: 'publicKey', hint: keyHint(key.publicKey) })
    const referrers = await listReferrers(store, repo, digest)
    expect(referrers.map((d) => d.digest)).toEqual([r.attestationManifestDigest])
    const manifest = await store.fetchManifest({ ...repo, digest: r.attestationManifestDigest })
    expect(dec.decode(manifest.bytes)).toContain(
      '"annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://cosign.sigstore.dev/attestation/v1","org.opencontainers.image.created":"2025-10-28T04:07:47Z"}',
    )
    expect(manifest.manifest.artifactType).toBe(BUNDLE_V03_MEDIA_TYPE)

    const v = await verifyImageAttestations(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
    expect(v.verified).toHaveLength(1)
    expect(v.verified[0]!.format).toBe('bundle')
    expect(v.verified[0]!.statement!._type).toBe('https://in-toto.io/Statement/v0.1')
    // cosign prints the bundle's envelope re-marshalled in protobuf struct order.
    expect(dec.decode(v.verified[0]!.envelopeJSON)).toBe(
      serializeDSSEEnvelope(bundle.content.type === 'dsseEnvelope' ? bundle.content.envelope : (undefined as never)),
    )
  })

  it('legacy form: .att layer = v3-order envelope JSON with cosign annotations; appends; --replace drops the same type', async () => {
    const { store, digest, ref } = await setup()
    const signer = createKeySigner(await generateKeyPair())
    const opts = { store, format: 'legacy' as const, tlogUpload: false }
    const a = await attestImage(ref, signer, { ...opts, predicateType: 'slsaprovenance1', predicate: SLSA1 })
    expect(a.attestationReference.tag).toBe(`sha256-${digest.slice(7)}.att`)
    expect(dec.decode(a.layer!)).toMatch(
      /^\{"payload":"[A-Za-z0-9+/=]+","payloadType":"application\/vnd\.in-toto\+json","signatures":\[\{"sig":"[A-Za-z0-9+/=]+"\}\]\}$/,
    )
    const b = await attestImage(ref, signer, {
      ...opts,
      predicateType: 'https://example.com/custom/v1',
      predicate: '{"x":1}',
    })
    const c = await attestImage(ref, signer, { ...opts, predicateType: 'slsaprovenance1', predicate: SLSA1 })
    let att = await store.fetchManifest(a.attestationReference)
    const layers = signatureLayers(att.manifest)
    expect(layers.map((l) => l.digest)).toEqual(
      await Promise.all([a.layer!, b.layer!, c.layer!].map((x) => sha256Digest(x))),
    )
    expect(layers[0]!.mediaType).toBe('application/vnd.dsse.envelope.v1+json')
    expect(layers[0]!.annotations).toEqual({
      'dev.cosignproject.cosign/signature': '',
      predicateType: 'https://slsa.dev/provenance/v1',
    })
    expect(dec.decode(att.bytes)).toContain(
      `{"mediaType":"application/vnd.dsse.envelope.v1+json","size":${a.layer!.length},"digest":"${await sha256Digest(a.layer!)}","annotations":{"dev.cosignproject.cosign/signature":"","predicateType":"https://slsa.dev/provenance/v1"}}`,
    )

    const d = await attestImage(ref, signer, {
      ...opts,
      predicateType: 'slsaprovenance1',
      predicate: SLSA1,
      replace: true,
    })
    expect(d.replaced).toBe(2)
    att = await store.fetchManifest(a.attestationReference)
    // cosign's ReplaceOp: the new layer first, then the layers of other types.
    expect(signatureLayers(att.manifest).map((l) => l.digest)).toEqual([
      await sha256Digest(d.layer!),
      await sha256Digest(b.layer!),
    ])
  })

  it('bundle form ignores replace (as cosign v3), with a warning', async () => {
    const { store, digest, ref } = await setup()
    const signer = createKeySigner(await generateKeyPair())
    const warnings: string[] = []
    for (let i = 0; i < 2; i++) {
      await attestImage({ ...ref, digest }, signer, {
        store,
        predicateType: 'slsaprovenance1',
        predicate: SLSA1,
        replace: true,
        tlogUpload: false,
        onWarning: (m) => warnings.push(m),
      })
    }
    expect(await listReferrers(store, repo, digest)).toHaveLength(2)
    expect(warnings).toEqual([expect.stringContaining('--replace has no effect'), expect.stringContaining('--replace')])
  })

  it('refuses bad input before touching the store: no tlog opt-out, bad type, predicate that is not JSON', async () => {
    const { store, ref } = await setup()
    const signer = createKeySigner(await generateKeyPair())
    await expect(attestImage(ref, signer, { store, predicate: '{}' })).rejects.toMatchObject({
      code: 'ERR_TLOG_REQUIRED',
    })
    await expect(
      attestImage(ref, signer, { store, predicate: '{}', predicateType: 'not a type', tlogUpload: false }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message: 'invalid predicate type: not a type' })
    for (const predicateType of ['slsaprovenance1', 'cyclonedx', 'https://example.com/t']) {
      await expect(
        attestImage(ref, signer, { store, predicate: 'not json', predicateType, tlogUpload: false }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    }
    await expect(
      attestImage(ref, signer, { store, predicate: '[1]', predicateType: 'openvex', tlogUpload: false }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    expect(await store.listTags(repo)).toEqual(['v1'])
  })
})

describe('verifyImageAttestations (memory layout)', () => {
  it('finds both forms, filters by --type with cosign aliases, and reports cosign errors', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    const signer = createKeySigner(key)
    await attestImage(ref, signer, { store, predicateType: 'slsaprovenance1', predicate: SLSA1, tlogUpload: false })
    await attestImage(ref, signer, {
      store,
      format: 'legacy',
      predicateType: 'https://example.com/custom/v1',
      predicate: { x: 1 },
      tlogUpload: false,
    })
    const base = { store, keys: [key.publicKey], insecureIgnoreTlog: true }
    const all = await verifyImageAttestations(ref, base)
    expect(all.verified.map((c) => [c.format, c.predicateType])).toEqual([
      ['bundle', 'https://slsa.dev/provenance/v1'],
      ['legacy', 'https://example.com/custom/v1'],
    ])
    const slsa = await verifyImageAttestations(ref, { ...base, predicateType: 'slsaprovenance1' })
    expect(slsa.verified.map((c) => c.statement?.predicate)).toEqual([SLSA1])
    const custom = await verifyImageAttestations(ref, { ...base, predicateType: 'https://example.com/custom/v1' })
    expect(custom.verified).toHaveLength(1)
    expect(dec.decode(custom.verified[0]!.envelopeJSON)).toMatch(/^\{"payload":/)

    await expect(verifyImageAttestations(ref, { ...base, predicateType: 'custom' })).rejects.toMatchObject({
      code: 'ERR_CLAIMS_INVALID',
      message:
        'none of the attestations matched the predicate type: custom, found: https://slsa.dev/provenance/v1,https://example.com/custom/v1',
    })
    await expect(
      verifyImageAttestations(ref, { ...base, keys: [(await generateKeyPair()).publicKey] }),
    ).rejects.toMatchObject({
      code: 'ERR_NO_MATCHING_SIGNATURES',
      message: expect.stringMatching(/^no matching attestations: /),
    })
    await expect(
      verifyImageAttestations(ref, { ...base, signatureFormat: 'legacy', predicateType: 'slsaprovenance1' }),
    ).rejects.toMatchObject({
      code: 'ERR_CLAIMS_INVALID',
    })
    await expect(verifyImageAttestations(ref, { ...base, insecureIgnoreTlog: false })).rejects.toMatchObject({
      code: 'ERR_TLOG_REQUIRED',
    })
  })

  it('no attestations → ERR_NO_SIGNATURES; a missing image → ERR_OCI_NOT_FOUND', async () => {
    const { store, ref } = await setup()
    const keys = [(await generateKeyPair()).publicKey]
    await expect(verifyImageAttestations(ref, { store, keys, insecureIgnoreTlog: true })).rejects.toMatchObject({
      code: 'ERR_NO_SIGNATURES',
      message: 'no matching attestations: no attestations found',
    })
    await expect(
      verifyImageAttestations({ ...repo, tag: 'nope' }, { store, keys, insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND', details: expect.objectContaining({ target: 'image' }) })
  })

  it('rejects a wrong payloadType and a statement about another image; accepts cosign v2 envelopes and Statement v1', async () => {
    const { store, digest, ref } = await setup()
    const other = await pushTinyImage(store, { ...repo, tag: 'other' }, 'other image')
    const key = await generateKeyPair()
    const signer = createKeySigner(key)
    const stmt = (d: string, type = IN_TOTO_STATEMENT_V01) =>
      createStatement(
        [{ name: 'localhost/app', digest: { sha256: d.slice(7) } }],
        'https://example.com/t',
        {},
        { type },
      )
    const wrongType = await signDSSE(stmt(digest), 'application/json', signer)
    const otherImage = await signDSSE(stmt(other), 'application/vnd.in-toto+json', signer)
    const v2Order = await signDSSE(stmt(digest), 'application/vnd.in-toto+json', signer)
    const v1Statement = await signDSSE(stmt(digest, IN_TOTO_STATEMENT_V1), 'application/vnd.in-toto+json', signer)
    const ann = { 'dev.cosignproject.cosign/signature': '', predicateType: 'https://example.com/t' }
    await writeAtt(store, digest, [
      { bytes: enc.encode(serializeDSSEEnvelope(wrongType)), annotations: ann },
      { bytes: enc.encode(serializeDSSEEnvelope(otherImage)), annotations: ann },
    ])
    const base = { store, keys: [key.publicKey], insecureIgnoreTlog: true }
    const err = await verifyImageAttestations(ref, base).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    expect(err.message).toBe(
      'no matching attestations: invalid payloadType application/json on envelope. Expected application/vnd.in-toto+json\n no matching subject digest found',
    )
    // --check-claims=false skips the subject check (legacy form), as cosign.
    expect((await verifyImageAttestations(ref, { ...base, checkClaims: false })).verified).toHaveLength(1)

    const v2Text = serializeDSSEEnvelope(v2Order, { order: 'v2' })
    expect(v2Text).toMatch(
      /^\{"payloadType":"application\/vnd\.in-toto\+json","payload":"[^"]+","signatures":\[\{"keyid":"","sig":"/,
    )
    await writeAtt(store, digest, [
      { bytes: enc.encode(v2Text), annotations: ann },
      { bytes: enc.encode(serializeDSSEEnvelope(v1Statement)), annotations: ann },
    ])
    const ok = await verifyImageAttestations(ref, { ...base, predicateType: 'https://example.com/t' })
    expect(ok.verified.map((c) => c.statement!._type)).toEqual([
      'https://in-toto.io/Statement/v0.1',
      'https://in-toto.io/Statement/v1',
    ])
    // Printed as received: the v2 layer keeps its key order.
    expect(dec.decode(ok.verified[0]!.envelopeJSON)).toBe(v2Text)
  })

  it('verifies the exact bytes received: a re-encoded payload with equal JSON fails', async () => {
    const { store, digest, ref } = await setup()
    const key = await generateKeyPair()
    const env = await signDSSE(
      enc.encode(
        `{"_type":"https://in-toto.io/Statement/v0.1","subject":[{"name":"x","digest":{"sha256":"${digest.slice(7)}"}}],"predicateType":"p","predicate":{}}`,
      ),
      'application/vnd.in-toto+json',
      createKeySigner(key),
    )
    const spaced = {
      ...env,
      payload: enc.encode(dec.decode(env.payload).replace(',"predicateType"', ', "predicateType"')),
    }
    await writeAtt(store, digest, [{ bytes: enc.encode(serializeDSSEEnvelope(spaced)), annotations: {} }])
    await expect(
      verifyImageAttestations(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({
      code: 'ERR_NO_MATCHING_SIGNATURES',
      message: 'no matching attestations: failed to verify signature',
    })
  })
})
