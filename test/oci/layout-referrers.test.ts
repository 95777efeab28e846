import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { openLayout } from '../../src/node/layout-fs.js'
import { createLayoutStore, type LayoutFileSystem, REF_NAME_ANNOTATION } from '../../src/oci/layout.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import { parseReference } from '../../src/oci/reference.js'
import { listReferrers, referrersTag } from '../../src/oci/referrers.js'
import type { OCIStore } from '../../src/oci/types.js'
import { pushTinyImage } from '../support/oci-image.js'
import { attach, BUNDLE_MEDIA_TYPE, buildArtifact, SBOM_TYPE, text } from './referrers-helpers.js'

const tmp = mkdtempSync(join(tmpdir(), 'countersign-layout-referrers-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))
const repo = parseReference('localhost/layout:v1')

/** A file system without listing or removal: the layout then has no "Referrers API" at all. */
function plain(fs: LayoutFileSystem): LayoutFileSystem {
  return { readFile: (p) => fs.readFile(p), writeFile: (p, d) => fs.writeFile(p, d) }
}

let dirs = 0
const stores: [string, () => { store: OCIStore; indexJSON: () => Promise<string> }][] = [
  [
    'memory',
    () => {
      const fs = createMemoryFileSystem()
      return { store: createLayoutStore(fs), indexJSON: async () => text((await fs.readFile('index.json'))!) }
    },
  ],
  [
    'node fs',
    () => {
      const dir = join(tmp, `l${dirs++}`)
      return {
        store: openLayout(dir, { create: true }),
        indexJSON: async () => readFileSync(join(dir, 'index.json'), 'utf8'),
      }
    },
  ],
]

describe.each(stores)('referrers in an OCI layout (%s)', (_name, make) => {
  test('pushReferrer writes the manifest blob and the referrers tag; listReferrers finds them, filtered', async () => {
    const { store, indexJSON } = make()
    await pushTinyImage(store, repo, 'layout subject')
    const subject = await store.resolve(repo)
    const bundle = await attach(store, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE, annotations: { k: 'v' } })
    const sbom = await attach(store, repo, subject, { configMediaType: SBOM_TYPE, layerMediaType: 'text/plain' })
    expect(bundle.pushed.subjectAccepted).toBeUndefined()

    const tag = referrersTag(subject.digest)
    expect(await store.listTags(repo)).toEqual(['v1', tag])
    const fallback = await store.fetchManifest({ ...repo, tag })
    expect(fallback.descriptor.mediaType).toBe(OCI_IMAGE_INDEX_MEDIA_TYPE)
    expect(JSON.parse(text(fallback.bytes)).manifests.map((d: { digest: string }) => d.digest)).toEqual(
      [bundle.digest, sbom.digest].sort(),
    )
    const index = JSON.parse(await indexJSON())
    expect(
      index.manifests.find(
        (e: { annotations?: Record<string, string> }) => e.annotations?.[REF_NAME_ANNOTATION] === tag,
      ),
    ).toBeDefined()

    const all = await listReferrers(store, repo, subject.digest)
    expect(all.map((d) => d.digest)).toEqual([bundle.digest, sbom.digest].sort())
    expect(all.find((d) => d.digest === bundle.digest)).toEqual({
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      digest: bundle.digest,
      size: bundle.bytes.length,
      artifactType: BUNDLE_MEDIA_TYPE,
      annotations: { k: 'v' },
    })
    const sboms = await listReferrers(store, repo, subject.digest, { artifactType: SBOM_TYPE })
    expect(sboms.map((d) => d.digest)).toEqual([sbom.digest])
    expect(await listReferrers(store, repo, `sha256:${'0'.repeat(64)}`)).toEqual([])
  })

  test('concurrent pushReferrer calls on one layout store: all listed in the referrers tag', async () => {
    const { store } = make()
    await pushTinyImage(store, repo, 'concurrent subject')
    const subject = await store.resolve(repo)
    const pushed = await Promise.all(
      Array.from({ length: 6 }, (_, i) => attach(store, repo, subject, { payload: `c${i}` })),
    )
    const fallback = await store.fetchManifest({ ...repo, tag: referrersTag(subject.digest) })
    expect(JSON.parse(text(fallback.bytes)).manifests.map((d: { digest: string }) => d.digest)).toEqual(
      pushed.map((p) => p.digest).sort(),
    )
  })

  test('deleteManifest: by tag drops the entry; by digest drops entries and the blob; missing → ERR_OCI_NOT_FOUND', async () => {
    const { store, indexJSON } = make()
    await pushTinyImage(store, repo, 'delete subject')
    const subject = await store.resolve(repo)
    const a = await attach(store, repo, subject, { artifactType: SBOM_TYPE })
    await store.pushManifest({ ...repo, tag: 'second' }, a.bytes, a.mediaType)

    await store.deleteManifest({ ...repo, tag: 'second' })
    expect(await store.listTags(repo)).not.toContain('second')
    await expect(store.deleteManifest({ ...repo, tag: 'second' })).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })

    await store.deleteManifest({ ...repo, digest: a.digest })
    expect(JSON.parse(await indexJSON()).manifests.some((e: { digest: string }) => e.digest === a.digest)).toBe(false)
    await expect(store.fetchManifest({ ...repo, digest: a.digest })).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
    // The scan no longer finds it (the referrers tag still names it: readers fetch it and get a 404, as on registries).
    expect(await store.referrers(repo, subject.digest)).toEqual([])
    await expect(store.deleteManifest({ ...repo, digest: a.digest })).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
    await expect(store.deleteManifest({ ...repo, digest: 'sha256:zz' })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    expect(await store.listTags(repo)).toEqual(['v1', referrersTag(subject.digest)])
  })
})

