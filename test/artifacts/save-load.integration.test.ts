import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachAttestations } from '../../src/artifacts/attach-signature.js'
import { downloadAttestations } from '../../src/artifacts/download.js'
import { loadImage, saveImage } from '../../src/artifacts/save-load.js'
import { createStatement } from '../../src/attestation/statement.js'
import { serializeDSSEEnvelopeBytes } from '../../src/dsse/envelope.js'
import { signDSSE } from '../../src/dsse/sign.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { generateKeyPair } from '../../src/keys/index.js'
import { createNodeLayoutFileSystem, openLayout } from '../../src/node/layout-fs.js'
import { IN_TOTO_PAYLOAD_TYPE } from '../../src/oci/media-types.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { Reference } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushMultiArchImage } from '../support/multi-arch.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

describe('save → load into a second real registry → verify', () => {
  let a: TestRegistry
  let b: TestRegistry
  const dirs: string[] = []
  beforeAll(async () => {
    ;[a, b] = await Promise.all([startRegistry(), startRegistry()])
  })
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()])
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
  })

  it('an image signed in both forms, with an attestation, survives the trip; the layout is cosign save format', async () => {
    const store = createRegistryClient()
    const src: Reference = { registry: a.host, repository: 'team/app', tag: 'v1' }
    const digest = await pushTinyImage(store, src, 'save me')
    const key = await generateKeyPair()
    const signer = createKeySigner(key)
    const bundle = await signImage(src, signer, { store, tlogUpload: false, annotations: { env: 'prod' } })
    const legacy = await signImage(src, signer, {
      store,
      tlogUpload: false,
      format: 'legacy',
      annotations: { env: 'prod' },
    })
    const statement = createStatement([{ digest: { sha256: digest.slice(7) } }], 'https://example.com/p/v1', {})
    const env = serializeDSSEEnvelopeBytes(await signDSSE(statement, IN_TOTO_PAYLOAD_TYPE, signer), 'v2')
    const att = await attachAttestations(src, env, { store })

    const dir = mkdtempSync(join(tmpdir(), 'cs-save-'))
    dirs.push(dir)
    const saved = await saveImage(src, { store, fs: createNodeLayoutFileSystem(dir) })
    expect(saved).toMatchObject({ digest, kind: 'image', signatures: legacy.signatureManifestDigest })
    expect(saved.attestations).toBe(att.manifestDigest)
    expect(saved.referrers.map((r) => r.digest)).toEqual([bundle.signatureManifestDigest])

    // ggcr's layout files, byte for byte: oci-layout, and index.json from json.MarshalIndent(…, "", "   ").
    expect(readFileSync(join(dir, 'oci-layout'), 'utf8')).toBe('{\n    "imageLayoutVersion": "1.0.0"\n}')
    const index = readFileSync(join(dir, 'index.json'), 'utf8')
    const image = await store.resolve(src)
    const sig = await store.resolve({ ...src, tag: `sha256-${digest.slice(7)}.sig` })
    const atts = await store.resolve({ ...src, tag: `sha256-${digest.slice(7)}.att` })
    const e = (d: { mediaType: string; size: number; digest: string }, kind: string, last = false) =>
      `      {\n         "mediaType": "${d.mediaType}",\n         "size": ${d.size},\n         "digest": "${d.digest}",\n` +
      `         "annotations": {\n            "kind": "dev.cosignproject.cosign/${kind}"\n         }\n      }${last ? '' : ','}\n`
    expect(index).toBe(
      '{\n   "schemaVersion": 2,\n   "mediaType": "application/vnd.oci.image.index.v1+json",\n   "manifests": [\n' +
        e(image, 'image') +
        e(sig, 'sigs') +
        e(atts, 'atts', true) +
        '   ]\n}',
    )
    // The bundle referrer is only in blobs/, as cosign save leaves it.
    const blobs = readdirSync(join(dir, 'blobs', 'sha256'))
    expect(blobs).toContain(bundle.signatureManifestDigest.slice(7))
    expect(index).not.toContain(bundle.signatureManifestDigest)

    // The layout verifies as it is (both forms), through the layout store.
    const layout = openLayout(dir)
    const inLayout: Reference = { registry: 'localhost', repository: 'layout', tag: 'latest' }
    for (const signatureFormat of ['bundle', 'legacy'] as const) {
      const r = await verifyImage(inLayout, {
        store: layout,
        keys: [key.publicKey],
        insecureIgnoreTlog: true,
        signatureFormat,
        annotations: { env: 'prod' },
      })
      expect(r.verified[0]!.format).toBe(signatureFormat)
    }

    const store2 = createRegistryClient()
    const dst: Reference = { registry: b.host, repository: 'mirror/app', tag: 'copied' }
    const loaded = await loadImage(dst, { store: store2, fs: createNodeLayoutFileSystem(dir) })
    expect(loaded).toMatchObject({ digest, kind: 'image', signatures: sig.digest, attestations: atts.digest })
    expect((await store2.resolve(dst)).digest).toBe(digest)
    for (const signatureFormat of ['bundle', 'legacy'] as const) {
      const r = await verifyImage(dst, {
        store: store2,
        keys: [key.publicKey],
        insecureIgnoreTlog: true,
        signatureFormat,
        annotations: { env: 'prod' },
      })
      expect(r.verified).toHaveLength(1)
      expect(r.verified[0]!.format).toBe(signatureFormat)
    }
    // The wrong key still fails there: the signatures are the originals, not something new.
    const other = await generateKeyPair()
    await expect(
      verifyImage(dst, { store: store2, keys: [other.publicKey], insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    const downloaded = await downloadAttestations(dst, { store: store2, predicateType: 'https://example.com/p/v1' })
    expect(downloaded.attestations).toHaveLength(1)
  })

  it('an image index: the index and its children are saved and loaded; the index signature verifies', async () => {
    const store = createRegistryClient()
    const src: Reference = { registry: a.host, repository: 'team/multi', tag: 'v2' }
    const idx = await pushMultiArchImage(store, src)
    const key = await generateKeyPair()
    await signImage(src, createKeySigner(key), { store, tlogUpload: false })
    const dir = mkdtempSync(join(tmpdir(), 'cs-save-idx-'))
    dirs.push(dir)
    const saved = await saveImage(src, { store, fs: createNodeLayoutFileSystem(dir) })
    expect(saved.kind).toBe('imageIndex')
    expect(readFileSync(join(dir, 'index.json'), 'utf8')).toContain('"kind": "dev.cosignproject.cosign/imageIndex"')
    const store2 = createRegistryClient()
    const dst: Reference = { registry: b.host, repository: 'mirror/multi', tag: 'v2' }
    await loadImage(dst, { store: store2, fs: createNodeLayoutFileSystem(dir) })
    expect((await store2.resolve(dst)).digest).toBe(idx.digest)
    for (const c of idx.children) {
      expect((await store2.resolve({ ...dst, tag: undefined, digest: c.digest })).digest).toBe(c.digest)
    }
    const r = await verifyImage(dst, { store: store2, keys: [key.publicKey], insecureIgnoreTlog: true })
    expect(r.digest).toBe(idx.digest)
  })

  it('load of a directory without a cosign-saved image is a coded error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-load-empty-'))
    dirs.push(dir)
    openLayout(dir, { create: true })
    await expect(
      loadImage(
        { registry: b.host, repository: 'x/y', tag: 'v1' },
        { store: createRegistryClient(), fs: createNodeLayoutFileSystem(dir) },
      ),
    ).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
  })
})
