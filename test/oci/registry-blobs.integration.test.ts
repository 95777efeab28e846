import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { computeDigest } from '../../src/oci/digest.js'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference, withDigest, withTag } from '../../src/oci/reference.js'
import { createRegistryClient, type RegistryClientOptions, type RegistryRequestInfo } from '../../src/oci/registry.js'
import { tinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const MiB = 1024 * 1024

function counting(options: RegistryClientOptions = {}) {
  const requests: RegistryRequestInfo[] = []
  const client = createRegistryClient({ ...options, onRequest: (r) => requests.push(r) })
  const summary = () => requests.map((r) => `${r.method} ${r.status}`)
  return { client, requests, summary }
}

function streamOf(bytes: Uint8Array, piece = 300_000): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream({
    pull(c) {
      if (offset >= bytes.length) return c.close()
      c.enqueue(bytes.slice(offset, offset + piece))
      offset += piece
    },
  })
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

describe('blobs, mounts, deletes and OCI 1.1 against docker-registry 2.8', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('a 3 MiB blob goes up in 1 MiB PATCH chunks and comes back digest-checked', async () => {
    const blob = new Uint8Array(randomBytes(3 * MiB))
    const digest = await computeDigest(blob)
    const repo = parseReference(`${reg.host}/chunked/app`)
    const progress: number[] = []
    const { client, summary } = counting({ chunkSize: MiB })
    const desc = await client.pushBlob(repo, blob, 'application/octet-stream', {
      onProgress: (done) => progress.push(done),
    })
    expect(desc).toEqual({ mediaType: 'application/octet-stream', digest, size: blob.length })
    expect(summary()).toEqual(['HEAD 404', 'POST 202', 'PATCH 202', 'PATCH 202', 'PATCH 202', 'PUT 201'])
    expect(progress).toEqual([MiB, 2 * MiB, 3 * MiB])

    const reader = counting()
    const got = await reader.client.fetchBlob(repo, digest, { maxSize: 4 * MiB })
    expect(got.length).toBe(blob.length)
    expect(Buffer.from(got).equals(Buffer.from(blob))).toBe(true)
    expect(reader.summary()).toEqual(['GET 200'])

    const seen: number[] = []
    const stream = await reader.client.fetchBlobStream(repo, digest, { onProgress: (d) => seen.push(d) })
    expect(Buffer.from(await readAll(stream)).equals(Buffer.from(blob))).toBe(true)
    expect(seen.at(-1)).toBe(blob.length)

    // Over the default 128 MiB? No, but over an explicit limit: refused by Content-Length before reading.
    await expect(reader.client.fetchBlob(repo, digest, { maxSize: MiB })).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
    })
  })

  test('a stream of known size and digest is uploaded chunked; a wrong size is refused', async () => {
    const blob = new Uint8Array(randomBytes(2 * MiB + 123))
    const digest = await computeDigest(blob)
    const repo = parseReference(`${reg.host}/chunked/stream`)
    const { client, summary } = counting({ chunkSize: MiB })
    await client.pushBlob(repo, streamOf(blob), 'application/octet-stream', { digest, size: blob.length })
    expect(summary()).toEqual(['HEAD 404', 'POST 202', 'PATCH 202', 'PATCH 202', 'PATCH 202', 'PUT 201'])
    expect(Buffer.from(await client.fetchBlob(repo, digest)).equals(Buffer.from(blob))).toBe(true)

    const short = blob.subarray(0, 1000)
    const other = parseReference(`${reg.host}/chunked/short`)
    await expect(
      client.pushBlob(other, streamOf(short), 'x', { digest: await computeDigest(blob.subarray(0, 2000)), size: 2000 }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    // A small stream goes up in one PUT.
    const small = new Uint8Array(randomBytes(5000))
    const smallDigest = await computeDigest(small)
    const r = counting({ chunkSize: MiB })
    await r.client.pushBlob(other, streamOf(small, 700), 'x', { digest: smallDigest, size: small.length })
    expect(r.summary()).toEqual(['HEAD 404', 'POST 202', 'PUT 201'])
    await expect(
      client.pushBlob(other, streamOf(small), 'x', { digest: `sha256:${'0'.repeat(64)}`, size: small.length }),
    ).rejects.toMatchObject({ code: 'ERR_OCI_HTTP', details: { status: 400 } })
    // A wrong digest given with bytes is caught by the registry when the upload completes.
    const wrong = await client.pushBlob(other, small, 'x', { digest: `sha256:${'1'.repeat(64)}` }).catch((e) => e)
    expect(wrong).toMatchObject({ code: 'ERR_OCI_HTTP', details: { status: 400 } })
    expect(wrong.details.registryErrors[0].code).toBe('DIGEST_INVALID')
  })

  test('cross-repository mount: 201 without sending bytes', async () => {
    const blob = new Uint8Array(randomBytes(200_000))
    const src = parseReference(`${reg.host}/mount/source`)
    const dst = parseReference(`${reg.host}/mount/target`)
    await createRegistryClient().pushBlob(src, blob, 'application/octet-stream')
    const { client, summary } = counting()
    const desc = await client.pushBlob(dst, blob, 'application/octet-stream', { mountFrom: src })
    expect(desc.size).toBe(blob.length)
    expect(summary()).toEqual(['HEAD 404', 'POST 201'])
    expect(await client.blobExists(dst, desc.digest)).toBe(true)
    // A mount from a repository that lacks the blob falls back to a normal upload (202 then PUT).
    const fresh = new Uint8Array(randomBytes(1000))
    const r = counting()
    await r.client.pushBlob(dst, fresh, 'x', { mountFrom: parseReference(`${reg.host}/mount/empty`) })
    expect(r.summary()).toEqual(['HEAD 404', 'POST 202', 'PUT 201'])
    await expect(
      client.pushBlob(dst, fresh, 'x', { mountFrom: parseReference('other.example/mount/source') }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })

  test('deleteManifest by digest; by tag the registry refuses; missing is ERR_OCI_NOT_FOUND', async () => {
    const img = await tinyImage('delete-me')
    const ref = parseReference(`${reg.host}/del/app:v1`)
    const client = createRegistryClient()
    await client.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    const pushed = await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    const byTag = await client.deleteManifest(ref).catch((e) => e)
    expect(byTag).toMatchObject({ code: 'ERR_OCI_HTTP', details: { status: 400 } })
    expect(byTag.message).toContain('delete by digest')
    const { client: c, summary } = counting()
    await c.deleteManifest(withDigest(withTag(ref, 'v1'), pushed.digest))
    expect(summary()).toEqual(['DELETE 202'])
    await expect(client.resolve(withDigest(ref, pushed.digest))).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
    await expect(client.deleteManifest(withDigest(ref, pushed.digest))).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
  })

  test('OCI 1.1 on 2.8: no Referrers API (undefined) and a subject is not acknowledged', async () => {
    const img = await tinyImage('subject')
    const ref = parseReference(`${reg.host}/oci11/app:v1`)
    const client = createRegistryClient()
    await client.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    const subject = await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect(subject.subjectAccepted).toBeUndefined()
    const referrer = new TextEncoder().encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
        artifactType: 'application/vnd.example+json',
        config: img.configDescriptor,
        layers: [img.layerDescriptor],
        subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      }),
    )
    const pushed = await client.pushManifest(
      withDigest(ref, await computeDigest(referrer)),
      referrer,
      OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    )
    expect(pushed.subjectAccepted).toBe(false)
    const { client: c, summary } = counting()
    expect(await c.referrers(ref, subject.digest)).toBeUndefined()
    expect(await c.referrers(ref, subject.digest, { artifactType: 'application/vnd.example+json' })).toBeUndefined()
    expect(summary()).toEqual(['GET 404', 'GET 404'])
  })
})
