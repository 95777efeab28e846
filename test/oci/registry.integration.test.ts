import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { computeDigest } from '../../src/oci/digest.js'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference, withDigest, withTag } from '../../src/oci/reference.js'
import { createRegistryClient, type RegistryClientOptions, type RegistryRequestInfo } from '../../src/oci/registry.js'
import { tinyImage } from '../support/oci-image.js'
import { freePort, startRegistry, type TestRegistry } from '../support/registry.js'

const enc = new TextEncoder()

function counting(options: RegistryClientOptions = {}) {
  const requests: RegistryRequestInfo[] = []
  const client = createRegistryClient({ ...options, onRequest: (r) => requests.push(r) })
  return { client, requests }
}

describe('registry client against docker-registry (no auth)', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('push blob + manifest, then HEAD/GET/tags', async () => {
    const img = await tinyImage()
    const ref = parseReference(`${reg.host}/test/app:v1`)
    const { client, requests } = counting()

    const layer = await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    expect(layer).toEqual(img.layerDescriptor)
    // HEAD (404) + POST + PUT
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 404', 'POST 202', 'PUT 201'])
    requests.length = 0

    await client.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    const desc = await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect(desc).toEqual({
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      digest: img.manifestDigest,
      size: img.manifest.length,
    })
    expect(requests).toHaveLength(4)
    requests.length = 0

    // Pushing an existing blob costs one HEAD.
    await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 200'])

    expect(await client.resolve(ref)).toEqual(desc)
    const byTag = await client.fetchManifest(ref)
    expect(byTag.descriptor).toEqual(desc)
    expect(byTag.bytes).toEqual(img.manifest)
    const byDigest = await client.fetchManifest(withDigest(ref, desc.digest))
    expect(byDigest.descriptor.digest).toBe(desc.digest)
    expect('layers' in byDigest.manifest && byDigest.manifest.layers[0]?.digest).toBe(img.layerDescriptor.digest)

    expect(await client.blobExists(ref, img.layerDescriptor.digest)).toBe(true)
    expect(await client.blobExists(ref, await computeDigest(enc.encode('nope')))).toBe(false)
    expect(await client.fetchBlob(ref, img.configDescriptor.digest)).toEqual(img.config)
    await expect(client.fetchBlob(ref, img.layerDescriptor.digest, { maxSize: 10 })).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
    })

    await client.pushManifest(withTag(ref, 'v2'), img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    await client.pushManifest(
      withTag(ref, `sha256-${desc.digest.slice(7)}.sig`),
      img.manifest,
      OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    )
    expect((await client.listTags(ref)).sort()).toEqual([`sha256-${desc.digest.slice(7)}.sig`, 'v1', 'v2'].sort())

    // Push by digest only.
    const byDigestPush = await client.pushManifest(
      withDigest(ref, desc.digest),
      img.manifest,
      OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    )
    expect(byDigestPush.digest).toBe(desc.digest)
  })

  test('404s map to ERR_OCI_NOT_FOUND', async () => {
    const client = createRegistryClient()
    const ref = parseReference(`${reg.host}/test/missing:nope`)
    await expect(client.resolve(ref)).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
    const err = await client.fetchManifest(ref).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_OCI_NOT_FOUND', details: { status: 404 } })
    expect((err.details.registryErrors as { code: string }[])[0]?.code).toMatch(/UNKNOWN/)
    await expect(client.listTags(ref)).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
    await expect(client.fetchBlob(ref, await computeDigest(enc.encode('x')))).rejects.toMatchObject({
      code: 'ERR_OCI_NOT_FOUND',
    })
  })

  test('registry rejects a manifest whose blobs are missing', async () => {
    const img = await tinyImage('other')
    const client = createRegistryClient()
    const ref = parseReference(`${reg.host}/test/broken:v1`)
    const err = await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE).catch((e) => e)
    expect(err.code).toBe('ERR_OCI_HTTP')
    expect(err.details.status).toBe(400)
    expect(err.details.registryErrors[0].code).toBe('MANIFEST_BLOB_UNKNOWN')
  })

  test('connection refused is ERR_NETWORK', async () => {
    const port = await freePort()
    const client = createRegistryClient()
    await expect(client.resolve(parseReference(`127.0.0.1:${port}/a:b`))).rejects.toMatchObject({ code: 'ERR_NETWORK' })
  })

  test('abort signal is honoured', async () => {
    const client = createRegistryClient()
    const ac = new AbortController()
    ac.abort()
    await expect(
      client.resolve(parseReference(`${reg.host}/test/app:v1`), { signal: ac.signal }),
    ).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    })
  })
})

describe('registry client against docker-registry with htpasswd basic auth', () => {
  let reg: TestRegistry
  const user = { username: 'alice', password: 's3cret-pass' }
  beforeAll(async () => {
    reg = await startRegistry({ auth: user })
  })
  afterAll(async () => {
    await reg?.stop()
  })

  test('right password: push and read with minimal requests', async () => {
    const img = await tinyImage('auth')
    const ref = parseReference(`${reg.host}/secure/app:v1`)
    const { client, requests } = counting({ credentials: async () => user })
    await client.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    // 401, HEAD again with Basic (404), POST, PUT
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 401', 'HEAD 404', 'POST 202', 'PUT 201'])
    requests.length = 0
    await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    // Basic auth is now sent up front: no further 401s.
    expect(requests.every((r) => r.status !== 401)).toBe(true)
    expect(requests).toHaveLength(4)

    const reader = counting({ credentials: async () => user })
    const desc = await reader.client.resolve(ref)
    const got = await reader.client.fetchManifest(ref)
    expect(got.descriptor).toEqual(desc)
    expect(reader.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 401', 'HEAD 200', 'GET 200'])
  })

  test('chunked upload, download and a cross-repository mount with Basic auth', async () => {
    const blob = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 31) & 0xff)
    const src = parseReference(`${reg.host}/secure/chunks`)
    const { client, requests } = counting({ credentials: async () => user, chunkSize: 1024 * 1024 })
    const desc = await client.pushBlob(src, blob, 'application/octet-stream')
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual([
      'HEAD 401',
      'HEAD 404',
      'POST 202',
      'PATCH 202',
      'PATCH 202',
      'PATCH 202',
      'PUT 201',
    ])
    const fetched = await client.fetchBlob(src, desc.digest)
    // Byte comparison, not toEqual: a deep equality over 3 MiB element by element takes tens of seconds on a busy host.
    expect(fetched.length).toBe(blob.length)
    expect(Buffer.compare(fetched, blob)).toBe(0)
    requests.length = 0
    await client.pushBlob(parseReference(`${reg.host}/secure/mounted`), blob, 'x', { mountFrom: src })
    expect(requests.map((r) => `${r.method} ${r.status}`)).toEqual(['HEAD 401', 'HEAD 404', 'POST 201'])
  })

  test('wrong password and no credentials are ERR_OCI_UNAUTHORIZED', async () => {
    const ref = parseReference(`${reg.host}/secure/app:v1`)
    const wrong = createRegistryClient({ credentials: async () => ({ username: 'alice', password: 'wrong' }) })
    const err = await wrong.fetchManifest(ref).catch((e) => e)
    expect(err.code).toBe('ERR_OCI_UNAUTHORIZED')
    expect(String(err.message)).not.toContain('wrong')
    expect(JSON.stringify(err.details)).not.toContain('wrong')
    const anonymous = createRegistryClient()
    await expect(anonymous.resolve(ref)).rejects.toMatchObject({ code: 'ERR_OCI_UNAUTHORIZED' })
  })
})
