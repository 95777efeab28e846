// Key-based signing with transparency-log upload (cosign's default): the signature is logged in a faithful local
// Rekor v1, the returned entry is verified before anything is stored, and the image verifies by key with the log
// required. Lying services fail the signing with their verification code and leave the registry untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlob } from '../../src/blob/sign-blob.js'
import { verifyBlob } from '../../src/blob/verify-blob.js'
import type { TransparencyLogWriter } from '../../src/contracts/transparency-log.js'
import { attestImage } from '../../src/image/attest.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { verifyImageAttestations } from '../../src/image/verify-attestation.js'
import { fromBase64, toBase64 } from '../../src/internal/bytes.js'
import { generateKeyPair } from '../../src/keys/index.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import type { Reference } from '../../src/oci/types.js'
import { createRekorClient } from '../../src/rekor/client.js'
import { BUNDLE_ANNOTATION, SIGNATURE_ANNOTATION } from '../../src/signature/annotations.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'
import { pushTinyImage } from '../support/oci-image.js'
import { type RekorServer, startRekorServer } from '../support/rekor-server.js'

const repo = { registry: 'localhost', repository: 'app' }
let rekor: RekorServer
let trustedRoot: TrustedRoot

beforeAll(async () => {
  rekor = await startRekorServer({ globalIndexOffset: 1000 })
  trustedRoot = parseTrustedRoot({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [rekor.trustedRootTlog],
    ctlogs: [],
    certificateAuthorities: [],
    timestampAuthorities: [],
  })
})
afterAll(() => rekor?.close())

async function setup() {
  const store = createLayoutStore(createMemoryFileSystem())
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, `hello ${Math.random()}`)
  return { store, digest, ref: { ...repo, digest } as Reference }
}

const witness = () => ({ trustedRoot, transparencyLogs: [createRekorClient({ url: rekor.url })] })

