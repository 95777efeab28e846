/**
 * Interop with sigstore-js's OCI writer (`@sigstore/oci`, what `npm publish --provenance`-style tooling uses to
 * attach Sigstore bundles to images): it attaches a bundle as an OCI 1.1 referrer, through the Referrers API when
 * the registry has one (OCI-Subject + a 200 from the referrers endpoint), else by rewriting the referrers tag with
 * its own JSON (`JSON.stringify`, key order mediaType/schemaVersion/manifests). countersign must list and fetch it
 * either way, and must keep sigstore-js's entry when it adds its own.
 */
import { attachArtifactToImage, type Credentials } from '@sigstore/oci'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference } from '../../src/oci/reference.js'
import { listReferrers, referrersTag } from '../../src/oci/referrers.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { OCIStore, Reference } from '../../src/oci/types.js'
import { type ServedFakeRegistry, startFakeRegistry } from '../support/fake-registry.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { attach, BUNDLE_MEDIA_TYPE, text } from './referrers-helpers.js'

const USER = { username: 'signer', password: 'interop-secret' }
// Any JSON with the bundle media type will do for storage interop.
const bundleBytes = (n: string) =>
  Buffer.from(JSON.stringify({ mediaType: BUNDLE_MEDIA_TYPE, verificationMaterial: {}, note: n }))

async function readBundleBack(client: OCIStore, repo: Reference, subjectDigest: string) {
  const found = await listReferrers(client, repo, subjectDigest, { artifactType: BUNDLE_MEDIA_TYPE })
  expect(found).toHaveLength(1)
  const d = found[0]!
  expect(d.mediaType).toBe(OCI_IMAGE_MANIFEST_MEDIA_TYPE)
  expect(d.annotations?.['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT/)
  expect(d.annotations?.['dev.countersign.test']).toBe('yes')
  const m = await client.fetchManifest({ ...repo, digest: d.digest })
  expect(m.descriptor.size).toBe(d.size)
  if (!('layers' in m.manifest)) throw new Error('expected an image manifest')
  expect(m.manifest.subject?.digest).toBe(subjectDigest)
  expect(m.manifest.artifactType).toBe(BUNDLE_MEDIA_TYPE)
  const [layer] = m.manifest.layers
  expect(layer?.mediaType).toBe(BUNDLE_MEDIA_TYPE)
  return { descriptor: d, layer: await client.fetchBlob(repo, layer!.digest) }
}

describe('@sigstore/oci attaches a bundle; countersign finds and reads it', () => {
  let reg: TestRegistry
  let fake: ServedFakeRegistry
  beforeAll(async () => {
    ;[reg, fake] = await Promise.all([startRegistry({ auth: USER }), startFakeRegistry()])
  })
  afterAll(async () => {
    await Promise.all([reg?.stop(), fake?.stop()])
  })

  test('registry 2.8 with basic auth (no Referrers API): sigstore-js writes the referrers tag, we read it', async () => {
    const client = createRegistryClient({ credentials: async () => USER })
    const repo = parseReference(`${reg.host}/interop/sigstore-js:v1`)
    await pushTinyImage(client, repo, 'sigstore-js subject')
    const subject = await client.resolve(repo)
    const artifact = bundleBytes('fallback')
    const attached = await attachArtifactToImage({
      imageName: `${reg.host}/interop/sigstore-js`,
      imageDigest: subject.digest,
      artifact,
      mediaType: BUNDLE_MEDIA_TYPE,
      annotations: { 'dev.countersign.test': 'yes' },
      credentials: USER,
    })
    expect(await client.listTags(repo)).toContain(referrersTag(subject.digest))
    const { descriptor, layer } = await readBundleBack(client, repo, subject.digest)
    expect(descriptor.digest).toBe(attached.digest)
    expect(descriptor.artifactType).toBe(BUNDLE_MEDIA_TYPE)
    expect(layer).toEqual(new Uint8Array(artifact))

    // countersign adds a referrer to the same tag: sigstore-js's entry is kept (re-encoded as ggcr would).
    const ours = await attach(client, repo, subject, { artifactType: 'application/vnd.example.sbom.v1+json' })
    const all = await listReferrers(client, repo, subject.digest)
    expect(all.map((d) => d.digest).sort()).toEqual([attached.digest, ours.digest].sort())
    const index = text((await client.fetchManifest({ ...repo, tag: referrersTag(subject.digest) })).bytes)
    expect(
      index.startsWith('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['),
    ).toBe(true)
    expect((await readBundleBack(client, repo, subject.digest)).descriptor.digest).toBe(attached.digest)
  })

  test('registry with the Referrers API (fake over HTTP): sigstore-js relies on the API, we list through it', async () => {
    const client = createRegistryClient()
    const repo = parseReference(`${fake.host}/interop/sigstore-js-api:v1`)
    await pushTinyImage(client, repo, 'sigstore-js api subject')
    const subject = await client.resolve(repo)
    const artifact = bundleBytes('api')
    const attached = await attachArtifactToImage({
      imageName: `${fake.host}/interop/sigstore-js-api`,
      imageDigest: subject.digest,
      artifact,
      mediaType: BUNDLE_MEDIA_TYPE,
      annotations: { 'dev.countersign.test': 'yes' },
      // Anonymous registry: sigstore-js signs in only when given credentials.
      credentials: undefined as unknown as Credentials,
    })
    expect(await client.listTags(repo)).toEqual(['v1'])
    const { descriptor, layer } = await readBundleBack(client, repo, subject.digest)
    expect(descriptor.digest).toBe(attached.digest)
    expect(layer).toEqual(new Uint8Array(artifact))
    expect(fake.requests.some((r) => r.path.endsWith(`/referrers/${subject.digest}`))).toBe(true)
  })
})
