import { describe, expect, it } from 'vitest'
import { attachAttestations, attachBundle, attachSignature } from '../../src/artifacts/attach-signature.js'
import { cleanImage } from '../../src/artifacts/clean.js'
import {
  downloadAttestations,
  downloadSignatures,
  formatDownloadedAttestations,
  formatDownloadedSignatures,
} from '../../src/artifacts/download.js'
import { getAttachmentTree } from '../../src/artifacts/tree.js'
import { createStatement } from '../../src/attestation/statement.js'
import { serializeDSSEEnvelope } from '../../src/dsse/envelope.js'
import { signDSSE } from '../../src/dsse/sign.js'
import { isCountersignError } from '../../src/errors.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { toBase64 } from '../../src/internal/bytes.js'
import { generateKeyPair } from '../../src/keys/index.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import type { Reference } from '../../src/oci/types.js'
import { createSimpleSigningPayload } from '../../src/signature/simple-signing.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const repo = { registry: 'localhost', repository: 'app' }

async function setup(text = 'attach') {
  const store = createLayoutStore(createMemoryFileSystem())
  const ref: Reference = { ...repo, tag: 'v1' }
  const digest = await pushTinyImage(store, ref, text)
  return { store, ref, digest }
}

const CERT = `-----BEGIN CERTIFICATE-----
MIIBhTCCASugAwIBAgIUQ2FmZWJhYmUwMDAwMDAwMDAwMDAwMDAwMDAwMDAKBggqhkjOPQQD
-----END CERTIFICATE-----
`

describe('attach signature', () => {
  it('a signature made elsewhere verifies once attached; download prints cosign SignedPayload lines', async () => {
    const { store, ref, digest } = await setup()
    const key = await generateKeyPair()
    const payload = createSimpleSigningPayload('localhost/app', digest, { team: 'a' })
    const sig = toBase64(await createKeySigner(key).sign(payload))
    const attached = await attachSignature(ref, `${sig}\n`, { store, payload })
    expect(attached).toMatchObject({ digest, format: 'legacy' })
    expect(attached.reference.tag).toBe(`sha256-${digest.slice(7)}.sig`)
    const verified = await verifyImage(ref, {
      store,
      keys: [key.publicKey],
      insecureIgnoreTlog: true,
      annotations: { team: 'a' },
    })
    expect(verified.verified).toHaveLength(1)

    // A second one is appended, with a certificate, chain, timestamp and Rekor bundle annotation.
    const rekorResponse = enc.encode(
      JSON.stringify({
        base64Signature: sig,
        rekorBundle: {
          SignedEntryTimestamp: 'AQID',
          Payload: { body: 'Ym9keQ==', integratedTime: 1700000000, logIndex: 7, logID: 'abcd' },
        },
      }),
    )
    await attachSignature(ref, sig, {
      store,
      certificate: CERT,
      rfc3161Timestamp: new Uint8Array([1, 2, 3]),
      rekorResponse,
    })
    const found = await downloadSignatures(ref, { store })
    expect(found.format).toBe('legacy')
    const lines = formatDownloadedSignatures(found)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toBe(
      `{"Base64Signature":"${sig}","Payload":"${toBase64(payload)}","Cert":null,"Chain":null,"Bundle":null,"RFC3161Timestamp":null}`,
    )
    // Default payload: what cosign would sign for the image (no annotations: optional null).
    const defaultPayload = createSimpleSigningPayload('localhost/app', digest)
    expect(lines[1]).toMatch(
      new RegExp(
        `^\\{"Base64Signature":"${sig.replace(/[+/]/g, '\\$&')}","Payload":"${toBase64(defaultPayload).replace(/[+/]/g, '\\$&')}","Cert":\\{"Raw":"[A-Za-z0-9+/=]+"\\},"Chain":null,` +
          '"Bundle":\\{"SignedEntryTimestamp":"AQID","Payload":\\{"body":"Ym9keQ==","integratedTime":1700000000,"logIndex":7,"logID":"abcd"\\}\\},' +
          '"RFC3161Timestamp":\\{"SignedRFC3161Timestamp":"AQID"\\}\\}$',
      ),
    )
    const sigImage = await store.fetchManifest(attached.reference)
    const layer = 'layers' in sigImage.manifest ? sigImage.manifest.layers[1]! : undefined
    expect(layer?.annotations).toEqual({
      'dev.cosignproject.cosign/signature': sig,
      'dev.sigstore.cosign/certificate': CERT,
      'dev.sigstore.cosign/chain': '',
      'dev.sigstore.cosign/bundle':
        '{"SignedEntryTimestamp":"AQID","Payload":{"body":"Ym9keQ==","integratedTime":1700000000,"logIndex":7,"logID":"abcd"}}',
      'dev.sigstore.cosign/rfc3161timestamp': '{"SignedRFC3161Timestamp":"AQID"}',
    })
  })

  it('rejects an empty or non-base64 signature before writing anything', async () => {
    const { store, ref } = await setup()
    for (const bad of ['', '\n', 'not base64!']) {
      const e = await attachSignature(ref, bad, { store }).catch((x) => x)
      expect(isCountersignError(e, 'ERR_INVALID_INPUT')).toBe(true)
    }
    expect(await store.listTags(ref)).toEqual(['v1'])
  })

  it('no signatures at all: download says so with a coded error', async () => {
    const { store, ref } = await setup()
    await expect(downloadSignatures(ref, { store })).rejects.toMatchObject({ code: 'ERR_NO_SIGNATURES' })
  })
})

