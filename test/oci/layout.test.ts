import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { createNodeLayoutFileSystem, openLayout } from '../../src/node/layout-fs.js'
import { computeDigest } from '../../src/oci/digest.js'
import { createLayoutStore, type LayoutFileSystem } from '../../src/oci/layout.js'
import {
  EMPTY_JSON_DIGEST,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import { parseReference, withDigest, withTag } from '../../src/oci/reference.js'

const enc = new TextEncoder()
const dec = new TextDecoder()
const repo = parseReference('ignored.example/any/repo')

function manifest(note: string): Uint8Array {
  return enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [],
      annotations: { note },
    }),
  )
}

async function readIndex(fs: LayoutFileSystem) {
  return JSON.parse(dec.decode((await fs.readFile('index.json'))!))
}

describe('layout store (memory fs)', () => {
  test('push and read by tag and digest; tags replace; untagged digest entries are added once', async () => {
    const fs = createMemoryFileSystem()
    const layout = createLayoutStore(fs)
    expect(layout.kind).toBe('layout')
    const blob = await layout.pushBlob(repo, enc.encode('{}'), 'application/vnd.oci.empty.v1+json')
    expect(blob.digest).toBe(EMPTY_JSON_DIGEST)
    const m1 = manifest('one')
    const d1 = await layout.pushManifest(withTag(repo, 'v1'), m1, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect(d1.digest).toBe(await computeDigest(m1))
    expect(fs.paths()).toEqual(
      [
        'blobs/sha256/' + EMPTY_JSON_DIGEST.slice(7),
        `blobs/sha256/${d1.digest.slice(7)}`,
        'index.json',
        'oci-layout',
      ].sort(),
    )
    expect(dec.decode((await fs.readFile('oci-layout'))!)).toBe('{"imageLayoutVersion":"1.0.0"}')

    expect(await layout.resolve(withTag(repo, 'v1'))).toEqual(d1)
    const got = await layout.fetchManifest(withTag(repo, 'v1'))
    expect(got.bytes).toEqual(m1)
    expect(got.descriptor).toEqual(d1)
    expect((await layout.fetchManifest(withDigest(repo, d1.digest))).descriptor).toEqual(d1)
    expect(await layout.blobExists(repo, EMPTY_JSON_DIGEST)).toBe(true)
    expect(await layout.fetchBlob(repo, EMPTY_JSON_DIGEST)).toEqual(enc.encode('{}'))

    const m2 = manifest('two')
    const d2 = await layout.pushManifest(withTag(repo, 'v1'), m2, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect((await layout.resolve(withTag(repo, 'v1'))).digest).toBe(d2.digest)
    expect((await readIndex(fs)).manifests).toHaveLength(1)
    // The old manifest stays reachable by digest through blobs/.
    expect((await layout.fetchManifest(withDigest(repo, d1.digest))).bytes).toEqual(m1)

    await layout.pushManifest(withDigest(repo, d1.digest), m1, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    await layout.pushManifest(withDigest(repo, d1.digest), m1, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    const idx = await readIndex(fs)
    expect(idx.manifests).toHaveLength(2)
    expect(idx.manifests[1]).toEqual(d1)
    expect(idx.mediaType).toBe(OCI_IMAGE_INDEX_MEDIA_TYPE)
    expect(await layout.listTags(repo)).toEqual(['v1'])
  })

  test('.sig/.att tags get cosign kind annotations', async () => {
    const fs = createMemoryFileSystem()
    const layout = createLayoutStore(fs)
    const tag = `sha256-${'a'.repeat(64)}.sig`
    await layout.pushManifest(withTag(repo, tag), manifest('sig'), OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    await layout.pushManifest(
      withTag(repo, `sha256-${'a'.repeat(64)}.att`),
      manifest('att'),
      OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    )
    const idx = await readIndex(fs)
    expect(idx.manifests[0].annotations).toEqual({
      'org.opencontainers.image.ref.name': tag,
      kind: 'dev.cosignproject.cosign/sigs',
    })
    expect(idx.manifests[1].annotations.kind).toBe('dev.cosignproject.cosign/atts')
  })

  test('reads a cosign-save style layout (kind annotations, no ref names)', async () => {
    const fs = createMemoryFileSystem()
    const image = manifest('image')
    const sigs = manifest('sigs')
    const atts = manifest('atts')
    const entries = []
    for (const [bytes, kind] of [
      [image, 'dev.cosignproject.cosign/image'],
      [sigs, 'dev.cosignproject.cosign/sigs'],
      [atts, 'dev.cosignproject.cosign/atts'],
    ] as const) {
      const digest = await computeDigest(bytes)
      await fs.writeFile(`blobs/sha256/${digest.slice(7)}`, bytes)
      entries.push({ mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, size: bytes.length, digest, annotations: { kind } })
    }
    await fs.writeFile('oci-layout', enc.encode('{"imageLayoutVersion":"1.0.0"}'))
    await fs.writeFile(
      'index.json',
      enc.encode(JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: entries })),
    )
    const layout = createLayoutStore(fs)
    const imageDigest = entries[0]!.digest
    const hex = imageDigest.slice(7)

    // Default reference (tag latest) → the image.
    expect((await layout.resolve(parseReference('whatever'))).digest).toBe(imageDigest)
    expect((await layout.fetchManifest(parseReference(`x:sha256-${hex}.sig`))).bytes).toEqual(sigs)
    expect((await layout.fetchManifest(parseReference(`x:sha256-${hex}.att`))).bytes).toEqual(atts)
    await expect(layout.resolve(parseReference(`x:sha256-${'f'.repeat(64)}.sig`))).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
    await expect(layout.resolve(parseReference('x:v9'))).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
    expect(await layout.listTags(repo)).toEqual([])

    // Adding our own .sig tag for the image takes precedence over the kind fallback and keeps the rest.
    const newSigs = manifest('new sigs')
    await layout.pushManifest(parseReference(`x:sha256-${hex}.sig`), newSigs, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect((await layout.fetchManifest(parseReference(`x:sha256-${hex}.sig`))).bytes).toEqual(newSigs)
    expect((await readIndex(fs)).manifests).toHaveLength(4)
  })

  test('latest: only a single entry, or the single cosign image, is the default', async () => {
    const fs = createMemoryFileSystem()
    const layout = createLayoutStore(fs)
    const d = await layout.pushManifest(
      withDigest(repo, await computeDigest(manifest('a'))),
      manifest('a'),
      OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    )
    expect((await layout.resolve(parseReference('x'))).digest).toBe(d.digest)
    await layout.pushManifest(withTag(repo, 'v2'), manifest('b'), OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    await expect(layout.resolve(parseReference('x'))).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
  })

  test('hostile layouts', async () => {
    const fs = createMemoryFileSystem()
    const layout = createLayoutStore(fs)
    await expect(layout.listTags(repo)).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
    await fs.writeFile('index.json', enc.encode('{nope'))
    await expect(layout.listTags(repo)).rejects.toMatchObject({ code: 'ERR_OCI_MANIFEST_INVALID' })
    await fs.writeFile(
      'index.json',
      enc.encode('{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:../../etc","size":1}]}'),
    )
    await expect(layout.listTags(repo)).rejects.toMatchObject({ code: 'ERR_OCI_MANIFEST_INVALID' })

    // A blob whose content does not match its name.
    const m = manifest('x')
    const d = await computeDigest(m)
    await fs.writeFile(
      'index.json',
      enc.encode(
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
              digest: d,
              size: m.length,
              annotations: { 'org.opencontainers.image.ref.name': 'v1' },
            },
          ],
        }),
      ),
    )
    await fs.writeFile(`blobs/sha256/${d.slice(7)}`, manifest('tampered'))
    await expect(layout.fetchManifest(withTag(repo, 'v1'))).rejects.toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })
    await fs.writeFile(`blobs/sha256/${EMPTY_JSON_DIGEST.slice(7)}`, enc.encode('[]'))
    await expect(layout.fetchBlob(repo, EMPTY_JSON_DIGEST)).rejects.toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })
    await expect(layout.fetchBlob(repo, EMPTY_JSON_DIGEST, { maxSize: 1 })).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
    })
    await expect(layout.fetchBlob(repo, `sha256:${'0'.repeat(64)}`)).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
    await expect(layout.fetchBlob(repo, 'sha256:../../x')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })

  test('writes blobs before index.json, so a failed write never leaves index.json pointing at a missing blob', async () => {
    const inner = createMemoryFileSystem()
    const order: string[] = []
    let failBlobs = false
    const fs: LayoutFileSystem = {
      readFile: (p) => inner.readFile(p),
      async writeFile(p, d) {
        if (failBlobs && p.startsWith('blobs/')) throw new Error('disk full')
        order.push(p)
        await inner.writeFile(p, d)
      },
    }
    const layout = createLayoutStore(fs)
    await layout.pushManifest(withTag(repo, 'v1'), manifest('a'), OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect(order[0]).toMatch(/^blobs\/sha256\//)
    expect(order.at(-1)).toBe('index.json')
    failBlobs = true
    const before = await inner.readFile('index.json')
    await expect(
      layout.pushManifest(withTag(repo, 'v2'), manifest('b'), OCI_IMAGE_MANIFEST_MEDIA_TYPE),
    ).rejects.toThrow('disk full')
    expect(await inner.readFile('index.json')).toEqual(before)
  })

  test('concurrent pushes do not lose index entries', async () => {
    const fs = createMemoryFileSystem()
    const layout = createLayoutStore(fs)
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        layout.pushManifest(withTag(repo, `t${i}`), manifest(`m${i}`), OCI_IMAGE_MANIFEST_MEDIA_TYPE),
      ),
    )
    expect((await layout.listTags(repo)).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`).sort())
  })
})

describe('layout store (node fs)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'countersign-layout-'))
  afterAll(() => rmSync(tmp, { recursive: true, force: true }))

  test('openLayout creates, writes atomically, and reopens', async () => {
    expect(() => openLayout(join(tmp, 'missing'))).toThrow(expect.objectContaining({ code: 'ERR_OCI_NOT_FOUND' }))
    const dir = join(tmp, 'l1')
    const layout = openLayout(dir, { create: true })
    expect(readFileSync(join(dir, 'oci-layout'), 'utf8')).toBe('{"imageLayoutVersion":"1.0.0"}')
    expect(JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')).manifests).toEqual([])
    await layout.pushBlob(repo, enc.encode('{}'), 'application/vnd.oci.empty.v1+json')
    const d = await layout.pushManifest(withTag(repo, 'v1'), manifest('node'), OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect(existsSync(join(dir, 'blobs', 'sha256', d.digest.slice(7)))).toBe(true)
    expect(readdirSync(join(dir, 'blobs', 'sha256')).some((f) => f.includes('.tmp-'))).toBe(false)
    expect(readdirSync(dir).some((f) => f.includes('.tmp-'))).toBe(false)
    const again = openLayout(dir)
    expect((await again.resolve(withTag(repo, 'v1'))).digest).toBe(d.digest)
    expect(await again.listTags(repo)).toEqual(['v1'])
  })

  test('the node file system refuses paths outside the layout', async () => {
    const fs = createNodeLayoutFileSystem(join(tmp, 'l2'))
    await expect(fs.writeFile('../escape', new Uint8Array())).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    await expect(fs.readFile('/etc/passwd')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    expect(await fs.readFile('index.json')).toBeUndefined()
  })
})
