import { describe, expect, test } from 'vitest'
import {
  DOCKER_MANIFEST_LIST_MEDIA_TYPE,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'
import { parseReference, withTag } from '../../src/oci/reference.js'
import { listReferrers, pushReferrer, referrersTag, repairReferrersIndex } from '../../src/oci/referrers.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { Descriptor, OCIStore } from '../../src/oci/types.js'
import { createFakeRegistry, type FakeRegistry, type FakeRegistryOptions } from '../support/fake-registry.js'
import { pushTinyImage } from '../support/oci-image.js'
import { attach, BUNDLE_MEDIA_TYPE, buildArtifact, SBOM_TYPE, text } from './referrers-helpers.js'

const enc = new TextEncoder()

async function setup(options: FakeRegistryOptions = {}, name = 'team/app') {
  const fake = createFakeRegistry(options)
  const client = createRegistryClient({ fetch: fake.fetch })
  const repo = parseReference(`fake.test/${name}:v1`)
  await pushTinyImage(client, repo, `subject of ${name}`)
  const subject = await client.resolve(repo)
  const tag = referrersTag(subject.digest)
  return { fake, client, repo, subject, tag }
}

const putCount = (fake: FakeRegistry, tag: string) =>
  fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith(`/manifests/${tag}`)).length