describe('attach a Sigstore bundle (referrer, like cosign v3)', () => {
  it('a bundle made for the image verifies once attached, and download prints it as one JSON line', async () => {
    const { store, ref, digest } = await setup('bundle')
    // Make the bundle elsewhere: the same image in another store.
    const elsewhere = await setup('bundle')
    const key = await generateKeyPair()
    const made = await signImage(elsewhere.ref, createKeySigner(key), { store: elsewhere.store, tlogUpload: false })
    await expect(verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })).rejects.toMatchObject({
      code: 'ERR_NO_SIGNATURES',
    })
    const attached = await attachBundle(ref, made.bundle!, { store })
    expect(attached).toMatchObject({ digest, format: 'bundle' })
    const r = await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
    expect(r.verified[0]!.format).toBe('bundle')
    const found = await downloadSignatures(ref, { store })
    expect(found.format).toBe('bundle')
    expect(formatDownloadedSignatures(found)).toEqual([dec.decode(made.bundle!)])
  })

  it('a bundle without a DSSE envelope is refused, as cosign does', async () => {
    const { store, ref } = await setup()
    const bundle = enc.encode(
      JSON.stringify({
        mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
        verificationMaterial: { publicKey: { hint: 'x' } },
        messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: 'AAAA' }, signature: 'AAAA' },
      }),
    )
    await expect(attachBundle(ref, bundle, { store })).rejects.toMatchObject({
      code: 'ERR_BUNDLE_INVALID',
      message: 'bundle does not have DSSE envelope',
    })
  })
})

