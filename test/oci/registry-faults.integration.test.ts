import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest'
import { computeDigest } from '../../src/oci/digest.js'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient, type RegistryClientOptions, type RegistryRequestInfo } from '../../src/oci/registry.js'
import { tinyImage } from '../support/oci-image.js'
import { type Fault, type ProxiedRequest, startProxy, type TestProxy } from '../support/proxy.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const MiB = 1024 * 1024

describe('faults injected by a proxy in front of docker-registry', () => {
  let reg: TestRegistry
  let proxy: TestProxy
  let fault: ((r: ProxiedRequest) => Fault | undefined) | undefined
  const blob = new Uint8Array(randomBytes(2 * MiB))
  let digest: string
  const repo = () => parseReference(`${proxy.host}/faults/app`)

  beforeAll(async () => {
    reg = await startRegistry()
    proxy = await startProxy({ target: reg.url, fault: (r) => fault?.(r) })
    digest = await computeDigest(blob)
    await createRegistryClient().pushBlob(parseReference(`${reg.host}/faults/app`), blob, 'application/octet-stream')
  })
  afterAll(async () => {
    await proxy?.stop()
    await reg?.stop()
  })
  afterEach(() => {
    fault = undefined
  })

  /** A client whose sleeps are recorded instead of waited. */
  function client(options: RegistryClientOptions = {}) {
    const sleeps: number[] = []
    const requests: RegistryRequestInfo[] = []
    const c = createRegistryClient({
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      onRequest: (r) => requests.push(r),
      ...options,
    })
    return { c, sleeps, requests, summary: () => requests.map((r) => `${r.method} ${r.status}`) }
  }

  /** Apply `f` to the first `n` requests matching `match`. */
  function times(n: number, match: (r: ProxiedRequest) => boolean, f: Fault) {
    let left = n
    fault = (r) => (match(r) && left-- > 0 ? f : undefined)
  }
  const isBlobGet = (r: ProxiedRequest) => r.method === 'GET' && r.path.includes('/blobs/sha256:')

  test('429 with Retry-After in seconds: retried after that delay', async () => {
    times(1, isBlobGet, { kind: 'respond', status: 429, headers: { 'Retry-After': '7' } })
    const { c, sleeps, summary } = client()
    expect((await c.fetchBlob(repo(), digest)).length).toBe(blob.length)
    expect(sleeps).toEqual([7000])
    expect(summary()).toEqual(['GET 429', 'GET 200'])
  })

  test('429 with Retry-After as an HTTP date, capped', async () => {
    const at = new Date(Date.now() + 5_000).toUTCString()
    times(1, isBlobGet, { kind: 'respond', status: 429, headers: { 'Retry-After': at } })
    const { c, sleeps } = client()
    await c.fetchBlob(repo(), digest)
    expect(sleeps).toHaveLength(1)
    expect(sleeps[0]).toBeGreaterThan(3_000)
    expect(sleeps[0]).toBeLessThanOrEqual(5_000)
    times(1, isBlobGet, { kind: 'respond', status: 429, headers: { 'Retry-After': '86400' } })
    const capped = client()
    await capped.c.fetchBlob(repo(), digest)
    expect(capped.sleeps).toEqual([60_000])
  })

  test('503 bursts: success within the budget with growing full-jitter backoff; exhausted → coded error', async () => {
    times(3, isBlobGet, { kind: 'respond', status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}' })
    const { c, sleeps, summary, requests } = client({ retry: { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 } })
    expect((await c.fetchBlob(repo(), digest)).length).toBe(blob.length)
    expect(summary()).toEqual(['GET 503', 'GET 503', 'GET 503', 'GET 200'])
    expect(requests.map((r) => r.attempt)).toEqual([0, 1, 2, 3])
    expect(sleeps).toHaveLength(3)
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0)
      expect(ms).toBeLessThan(100 * 2 ** i)
    })

    times(10, isBlobGet, { kind: 'respond', status: 503, body: '{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}' })
    const exhausted = client({ retry: { attempts: 2 } })
    const err = await exhausted.c.fetchBlob(repo(), digest).catch((e) => e)
    expect(err).toMatchObject({
      code: 'ERR_OCI_HTTP',
      details: { status: 503, temporary: true, registryErrors: [{ code: 'UNAVAILABLE' }] },
    })
    expect(exhausted.summary()).toEqual(['GET 503', 'GET 503', 'GET 503'])
    // Non-retryable statuses are not retried.
    times(1, isBlobGet, { kind: 'respond', status: 500 })
    const once = client({ retry: { attempts: 0 } })
    await expect(once.c.fetchBlob(repo(), digest)).rejects.toMatchObject({ details: { status: 500 } })
    expect(once.summary()).toEqual(['GET 500'])
  })

  test('connection reset before a response: idempotent GET retried', async () => {
    times(2, isBlobGet, { kind: 'reset' })
    const { c, summary, sleeps } = client()
    expect((await c.fetchBlob(repo(), digest)).length).toBe(blob.length)
    expect(summary()).toEqual(['GET 0', 'GET 0', 'GET 200'])
    expect(sleeps).toHaveLength(2)
  })

  test('connection reset mid-blob: resumed with a Range request, digest still checked', async () => {
    times(1, isBlobGet, { kind: 'reset-response', afterBytes: 700_000 })
    const { c, summary } = client()
    const got = await c.fetchBlob(repo(), digest)
    expect(Buffer.from(got).equals(Buffer.from(blob))).toBe(true)
    expect(summary()).toEqual(['GET 200', 'GET 206'])
    const ranged = proxy.requests.filter(isBlobGet).at(-1)!
    expect(ranged.headers.range).toMatch(/^bytes=\d+-$/)

    times(1, isBlobGet, { kind: 'reset-response', afterBytes: 1_000_000 })
    const s = client()
    const stream = await s.c.fetchBlobStream(repo(), digest)
    const streamed = new Uint8Array(await new Response(stream).arrayBuffer())
    expect(Buffer.from(streamed).equals(Buffer.from(blob))).toBe(true)
  })

  test('connection reset mid-PUT of a Uint8Array: the upload session is restarted', async () => {
    const fresh = new Uint8Array(randomBytes(300_000))
    times(1, (r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'), {
      kind: 'reset-request',
      afterBytes: 100_000,
    })
    const { c, summary } = client()
    const desc = await c.pushBlob(repo(), fresh, 'application/octet-stream')
    expect(summary()).toEqual(['HEAD 404', 'POST 202', 'PUT 0', 'POST 202', 'PUT 201'])
    expect(Buffer.from(await c.fetchBlob(repo(), desc.digest)).equals(Buffer.from(fresh))).toBe(true)
  })

  test('a stream source is not replayed once read', async () => {
    const fresh = new Uint8Array(randomBytes(300_000))
    times(1, (r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'), {
      kind: 'reset-request',
      afterBytes: 100_000,
    })
    const { c, summary } = client()
    const body = new Response(fresh).body!
    await expect(
      c.pushBlob(repo(), body, 'x', { digest: await computeDigest(fresh), size: fresh.length }),
    ).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    expect(summary()).toEqual(['HEAD 404', 'POST 202', 'PUT 0'])
  })

  test('wrong bytes served: ERR_OCI_DIGEST_MISMATCH, and the caller never gets them', async () => {
    times(1, isBlobGet, { kind: 'corrupt' })
    const { c } = client()
    await expect(c.fetchBlob(repo(), digest)).rejects.toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })

    times(1, isBlobGet, { kind: 'corrupt' })
    const stream = await c.fetchBlobStream(repo(), digest)
    const reader = stream.getReader()
    let delivered = 0
    let error: unknown
    for (;;) {
      try {
        const { done, value } = await reader.read()
        expect(done).toBe(false) // the stream never completes
        if (done) break
        delivered += value.length
      } catch (e) {
        error = e
        break
      }
    }
    expect(error).toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })
    expect(delivered).toBeLessThan(blob.length)
  })

  test('connection reset on every try of a blob body: ERR_NETWORK once the resumes are spent', async () => {
    fault = (r) => (isBlobGet(r) ? { kind: 'reset-response', afterBytes: 1000 } : undefined)
    const { c, summary } = client({ retry: { attempts: 2 } })
    await expect(c.fetchBlob(repo(), digest)).rejects.toMatchObject({
      code: 'ERR_NETWORK',
      message: expect.stringContaining('the connection broke while reading the blob'),
    })
    expect(summary()).toEqual(['GET 200', 'GET 206', 'GET 206'])
  })

  test('blob body cut short without Content-Length: fetchBlob downloads it again; every time → mismatch', async () => {
    times(1, isBlobGet, { kind: 'truncate-response', afterBytes: 1000 })
    const { c, summary, sleeps } = client()
    expect(Buffer.from(await c.fetchBlob(repo(), digest)).equals(Buffer.from(blob))).toBe(true)
    expect(summary()).toEqual(['GET 200', 'GET 200'])
    expect(sleeps).toHaveLength(1)

    fault = (r) => (isBlobGet(r) ? { kind: 'truncate-response', afterBytes: 1000 } : undefined)
    const always = client({ retry: { attempts: 1 } })
    const err = await always.c.fetchBlob(repo(), digest).catch((e) => e)
    // The bytes that came and no declared length: a caller knowing the size can tell the cut (src/image).
    expect(err).toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH', details: { expected: digest, received: 1000 } })
    expect(err.details.contentLength).toBeUndefined()
    expect(always.summary()).toEqual(['GET 200', 'GET 200'])
  })

  describe('manifests and tag lists', () => {
    const isManifestGet = (r: ProxiedRequest) => r.method === 'GET' && r.path.includes('/manifests/')
    let ref: ReturnType<typeof parseReference>
    beforeAll(async () => {
      const img = await tinyImage('faults: bodies')
      ref = parseReference(`${proxy.host}/faults/bodies:v1`)
      const plain = createRegistryClient()
      await plain.pushBlob(ref, img.config, img.configDescriptor.mediaType)
      await plain.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
      await plain.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    })

    test('a GET body reset once is fetched again and the call succeeds', async () => {
      times(1, isManifestGet, { kind: 'reset-response', afterBytes: 20 })
      const { c, summary, sleeps } = client()
      const got = await c.fetchManifest(ref)
      expect(got.descriptor.digest).toBe((await createRegistryClient().resolve(ref)).digest)
      expect(summary()).toEqual(['GET 200', 'GET 200'])
      expect(sleeps).toHaveLength(1)

      times(1, (r) => r.method === 'GET' && r.path.endsWith('/tags/list'), { kind: 'reset-response', afterBytes: 5 })
      const tags = client()
      expect(await tags.c.listTags(ref)).toEqual(['v1'])
      expect(tags.summary()).toEqual(['GET 200', 'GET 200'])
    })

    test('a body cut short without Content-Length is read again, by tag and by digest', async () => {
      const digest = (await createRegistryClient().resolve(ref)).digest
      for (const target of [ref, { ...ref, tag: undefined, digest }]) {
        times(1, isManifestGet, { kind: 'truncate-response', afterBytes: 30 })
        const { c, summary } = client()
        expect((await c.fetchManifest(target)).descriptor.digest).toBe(digest)
        expect(summary()).toEqual(['GET 200', 'GET 200'])
      }
    })

    test('a body reset on every try: ERR_NETWORK after the retry budget', async () => {
      fault = (r) => (isManifestGet(r) ? { kind: 'reset-response', afterBytes: 20 } : undefined)
      const { c, summary } = client({ retry: { attempts: 2 } })
      await expect(c.fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_NETWORK' })
      expect(summary()).toEqual(['GET 200', 'GET 200', 'GET 200'])
    })

    test('a manifest PUT whose answer is lost is sent again; it had landed, and lands again', async () => {
      const img = await tinyImage('faults: lost answer')
      const target = parseReference(`${proxy.host}/faults/bodies:lost`)
      const plain = createRegistryClient()
      await plain.pushBlob(target, img.config, img.configDescriptor.mediaType)
      await plain.pushBlob(target, img.layer, img.layerDescriptor.mediaType)
      times(1, (r) => r.method === 'PUT' && r.path.includes('/manifests/'), { kind: 'lose-response' })
      const { c, summary } = client()
      const pushed = await c.pushManifest(target, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
      expect(summary()).toEqual(['PUT 0', 'PUT 201'])
      expect((await plain.resolve(target)).digest).toBe(pushed.digest)
    })
  })

  test('redirect loop on a blob GET: a coded error, not a hang', async () => {
    fault = (r) =>
      isBlobGet(r) ? { kind: 'respond', status: 307, headers: { Location: `${proxy.url}${r.path}` } } : undefined
    const { c } = client()
    const err = await c.fetchBlob(repo(), digest).catch((e) => e)
    expect(err.code).toBe('ERR_NETWORK')
    expect(err.message).toMatch(/redirect/i)
  })

  test('invalid JSON manifest: ERR_OCI_MANIFEST_INVALID', async () => {
    const img = await tinyImage('faults')
    const ref = parseReference(`${proxy.host}/faults/app:v1`)
    const plain = createRegistryClient()
    await plain.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await plain.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    await plain.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    fault = (r) =>
      r.method === 'GET' && r.path.includes('/manifests/')
        ? {
            kind: 'respond',
            status: 200,
            headers: { 'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE },
            body: '{"schemaVersion":2,',
          }
        : undefined
    await expect(client().c.fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_MANIFEST_INVALID' })
  })
})