describe('signing with a key and a Rekor v1 upload', () => {
  it('bundle form: the referrer bundle carries the verified dsse entry and verifies by key with the log required', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    const before = rekor.entries.length
    const signed = await signImage(ref, createKeySigner(key), { store, witness: witness() })
    expect(rekor.entries.length).toBe(before + 1)
    expect(rekor.entries.at(-1)!.kind).toBe('dsse')
    expect(signed.witnessed?.verifiedEntries[0]?.verifiedBy).toEqual(expect.arrayContaining(['set', 'proof']))
    const bundle = JSON.parse(new TextDecoder().decode(signed.bundle!))
    expect(bundle.verificationMaterial.tlogEntries).toHaveLength(1)
    expect(bundle.verificationMaterial.tlogEntries[0].kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' })
    // The global index (offset 1000) is what the bundle records; the proof uses the shard index.
    expect(Number(bundle.verificationMaterial.tlogEntries[0].logIndex)).toBe(1000 + before)
    const result = await verifyImage(ref, { store, keys: [key.publicKey], trustedRoot })
    expect(result.verified[0]!.format).toBe('bundle')
    // Without the log in the trusted root, verification fails closed.
    const emptyRoot = parseTrustedRoot({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' })
    await expect(verifyImage(ref, { store, keys: [key.publicKey], trustedRoot: emptyRoot })).rejects.toMatchObject({
      code: 'ERR_NO_MATCHING_SIGNATURES',
    })
  })

  it('legacy form: hashedrekord entry, cosign bundle annotation, verifies by key with the SET', async () => {
    const { store, ref } = await setup()
    const key = await generateKeyPair()
    const signed = await signImage(ref, createKeySigner(key), { store, witness: witness(), format: 'legacy' })
    expect(rekor.entries.at(-1)!.kind).toBe('hashedrekord')
    const { manifest } = await store.fetchManifest(signed.signatureReference)
    const annotations = (manifest as unknown as { layers: { annotations: Record<string, string> }[] }).layers[0]!
      .annotations
    expect(annotations[SIGNATURE_ANNOTATION]).toBe(toBase64(signed.signature))
    const rekorBundle = JSON.parse(annotations[BUNDLE_ANNOTATION]!)
    expect(Object.keys(rekorBundle)).toEqual(['SignedEntryTimestamp', 'Payload'])
    expect(Object.keys(rekorBundle.Payload)).toEqual(['body', 'integratedTime', 'logIndex', 'logID'])
    expect(rekorBundle.Payload.logID).toBe(rekor.logID)
    const result = await verifyImage(ref, { store, keys: [key.publicKey], trustedRoot, signatureFormat: 'legacy' })
    expect(result.verified[0]!.format).toBe('legacy')
  })

  it('attestations (both forms) are logged as dsse and verify by key with the log', async () => {
    for (const format of ['bundle', 'legacy'] as const) {
      const { store, ref } = await setup()
      const key = await generateKeyPair()
      await attestImage(ref, createKeySigner(key), {
        store,
        witness: witness(),
        format,
        predicate: '{"hello":"world"}',
        predicateType: 'https://example.com/p',
      })
      expect(rekor.entries.at(-1)!.kind).toBe('dsse')
      const result = await verifyImageAttestations(ref, { store, keys: [key.publicKey], trustedRoot }).catch((e) => {
        throw new Error(`${format}: ${JSON.stringify(e.details?.checks?.map((c: { reasons: unknown }) => c.reasons))}`)
      })
      expect(result.verified).toHaveLength(1)
    }
  })

  it('sign-blob: hashedrekord in the bundle; verify-blob by key accepts it only with the log in the root', async () => {
    const key = await generateKeyPair()
    const data = new TextEncoder().encode(`blob ${Math.random()}`)
    const signed = await signBlob(data, createKeySigner(key), { witness: witness() })
    expect(rekor.entries.at(-1)!.kind).toBe('hashedrekord')
    await expect(
      verifyBlob(data, { keys: [key.publicKey], bundle: signed.bundle, trustedRoot }),
    ).resolves.toMatchObject({
      source: 'bundle',
    })
    await expect(
      verifyBlob(new TextEncoder().encode('other'), { keys: [key.publicKey], bundle: signed.bundle, trustedRoot }),
    ).rejects.toBeDefined()
  })

  it('a log answering with an entry for another artifact, or a tampered SET, fails the signing and writes nothing', async () => {
    const key = await generateKeyPair()
    // A genuine entry for some other blob, replayed by a lying log for every request.
    const other = await signBlob(new TextEncoder().encode(`other ${Math.random()}`), createKeySigner(key), {
      witness: witness(),
    })
    const replayed = JSON.parse(new TextDecoder().decode(other.bundle)).verificationMaterial.tlogEntries[0]
    const lying = (entry: Record<string, unknown>): TransparencyLogWriter => ({
      url: 'https://lying.example',
      apiVersion: 1,
      createEntry: async () => entry,
    })
    // The genuine entry for this very signature, with one bit of its SET flipped on the way back.
    const real = createRekorClient({ url: rekor.url })
    const tampering: TransparencyLogWriter = {
      url: rekor.url,
      apiVersion: 1,
      createEntry: async (content, signer, options) => {
        const entry = await real.createEntry(content, signer, options)
        const promise = entry.inclusionPromise as { signedEntryTimestamp: string }
        const set = fromBase64(promise.signedEntryTimestamp)
        set[set.length - 5]! ^= 1
        return { ...entry, inclusionPromise: { signedEntryTimestamp: toBase64(set) } }
      },
    }
    for (const [writer, code] of [
      [lying(replayed), 'ERR_TLOG_ENTRY_MISMATCH'],
      [tampering, 'ERR_TLOG_INCLUSION_PROOF'],
    ] as const) {
      for (const format of ['bundle', 'legacy'] as const) {
        const { store, ref } = await setup()
        const attempt = signImage(ref, createKeySigner(key), {
          store,
          format,
          witness: { trustedRoot, transparencyLogs: [writer] },
        })
        await expect(attempt).rejects.toMatchObject({ code })
        // Nothing was written: no signature tag, no referrers.
        await expect(
          verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true }),
        ).rejects.toMatchObject({
          code: 'ERR_NO_SIGNATURES',
        })
      }
    }
  })

  it('Rekor 409 (the same entry again) returns the existing entry; Rekor 500s are retried, then reported', async () => {
    const key = await generateKeyPair()
    const data = new TextEncoder().encode(`dup ${Math.random()}`)
    const signer = createKeySigner(key)
    const first = await signBlob(data, signer, { witness: witness() })
    // ECDSA signatures differ each time, so log the first signature again by hand through the client.
    const client = createRekorClient({ url: rekor.url })
    const content = JSON.parse(new TextDecoder().decode(first.bundle)).messageSignature
    const again = await client.createEntry(
      {
        type: 'messageSignature',
        signature: fromBase64(content.signature),
        messageDigest: { algorithm: 'SHA2_256', digest: fromBase64(content.messageDigest.digest) },
      },
      { type: 'publicKey', spki: key.publicKey.spki, algorithm: 'ecdsa-p256-sha256' },
    )
    expect(again.logIndex).toBe(
      JSON.parse(new TextDecoder().decode(first.bundle)).verificationMaterial.tlogEntries[0].logIndex,
    )
    expect(rekor.requests.some((r) => r.startsWith('POST /api/v1/log/entries 409'))).toBe(true)

    rekor.fault({ status: 500, times: 10, path: '/api/v1/log/entries' })
    const noSleep = { sleep: async () => {} }
    await expect(
      signBlob(data, signer, {
        witness: {
          trustedRoot,
          transparencyLogs: [createRekorClient({ url: rekor.url, ...noSleep, retry: { attempts: 2 } })],
        },
      }),
    ).rejects.toMatchObject({ code: 'ERR_REKOR_HTTP', details: { status: 500 } })
    rekor.fault({ status: 500, times: 0 })
  })
})
