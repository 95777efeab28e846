/**
 * Referrers against real servers: Debian's docker-registry 2.8 (no Referrers API → the tag-schema fallback) and the
 * fake registry served over HTTP (with the API), each read by the other path's reader.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference } from '../../src/oci/reference.js'
import { listReferrers, referrersTag } from '../../src/oci/referrers.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { type ServedFakeRegistry, startFakeRegistry } from '../support/fake-registry.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { attach, BUNDLE_MEDIA_TYPE, SBOM_TYPE, text } from './referrers-helpers.js'

describe('referrers on docker-registry 2.8 (fallback) and on a registry with the API', () => {
  let reg: TestRegistry
  let fake: ServedFakeRegistry
  beforeAll(async () => {
    ;[reg, fake] = await Promise.all([startRegistry(), startFakeRegistry()])
  })
  afterAll(async () => {
    await Promise.all([reg?.stop(), fake?.stop()])
  })

  async function subjectIn(host: string, name: string) {
    const client = createRegistryClient()
    const repo = parseReference(`${host}/${name}:v1`)
    await pushTinyImage(client, repo, `subject ${name}`)
    // The shared `{}` config blob up front: when 10 clients commit the same blob at once, distribution 2.8 answers
    // HEAD of that blob with 500 and manifest PUTs naming it with DIGEST_INVALID (a half-rewritten link file).
    // pushReferrer retries the latter; the blob uploads in the test helper are the registry client's business.
    await client.pushBlob(repo, new TextEncoder().encode('{}'), 'application/vnd.oci.empty.v1+json')
    return { client, repo, subject: await client.resolve(repo) }
  }

  test('registry 2.8: the Referrers API is absent, the fallback index is written and read back', async () => {
    const { client, repo, subject } = await subjectIn(reg.host, 'ref/fallback')
    expect(await client.referrers(repo, subject.digest)).toBeUndefined()
    const bundle = await attach(client, repo, subject, {
      artifactType: BUNDLE_MEDIA_TYPE,
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
    })
    const sbom = await attach(client, repo, subject, { configMediaType: SBOM_TYPE, layerMediaType: 'text/plain' })
    expect(bundle.pushed.subjectAccepted).toBe(false)
    // The referrer itself is untagged (pushed by digest); the fallback index is at sha256-<hex>.
    const tags = await client.listTags(repo)
    expect(tags.sort()).toEqual([referrersTag(subject.digest), 'v1'].sort())
    const index = await client.fetchManifest({ ...repo, tag: referrersTag(subject.digest) })
    expect(index.descriptor.mediaType).toBe(OCI_IMAGE_INDEX_MEDIA_TYPE)
    expect(JSON.parse(text(index.bytes)).manifests.map((d: { digest: string }) => d.digest)).toEqual(
      [bundle.digest, sbom.digest].sort(),
    )

    const all = await listReferrers(client, repo, subject.digest)
    expect(all.find((d) => d.digest === bundle.digest)).toEqual({
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      size: bundle.bytes.length,
      digest: bundle.digest,
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
      artifactType: BUNDLE_MEDIA_TYPE,
    })
    const sboms = await listReferrers(client, repo, subject.digest, { artifactType: SBOM_TYPE })
    expect(sboms.map((d) => d.digest)).toEqual([sbom.digest])
    // Each listed referrer can be fetched and its layer read.
    const m = await client.fetchManifest({ ...repo, digest: bundle.digest })
    expect(m.bytes).toEqual(bundle.bytes)
    expect(await client.fetchBlob(repo, bundle.layer.digest)).toHaveLength(bundle.layer.size)
  })

  test('registry with the API (fake over HTTP): written without a fallback tag, listed through the API', async () => {
    const { client, repo, subject } = await subjectIn(fake.host, 'ref/api')
    const bundle = await attach(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    const sbom = await attach(client, repo, subject, { artifactType: SBOM_TYPE })
    expect(bundle.pushed.subjectAccepted).toBe(true)
    expect(await client.listTags(repo)).toEqual(['v1'])
    expect((await client.referrers(repo, subject.digest))?.length).toBe(2)
    const got = await listReferrers(client, repo, subject.digest, { artifactType: BUNDLE_MEDIA_TYPE })
    expect(got.map((d) => d.digest)).toEqual([bundle.digest])
    expect((await listReferrers(client, repo, subject.digest)).map((d) => d.digest).sort()).toEqual(
      [bundle.digest, sbom.digest].sort(),
    )
  })

  test('10 independent signers race on registry 2.8, 5 rounds: all 10 entries survive every time', async () => {
    for (let round = 0; round < 5; round++) {
      const { repo, subject } = await subjectIn(reg.host, `ref/race${round}`)
      // Separate clients: no shared in-process lock, a real read-modify-write race on the tag.
      const writers = Array.from({ length: 10 }, () => createRegistryClient())
      const pushed = await Promise.all(
        writers.map((c, i) => attach(c, repo, subject, { artifactType: SBOM_TYPE, payload: `r${round} w${i}` })),
      )
      const listed = await listReferrers(createRegistryClient(), repo, subject.digest)
      expect(listed.map((d) => d.digest).sort()).toEqual(pushed.map((p) => p.digest).sort())
    }
  }, 120_000)

  test('10 concurrent pushes through one client on registry 2.8, 3 rounds', async () => {
    for (let round = 0; round < 3; round++) {
      const { client, repo, subject } = await subjectIn(reg.host, `ref/one-client${round}`)
      const pushed = await Promise.all(
        Array.from({ length: 10 }, (_, i) => attach(client, repo, subject, { payload: `one r${round} w${i}` })),
      )
      const listed = await listReferrers(client, repo, subject.digest)
      expect(listed.map((d) => d.digest).sort()).toEqual(pushed.map((p) => p.digest).sort())
    }
  }, 120_000)
})