describe('layout referrers without a listable file system, and cosign save layouts', () => {
  test('no listFiles: referrers() is undefined and listReferrers reads the referrers tag', async () => {
    const store = createLayoutStore(plain(createMemoryFileSystem()))
    await pushTinyImage(store, repo, 'plain fs')
    const subject = await store.resolve(repo)
    expect(await store.referrers(repo, subject.digest)).toBeUndefined()
    const a = await attach(store, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    const b = await attach(store, repo, subject, { artifactType: SBOM_TYPE })
    expect((await listReferrers(store, repo, subject.digest)).map((d) => d.digest)).toEqual([a.digest, b.digest].sort())
    expect(
      (await listReferrers(store, repo, subject.digest, { artifactType: SBOM_TYPE })).map((d) => d.digest),
    ).toEqual([b.digest])
    // Deleting by digest without removeFile: the entries go, the blob stays (unlisted).
    await store.deleteManifest({ ...repo, digest: a.digest })
    expect((await store.fetchManifest({ ...repo, digest: a.digest })).bytes).toEqual(a.bytes)
  })

  test('a referrer kept only as a blob (as cosign save does, no index entry, no tag) is found by the scan', async () => {
    const dir = join(tmp, 'cosign-save-like')
    const store = openLayout(dir, { create: true })
    await pushTinyImage(store, repo, 'saved subject')
    const subject = await store.resolve(repo)
    const a = await buildArtifact(store, repo, subject, { artifactType: BUNDLE_MEDIA_TYPE })
    // Write the manifest as a bare blob, the way cosign save leaves bundle referrers.
    await store.pushBlob(repo, a.bytes, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests).toHaveLength(1)
    const found = await listReferrers(store, repo, subject.digest, { artifactType: BUNDLE_MEDIA_TYPE })
    expect(found).toEqual([
      {
        mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
        digest: a.digest,
        size: a.bytes.length,
        artifactType: BUNDLE_MEDIA_TYPE,
      },
    ])
    expect(readdirSync(join(dir, 'blobs', 'sha256')).some((n) => n.includes('.tmp-'))).toBe(false)
  })
})