describe('attach attestation (legacy .att) and download attestation', () => {
  async function envelope(digest: string, predicateType: string, key: Awaited<ReturnType<typeof generateKeyPair>>) {
    const statement = createStatement([{ digest: { sha256: digest.slice(7) } }], predicateType, { n: 1 })
    return serializeDSSEEnvelope(await signDSSE(statement, IN_TOTO_PAYLOAD_TYPE, createKeySigner(key)), { order: 'v3' })
  }

  it('two envelopes in one file become two .att layers in go-securesystemslib form; filtered by predicate type', async () => {
    const { store, ref, digest } = await setup()
    const key = await generateKeyPair()
    const a = await envelope(digest, 'https://slsa.dev/provenance/v0.2', key)
    const b = await envelope(digest, 'https://example.com/other/v1', key)
    const attached = await attachAttestations(ref, enc.encode(`${a}\n${b}\n`), { store })
    expect(attached.reference.tag).toBe(`sha256-${digest.slice(7)}.att`)
    const m = await store.fetchManifest(attached.reference)
    const layers = 'layers' in m.manifest ? m.manifest.layers : []
    expect(layers.map((l) => [l.mediaType, l.annotations])).toEqual([
      ['application/vnd.dsse.envelope.v1+json', { 'dev.cosignproject.cosign/signature': '' }],
      ['application/vnd.dsse.envelope.v1+json', { 'dev.cosignproject.cosign/signature': '' }],
    ])
    const first = JSON.parse(a)
    const stored = dec.decode(await store.fetchBlob(ref, layers[0]!.digest))
    expect(stored).toBe(
      `{"payloadType":"application/vnd.in-toto+json","payload":"${first.payload}","signatures":[{"keyid":"","sig":"${first.signatures[0].sig}"}]}`,
    )

    const all = await downloadAttestations(ref, { store })
    expect(formatDownloadedAttestations(all)).toHaveLength(2)
    expect(formatDownloadedAttestations(all)[0]).toBe(stored)
    const slsa = await downloadAttestations(ref, { store, predicateType: 'slsaprovenance' })
    expect(slsa.attestations.map((x) => x.payload)).toEqual([first.payload])
    await expect(downloadAttestations(ref, { store, predicateType: 'https://nothing/v1' })).rejects.toMatchObject({
      code: 'ERR_NO_SIGNATURES',
      message: "no attestations with predicate type 'https://nothing/v1' found",
    })
  })

  it('refuses a non-in-toto envelope, an unsigned one, and junk', async () => {
    const { store, ref } = await setup()
    const cases: [string, string][] = [
      [
        JSON.stringify({ payloadType: 'text/plain', payload: 'AA==', signatures: [{ sig: 'AA==' }] }),
        'invalid payloadType text/plain on envelope. Expected application/vnd.in-toto+json',
      ],
      [
        JSON.stringify({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: 'AA==', signatures: [] }),
        'could not attach attestation without having signatures',
      ],
      ['{"payloadType":', 'attestation: truncated JSON'],
      ['[1,2]', 'attestation: expected a JSON object at offset 0'],
    ]
    for (const [input, message] of cases) {
      await expect(attachAttestations(ref, enc.encode(input), { store })).rejects.toMatchObject({
        code: 'ERR_INVALID_INPUT',
        message,
      })
    }
    expect(await store.listTags(ref)).toEqual(['v1'])
  })

  it('an oversized envelope hits the attachment limit', async () => {
    const { store, ref, digest } = await setup()
    const env = await envelope(digest, 'https://example.com/p', await generateKeyPair())
    await expect(attachAttestations(ref, enc.encode(env), { store, maxSize: 100 })).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
    })
  })
})

describe('tree and clean on an OCI layout', () => {
  it('clean removes both signature forms from a layout and leaves the image', async () => {
    const { store, ref, digest } = await setup('layout clean')
    const key = await generateKeyPair()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const before = await getAttachmentTree(ref, { store })
    expect(before.tags.map((t) => t.kind)).toEqual(['sig'])
    expect(before.referrers).toHaveLength(1)
    const result = await cleanImage(ref, { store })
    expect(result.failures).toEqual([])
    expect(result.removed.map((r) => r.kind).sort()).toEqual(['referrer', 'referrers-index', 'sig'])
    const after = await getAttachmentTree(ref, { store })
    expect(after).toMatchObject({ digest, tags: [], referrers: [] })
    expect((await store.resolve(ref)).digest).toBe(digest)
    await expect(verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })).rejects.toMatchObject({
      code: 'ERR_NO_SIGNATURES',
    })
  })
})
