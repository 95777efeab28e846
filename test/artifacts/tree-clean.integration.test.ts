import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attachSBOM } from '../../src/artifacts/attach-sbom.js'
import { attachAttestations } from '../../src/artifacts/attach-signature.js'
import { type CleanType, cleanImage } from '../../src/artifacts/clean.js'
import { formatAttachmentTree, getAttachmentTree } from '../../src/artifacts/tree.js'
import { createStatement } from '../../src/attestation/statement.js'
import { serializeDSSEEnvelopeBytes } from '../../src/dsse/envelope.js'
import { signDSSE } from '../../src/dsse/sign.js'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { generateKeyPair } from '../../src/keys/index.js'
import { computeDigest } from '../../src/oci/digest.js'
import { IN_TOTO_PAYLOAD_TYPE, OCI_EMPTY_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { listReferrers, pushReferrer, referrersTag } from '../../src/oci/referrers.js'
import { createRegistryClient, type RegistryClient } from '../../src/oci/registry.js'
import type { Reference } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { tinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const enc = new TextEncoder()
const FOREIGN_TYPE = 'application/vnd.example.thing.v1'

interface Fixture {
  readonly ref: Reference
  readonly digest: string
  readonly image: Awaited<ReturnType<typeof tinyImage>>
  readonly legacy: string[]
  readonly attLayer: string
  readonly sbomLayer: string
  readonly bundleReferrer: string
  readonly bundleLayer: string
  readonly foreignReferrer: string
}

/** An image with every kind of attachment: two .sig layers, a bundle referrer, an .att, an .sbom, a foreign referrer. */
async function fixture(store: RegistryClient, host: string, repository: string): Promise<Fixture> {
  const ref: Reference = { registry: host, repository, tag: 'v1' }
  const image = await tinyImage(`tree ${repository}`)
  await store.pushBlob(ref, image.layer, image.layerDescriptor.mediaType)
  await store.pushBlob(ref, image.config, image.configDescriptor.mediaType)
  const digest = (await store.pushManifest(ref, image.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)).digest
  const [k1, k2] = [await generateKeyPair(), await generateKeyPair()]
  const legacy: string[] = []
  for (const k of [k1, k2]) {
    const r = await signImage(ref, createKeySigner(k), { store, tlogUpload: false, format: 'legacy' })
    legacy.push(await computeDigest(r.payload))
  }
  const bundle = await signImage(ref, createKeySigner(k1), { store, tlogUpload: false })
  const statement = createStatement([{ digest: { sha256: digest.slice(7) } }], 'https://example.com/predicate/v1', {
    ok: true,
  })
  const envelope = await signDSSE(statement, IN_TOTO_PAYLOAD_TYPE, createKeySigner(k1))
  const envBytes = serializeDSSEEnvelopeBytes(envelope, 'v2')
  await attachAttestations(ref, envBytes, { store })
  const sbom = enc.encode('{"spdxVersion":"SPDX-2.3"}')
  await attachSBOM(ref, sbom, { store, mediaType: 'text/spdx+json' })
  // A referrer cosign did not write: clean must leave it.
  const thing = enc.encode('not cosign')
  const [cfg, layer] = [
    await store.pushBlob(ref, enc.encode('{}'), OCI_EMPTY_MEDIA_TYPE),
    await store.pushBlob(ref, thing, 'text/plain'),
  ]
  const subject = { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, size: image.manifest.length, digest }
  const foreign = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      artifactType: FOREIGN_TYPE,
      config: cfg,
      layers: [layer],
      subject,
    }),
  )
  const pushed = await pushReferrer(store, ref, foreign, OCI_IMAGE_MANIFEST_MEDIA_TYPE, { subject })
  return {
    ref,
    digest,
    image,
    legacy,
    attLayer: await computeDigest(envBytes),
    sbomLayer: await computeDigest(sbom),
    bundleReferrer: bundle.signatureManifestDigest,
    bundleLayer: await computeDigest(bundle.bundle!),
    foreignReferrer: pushed.digest,
  }
}