describe('referrersTag (distribution-spec §Referrers Tag Schema)', () => {
  test('the table of the spec', () => {
    expect(referrersTag(`sha256:${'a'.repeat(64)}`)).toBe(`sha256-${'a'.repeat(64)}`)
    expect(referrersTag(`sha512:${'a'.repeat(128)}`)).toBe(`sha512-${'a'.repeat(64)}`)
    expect(
      referrersTag(
        'test+algorithm+using+algorithm+separators+and+lots+of+characters+to+excercise+overall+truncation:alsoSome=InTheEncodedSectionToShowHyphenReplacementAndLotsAndLotsOfCharactersToExcerciseEncodedTruncation',
      ),
    ).toBe('test-algorithm-using-algorithm-s-alsoSome-InTheEncodedSectionToShowHyphenReplacementAndLotsAndLot')
  })

  test('rejects what is not a digest', () => {
    for (const bad of ['', 'sha256', 'SHA256:abc', 'sha256:', ':abc', 'sha256:a/b', 'sha256:../x']) {
      expect(() => referrersTag(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    }
  })
})

describe('Referrers API path (fake registry with the API)', () => {
  test('push by digest, OCI-Subject accepted, no fallback tag; list and filter through the API', async () => {
    const { fake, client, repo, subject, tag } = await setup()
    const bundle = await attach(client, repo, subject, {
      artifactType: BUNDLE_MEDIA_TYPE,
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
    })
    const sbom = await attach(client, repo, subject, { configMediaType: SBOM_TYPE, layerMediaType: 'text/plain' })
    expect(bundle.pushed).toMatchObject({ digest: bundle.digest, subjectAccepted: true })
    expect(sbom.pushed.subjectAccepted).toBe(true)
    expect(fake.manifest('team/app', tag)).toBeUndefined()
    expect(fake.requests.some((r) => r.method === 'PUT' && r.path.endsWith(`/manifests/${bundle.digest}`))).toBe(true)

    const all = await listReferrers(client, repo, subject.digest)
    expect(all.map((d) => d.digest).sort()).toEqual([bundle.digest, sbom.digest].sort())
    expect(all.find((d) => d.digest === bundle.digest)).toEqual({
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      digest: bundle.digest,
      size: bundle.bytes.length,
      artifactType: BUNDLE_MEDIA_TYPE,
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
    })
    // No artifactType in the manifest: the config media type (spec and ggcr).
    expect(all.find((d) => d.digest === sbom.digest)?.artifactType).toBe(SBOM_TYPE)
    const onlySbom = await listReferrers(client, repo, subject.digest, { artifactType: SBOM_TYPE })
    expect(onlySbom.map((d) => d.digest)).toEqual([sbom.digest])
    expect(fake.requests.filter((r) => r.path.includes('/referrers/')).every((r) => r.status === 200)).toBe(true)
  })

  test('a registry that ignores the filter: countersign filters locally', async () => {
    const { client, repo, subject } = await setup({ ignoreArtifactTypeFilter: true })
    await attach(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    const sbom = await attach(client, repo, subject, { artifactType: SBOM_TYPE })
    const got = await listReferrers(client, repo, subject.digest, { artifactType: SBOM_TYPE })
    expect(got.map((d) => d.digest)).toEqual([sbom.digest])
  })

  test('paged Referrers API responses are followed', async () => {
    const { client, repo, subject } = await setup({ referrersPageSize: 2 })
    const pushed = []
    for (let i = 0; i < 5; i++) pushed.push((await attach(client, repo, subject, { artifactType: SBOM_TYPE })).digest)
    const got = await listReferrers(client, repo, subject.digest)
    expect(got.map((d) => d.digest).sort()).toEqual(pushed.sort())
  })

  test('no referrers → []', async () => {
    const { client, repo, subject } = await setup()
    expect(await listReferrers(client, repo, subject.digest)).toEqual([])
  })
})

describe('tag-schema fallback (fake registry without the API, like distribution 2.8)', () => {
  test('push maintains the index at sha256-<hex>; the API-first reader falls back to it; filters apply', async () => {
    const { fake, client, repo, subject, tag } = await setup({ referrersAPI: false })
    expect(await listReferrers(client, repo, subject.digest)).toEqual([])
    const bundle = await attach(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    const sbom = await attach(client, repo, subject, { configMediaType: SBOM_TYPE, layerMediaType: 'text/plain' })
    expect(bundle.pushed.subjectAccepted).toBe(false)
    const stored = fake.manifest('team/app', tag)
    expect(stored?.mediaType).toBe(OCI_IMAGE_INDEX_MEDIA_TYPE)
    const all = await listReferrers(client, repo, subject.digest)
    expect(all.map((d) => d.digest)).toEqual([bundle.digest, sbom.digest].sort())
    expect(all.find((d) => d.digest === sbom.digest)?.artifactType).toBe(SBOM_TYPE)
    expect((await listReferrers(client, repo, subject.digest, { artifactType: BUNDLE_MEDIA_TYPE })).length).toBe(1)
    expect(await listReferrers(client, repo, subject.digest, { artifactType: 'nope' })).toEqual([])
  })

  test('OCI-Subject without a Referrers API (as ECR does): the fallback is written anyway', async () => {
    const { fake, client, repo, subject, tag } = await setup({ referrersAPI: false, subjectHeader: true })
    const a = await attach(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    expect(a.pushed.subjectAccepted).toBe(true)
    expect(fake.manifest('team/app', tag)).toBeDefined()
    expect((await listReferrers(client, repo, subject.digest)).map((d) => d.digest)).toEqual([a.digest])
  })

  test('pushing the same referrer twice writes the index once', async () => {
    const { fake, client, repo, subject, tag } = await setup({ referrersAPI: false })
    const a = await buildArtifact(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    await pushReferrer(client, repo, a.bytes, a.mediaType, { subject })
    await pushReferrer(client, repo, a.bytes, a.mediaType, { subject })
    expect(putCount(fake, tag)).toBe(1)
    expect((await listReferrers(client, repo, subject.digest)).length).toBe(1)
  })
})

describe('fallback index bytes = what go-containerregistry writes', () => {
  // ggcr pkg/v1/remote/write.go commitManifest + commitSubjectReferrers (3f4ff3c):
  // - the added descriptor is v1.Descriptor{MediaType: manifest.mediaType, Digest, Size, ArtifactType: manifest
  //   artifactType, else config.mediaType} — ggcr copies no annotations;
  // - a missing tag starts from v1.IndexManifest{SchemaVersion: 2, MediaType: OCI index}; an existing one is decoded
  //   into v1.IndexManifest (unknown fields dropped), the descriptor appended unless its digest is there already;
  // - manifests are sorted by digest string, then json.Marshal'ed: IndexManifest field order schemaVersion,
  //   mediaType, manifests, annotations, subject, artifactType; Descriptor field order mediaType, size, digest, data,
  //   urls, annotations, platform, artifactType (omitempty on all but the first three); map keys sorted; Go's HTML
  //   escaping (<, >, & → \u003c, \u003e, \u0026).
  test('a new index, then a second entry sorted in by digest', async () => {
    const { fake, client, repo, subject, tag } = await setup({ referrersAPI: false })
    const first = await attach(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE, payload: 'one' })
    expect(text(fake.manifest('team/app', tag)!.bytes)).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":${first.bytes.length},"digest":"${first.digest}","artifactType":"${BUNDLE_MEDIA_TYPE}"}]}`,
    )
    // cosign's bundle manifests carry annotations; `annotations: {}` reproduces ggcr, which does not copy them.
    const second = await attach(client, repo, subject, {
      artifactType: BUNDLE_MEDIA_TYPE,
      payload: 'two',
      annotations: { 'dev.sigstore.bundle.content': 'dsse-envelope' },
      entryAnnotations: {},
    })
    const entries = [first, second]
      .sort((a, b) => (a.digest < b.digest ? -1 : 1))
      .map(
        (a) =>
          `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":${a.bytes.length},"digest":"${a.digest}","artifactType":"${BUNDLE_MEDIA_TYPE}"}`,
      )
    expect(text(fake.manifest('team/app', tag)!.bytes)).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[${entries.join(',')}]}`,
    )
  })

  test('an existing index written by another client is re-encoded as ggcr decodes and re-marshals it', async () => {
    const { fake, client, repo, subject, tag } = await setup({ referrersAPI: false, checkReferences: false })
    const other = `sha256:${'f'.repeat(64)}`
    const early = `sha256:${'0'.repeat(64)}`
    // sigstore-js style: different key order, annotations unsorted, an unknown field, HTML characters.
    const existing = {
      mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE,
      schemaVersion: 2,
      manifests: [
        {
          digest: other,
          size: 10,
          mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
          artifactType: 'a<b>&c',
          annotations: { z: '1', a: '2' },
          unknown: true,
        },
        {
          mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE,
          digest: early,
          size: 5,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8', extra: 'x' },
          urls: [],
        },
      ],
      annotations: { 'org.example': 'kept' },
      extra: 'dropped',
    }
    await client.pushManifest(withTag(repo, tag), enc.encode(JSON.stringify(existing)), OCI_IMAGE_INDEX_MEDIA_TYPE)
    const a = await attach(client, repo, subject, { configMediaType: SBOM_TYPE, layerMediaType: 'text/plain' })
    const mine = `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":${a.bytes.length},"digest":"${a.digest}","artifactType":"${SBOM_TYPE}"}`
    const entries = [
      `{"mediaType":"application/vnd.oci.image.index.v1+json","size":5,"digest":"${early}","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}`,
      mine,
      `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":10,"digest":"${other}","annotations":{"a":"2","z":"1"},"artifactType":"a\\u003cb\\u003e\\u0026c"}`,
    ]
    expect(text(fake.manifest('team/app', tag)!.bytes)).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[${entries.join(',')}],"annotations":{"org.example":"kept"}}`,
    )
  })

  test('by default the entry carries the manifest annotations (distribution-spec), between digest and artifactType', async () => {
    const { fake, client, repo, subject, tag } = await setup({ referrersAPI: false })
    const a = await attach(client, repo, subject, {
      artifactType: BUNDLE_MEDIA_TYPE,
      annotations: { 'org.opencontainers.image.created': '2025-10-28T04:07:47Z', 'dev.sigstore.bundle.content': 'x' },
    })
    expect(text(fake.manifest('team/app', tag)!.bytes)).toBe(
      `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
        `{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":${a.bytes.length},"digest":"${a.digest}",` +
        `"annotations":{"dev.sigstore.bundle.content":"x","org.opencontainers.image.created":"2025-10-28T04:07:47Z"},` +
        `"artifactType":"${BUNDLE_MEDIA_TYPE}"}]}`,
    )
  })
})

describe('hostile or broken fallback indexes', () => {
  async function hostile(bytes: Uint8Array, mediaType: string) {
    const ctx = await setup({ referrersAPI: false, checkReferences: false })
    // Straight to the registry: our client refuses to push such documents.
    const res = await ctx.fake.fetch(`https://fake.test/v2/team/app/manifests/${ctx.tag}`, {
      method: 'PUT',
      body: new Uint8Array(bytes),
      headers: { 'Content-Type': mediaType },
    })
    expect(res.status).toBe(201)
    return ctx
  }
  const json = (v: unknown) => enc.encode(JSON.stringify(v))

  test('an image manifest at the tag: coded error when listing and when pushing', async () => {
    const d = { mediaType: 'application/vnd.oci.empty.v1+json', digest: `sha256:${'1'.repeat(64)}`, size: 2 }
    const bytes = json({ schemaVersion: 2, mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, config: d, layers: [] })
    const { client, repo, subject } = await hostile(bytes, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    await expect(listReferrers(client, repo, subject.digest)).rejects.toMatchObject({
      code: 'ERR_OCI_MANIFEST_INVALID',
    })
    const a = await buildArtifact(client, repo, subject)
    await expect(pushReferrer(client, repo, a.bytes, a.mediaType, { subject })).rejects.toMatchObject({
      code: 'ERR_OCI_MANIFEST_INVALID',
    })
  })

  test('a Docker manifest list, bad JSON, a bad descriptor: ERR_OCI_MANIFEST_INVALID', async () => {
    const cases: [Uint8Array, string][] = [
      [
        json({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST_MEDIA_TYPE, manifests: [] }),
        DOCKER_MANIFEST_LIST_MEDIA_TYPE,
      ],
      [
        json({ schemaVersion: 2, manifests: [{ mediaType: 'x', digest: 'sha256:zz', size: 1 }] }),
        OCI_IMAGE_INDEX_MEDIA_TYPE,
      ],
      [
        json({ schemaVersion: 2, manifests: [{ mediaType: 'x', digest: `sha256:${'1'.repeat(64)}`, size: '1' }] }),
        OCI_IMAGE_INDEX_MEDIA_TYPE,
      ],
      [json({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: {} }), OCI_IMAGE_INDEX_MEDIA_TYPE],
    ]
    for (const [bytes, mediaType] of cases) {
      const { client, repo, subject } = await hostile(bytes, mediaType)
      await expect(listReferrers(client, repo, subject.digest)).rejects.toMatchObject({
        code: 'ERR_OCI_MANIFEST_INVALID',
      })
    }
  })

  test('a huge index: ERR_OCI_SIZE_LIMIT', async () => {
    const entry = { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, digest: `sha256:${'1'.repeat(64)}`, size: 1 }
    const manifests = Array.from({ length: 50_000 }, () => entry)
    const { client, repo, subject } = await hostile(
      json({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests }),
      OCI_IMAGE_INDEX_MEDIA_TYPE,
    )
    await expect(listReferrers(client, repo, subject.digest)).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
  })

  test('duplicate entries are listed once', async () => {
    const entry = { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, digest: `sha256:${'1'.repeat(64)}`, size: 1 }
    const { client, repo, subject } = await hostile(
      json({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: [entry, entry] }),
      OCI_IMAGE_INDEX_MEDIA_TYPE,
    )
    expect(await listReferrers(client, repo, subject.digest)).toEqual([entry])
  })
})

describe('pushReferrer input checks', () => {
  test('no subject, another subject, another artifactType: ERR_INVALID_INPUT, nothing pushed', async () => {
    const { fake, client, repo, subject } = await setup({ referrersAPI: false })
    const a = await buildArtifact(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    const doc = JSON.parse(text(a.bytes))
    delete doc.subject
    const before = fake.requests.length
    await expect(
      pushReferrer(client, repo, enc.encode(JSON.stringify(doc)), a.mediaType, { subject }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    const otherSubject: Descriptor = { ...subject, digest: `sha256:${'2'.repeat(64)}` }
    await expect(pushReferrer(client, repo, a.bytes, a.mediaType, { subject: otherSubject })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    await expect(
      pushReferrer(client, repo, a.bytes, a.mediaType, { subject, artifactType: SBOM_TYPE }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    expect(fake.requests.length).toBe(before)
    await expect(
      pushReferrer(client, repo, a.bytes, a.mediaType, { subject, artifactType: BUNDLE_MEDIA_TYPE }),
    ).resolves.toMatchObject({ digest: a.digest })
  })

  test('an aborted signal stops with ERR_ABORTED', async () => {
    const { client, repo, subject } = await setup({ referrersAPI: false })
    const a = await buildArtifact(client, repo, subject)
    const ac = new AbortController()
    ac.abort()
    await expect(
      pushReferrer(client, repo, a.bytes, a.mediaType, { subject, signal: ac.signal }),
    ).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await expect(listReferrers(client, repo, subject.digest, { signal: ac.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    })
  })
})

describe('concurrent writers on the fallback index', () => {
  test('10 pushes through one client: all 10 listed', async () => {
    const { client, repo, subject } = await setup({ referrersAPI: false })
    const pushed = await Promise.all(
      Array.from({ length: 10 }, (_, i) => attach(client, repo, subject, { payload: `same-client ${i}` })),
    )
    const listed = await listReferrers(client, repo, subject.digest)
    expect(listed.map((d) => d.digest).sort()).toEqual(pushed.map((p) => p.digest).sort())
  })

  test('10 independent clients racing (no shared lock), 5 rounds: nothing lost', async () => {
    const fake = createFakeRegistry({ referrersAPI: false })
    for (let round = 0; round < 5; round++) {
      const clients = Array.from({ length: 10 }, () => createRegistryClient({ fetch: slowFetch(fake) }))
      const repo = parseReference(`fake.test/race/r${round}:v1`)
      await pushTinyImage(clients[0]!, repo, `race ${round}`)
      const subject = await clients[0]!.resolve(repo)
      const pushed = await Promise.all(
        clients.map((c, i) => attach(c, repo, subject, { payload: `round ${round} writer ${i}` })),
      )
      const listed = await listReferrers(clients[0]!, repo, subject.digest)
      expect(listed.map((d) => d.digest).sort()).toEqual(pushed.map((p) => p.digest).sort())
    }
  })

  test('repairReferrersIndex puts back a lost entry and keeps the others', async () => {
    const { client, repo, subject, tag } = await setup({ referrersAPI: false })
    const a = await attach(client, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    const b = await attach(client, repo, subject, { artifactType: SBOM_TYPE })
    // Someone overwrites the index with only b.
    const onlyB = { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: [entryOf(b, SBOM_TYPE)] }
    await client.pushManifest(withTag(repo, tag), enc.encode(JSON.stringify(onlyB)), OCI_IMAGE_INDEX_MEDIA_TYPE)
    expect((await listReferrers(client, repo, subject.digest)).map((d) => d.digest)).toEqual([b.digest])
    await repairReferrersIndex(client, repo, subject.digest, [entryOf(a, BUNDLE_MEDIA_TYPE)])
    expect((await listReferrers(client, repo, subject.digest)).map((d) => d.digest).sort()).toEqual(
      [a.digest, b.digest].sort(),
    )
    await expect(repairReferrersIndex(client, repo, subject.digest, [{ digest: 'x' } as never])).rejects.toMatchObject({
      code: 'ERR_OCI_MANIFEST_INVALID',
    })
  })

  test('a writer that keeps losing gives up after maxAttempts with ERR_OCI_HTTP', async () => {
    const { client, repo, subject } = await setup({ referrersAPI: false })
    // A store whose tag writes never stick (another writer always wins).
    const lossy: OCIStore = {
      ...client,
      pushManifest: (ref, bytes, mediaType, o) =>
        ref.tag !== undefined
          ? Promise.resolve({ mediaType, digest: 'sha256:x', size: 0 })
          : client.pushManifest(ref, bytes, mediaType, o),
    }
    const a = await buildArtifact(client, repo, subject)
    await expect(pushReferrer(lossy, repo, a.bytes, a.mediaType, { subject, maxAttempts: 2 })).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
      details: { attempts: 2 },
    })
  })
})

function entryOf(a: { digest: string; bytes: Uint8Array }, artifactType: string): Descriptor {
  return { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, digest: a.digest, size: a.bytes.length, artifactType }
}

/** The fake registry with a little random latency, so in-process racers interleave as over a network. */
function slowFetch(fake: FakeRegistry): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    await new Promise((r) => setTimeout(r, Math.random() * 4))
    const res = await fake.fetch(input, init)
    await new Promise((r) => setTimeout(r, Math.random() * 4))
    return res
  }) as typeof fetch
}