describe('tree and clean against a real docker-registry (no Referrers API: tag-schema fallback)', () => {
  let reg: TestRegistry
  let store: RegistryClient
  beforeAll(async () => {
    reg = await startRegistry()
    store = createRegistryClient()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it('tree lists .sig, .att, .sbom with their layers and every referrer, as cosign prints it', async () => {
    const fx = await fixture(store, reg.host, 'tree/app')
    const tree = await getAttachmentTree(fx.ref, { store })
    expect(tree.digest).toBe(fx.digest)
    expect(tree.tags.map((t) => [t.kind, t.layers.length])).toEqual([
      ['sig', 2],
      ['att', 1],
      ['sbom', 1],
    ])
    expect(Object.keys(tree.byArtifactType).sort()).toEqual([FOREIGN_TYPE, 'https://sigstore.dev/cosign/sign/v1'])
    const hex = fx.digest.slice(7)
    const repo = `${reg.host}/tree/app`
    const image = `${repo}:v1`
    const [first, second] = [...fx.legacy]
    expect(formatAttachmentTree(tree, image)).toBe(
      [
        `📦 Supply Chain Security Related artifacts for an image: ${image}`,
        `└── 🔐 Signatures for an image tag: ${repo}:sha256-${hex}.sig`,
        `   ├── 🍒 ${first}`,
        `   └── 🍒 ${second}`,
        `└── 💾 Attestations for an image tag: ${repo}:sha256-${hex}.att`,
        `   └── 🍒 ${fx.attLayer}`,
        `└── 📦 SBOMs for an image tag: ${repo}:sha256-${hex}.sbom`,
        `   └── 🍒 ${fx.sbomLayer}`,
        `└── 🔗 ${FOREIGN_TYPE} artifacts via OCI referrer: ${repo}@${fx.foreignReferrer}`,
        `   └── 🍒 ${await computeDigest(enc.encode('not cosign'))}`,
        `└── 🔗 https://sigstore.dev/cosign/sign/v1 artifacts via OCI referrer: ${repo}@${fx.bundleReferrer}`,
        `   └── 🍒 ${fx.bundleLayer}`,
        '',
      ].join('\n'),
    )
  })

  it('tree of an image with nothing attached says so, as cosign does', async () => {
    const ref: Reference = { registry: reg.host, repository: 'tree/empty', tag: 'v1' }
    const img = await tinyImage('nothing attached')
    await store.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    await store.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await store.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    const text = formatAttachmentTree(await getAttachmentTree(ref, { store }), 'x/y:v1')
    expect(text).toBe(
      '📦 Supply Chain Security Related artifacts for an image: x/y:v1\n' +
        'No Supply Chain Security Related Artifacts found for image x/y:v1,\n start creating one with simply running$ countersign sign <img>',
    )
  })

  const cases: { type: CleanType; gone: string[] }[] = [
    { type: 'signature', gone: ['sig'] },
    { type: 'attestation', gone: ['att'] },
    { type: 'sbom', gone: ['sbom'] },
    { type: 'referrer', gone: ['bundle'] },
    { type: 'all', gone: ['sig', 'att', 'sbom', 'bundle'] },
  ]
  it.each(cases)(
    'clean --type $type removes $gone and leaves the image (and foreign referrers) intact',
    async ({ type, gone }) => {
      const fx = await fixture(store, reg.host, `clean/${type}`)
      const warnings: string[] = []
      const result = await cleanImage(fx.ref, { store, type, onWarning: (m) => warnings.push(m) })
      expect(result.failures).toEqual([])
      const hex = fx.digest.slice(7)
      const exists = async (ref: Reference) =>
        store.resolve(ref).then(
          () => true,
          (e) => {
            if (e.code === 'ERR_OCI_NOT_FOUND') return false
            throw e
          },
        )
      for (const kind of ['sig', 'att', 'sbom']) {
        expect(await exists({ ...fx.ref, tag: `sha256-${hex}.${kind}` }), kind).toBe(!gone.includes(kind))
      }
      const referrers = (await listReferrers(store, fx.ref, fx.digest)).map((d) => d.digest)
      expect(referrers.includes(fx.bundleReferrer)).toBe(!gone.includes('bundle'))
      expect(await exists({ ...fx.ref, tag: undefined, digest: fx.bundleReferrer })).toBe(!gone.includes('bundle'))
      expect(referrers).toContain(fx.foreignReferrer)
      if (gone.includes('bundle')) expect(referrers).toEqual([fx.foreignReferrer])
      if (type === 'signature' || type === 'attestation') {
        expect(warnings).toContain('image has referrers, consider using --referrer')
      }
      expect(result.removed.map((r) => r.kind).sort()).toEqual(
        gone.map((g) => (g === 'bundle' ? 'referrer' : g)).sort(),
      )

      // The image: same digest at its tag, manifest and blobs all there.
      const m = await store.fetchManifest(fx.ref)
      expect(m.descriptor.digest).toBe(fx.digest)
      expect(Buffer.from(m.bytes).equals(Buffer.from(fx.image.manifest))).toBe(true)
      expect(
        Buffer.from(await store.fetchBlob(fx.ref, fx.image.configDescriptor.digest)).equals(
          Buffer.from(fx.image.config),
        ),
      ).toBe(true)
      expect(
        Buffer.from(await store.fetchBlob(fx.ref, fx.image.layerDescriptor.digest)).equals(Buffer.from(fx.image.layer)),
      ).toBe(true)

      // Whatever signature form is left still verifies; none left → no signatures.
      const left = !gone.includes('sig') || !gone.includes('bundle')
      const key = await generateKeyPair()
      const err = await verifyImage(fx.ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true }).catch((e) => e)
      expect(err.code).toBe(left ? 'ERR_NO_MATCHING_SIGNATURES' : 'ERR_NO_SIGNATURES')
    },
  )

  it('clean --type referrer removes the fallback index when only cosign referrers were in it', async () => {
    const ref: Reference = { registry: reg.host, repository: 'clean/only-bundles', tag: 'v1' }
    const img = await tinyImage('only bundles')
    await store.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    await store.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    const digest = (await store.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)).digest
    const key = await generateKeyPair()
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    expect(await listReferrers(store, ref, digest)).toHaveLength(2)
    const result = await cleanImage(ref, { store, type: 'referrer' })
    expect(result.removed.map((r) => r.kind).sort()).toEqual(['referrer', 'referrer', 'referrers-index'])
    await expect(store.resolve({ ...ref, tag: referrersTag(digest) })).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
    expect(await listReferrers(store, ref, digest)).toEqual([])
    expect((await store.resolve(ref)).digest).toBe(digest)
  })

  it('clean of an image with nothing attached removes nothing and fails nothing', async () => {
    const ref: Reference = { registry: reg.host, repository: 'clean/empty', tag: 'v1' }
    const img = await tinyImage('clean nothing')
    await store.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    await store.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await store.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    const result = await cleanImage(ref, { store })
    expect(result).toMatchObject({ removed: [], failures: [] })
  })
})
