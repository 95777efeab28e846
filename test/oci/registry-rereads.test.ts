import { describe, expect, test } from 'vitest'
import { computeDigest } from '../../src/oci/digest.js'
import {
  EMPTY_JSON_DIGEST,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'
import { parseReference, withDigest } from '../../src/oci/reference.js'
import { createRegistryClient, type RegistryClientOptions } from '../../src/oci/registry.js'

const enc = new TextEncoder()
const ref = parseReference('reg.example/org/app:v1')
const subject = `sha256:${'a'.repeat(64)}`
const manifestBytes = enc.encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: [],
  }),
)

/** A body that sends `bytes` and then breaks as a reset connection does in undici. */
function breaking(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes)
      c.error(new TypeError('terminated', { cause: { code: 'UND_ERR_SOCKET', message: 'other side closed' } }))
    },
  })
}

/** A client over `handler` (called with the request and its 0-based number) whose sleeps are recorded. */
function client(handler: (req: Request, n: number) => Response, options: RegistryClientOptions = {}) {
  const seen: Request[] = []
  const sleeps: number[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    seen.push(req)
    return handler(req, seen.length - 1)
  }) as typeof globalThis.fetch
  const c = createRegistryClient({
    fetch,
    sleep: async (ms) => {
      sleeps.push(ms)
    },
    ...options,
  })
  return { c, seen, sleeps }
}

const manifestHeaders = { 'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE }

describe('manifests: a body that breaks off is fetched again', () => {
  test('reset once mid-body: the GET is sent again and the call succeeds', async () => {
    const { c, seen, sleeps } = client((_, n) =>
      n === 0
        ? new Response(breaking(manifestBytes.subarray(0, 10)), { headers: manifestHeaders })
        : new Response(manifestBytes, { headers: manifestHeaders }),
    )
    const got = await c.fetchManifest(ref)
    expect(got.bytes).toEqual(manifestBytes)
    expect(seen.map((r) => r.method)).toEqual(['GET', 'GET'])
    expect(sleeps).toHaveLength(1)
  })

  test('broken on every try: ERR_NETWORK after the retry budget, no more', async () => {
    const { c, seen, sleeps } = client(
      () => new Response(breaking(manifestBytes.subarray(0, 10)), { headers: manifestHeaders }),
      { retry: { attempts: 2 } },
    )
    await expect(c.fetchManifest(ref)).rejects.toMatchObject({
      code: 'ERR_NETWORK',
      message: expect.stringContaining('the connection broke while reading the manifest'),
    })
    expect(seen).toHaveLength(3)
    expect(sleeps).toHaveLength(2)
  })

  test('no Content-Length and a body that ended early: read again (by digest and by tag)', async () => {
    const digest = await computeDigest(manifestBytes)
    const short = manifestBytes.subarray(0, manifestBytes.length - 7)
    const byDigest = client((_, n) => new Response(n === 0 ? short : manifestBytes, { headers: manifestHeaders }))
    expect((await byDigest.c.fetchManifest(withDigest(ref, digest))).descriptor.digest).toBe(digest)
    expect(byDigest.seen).toHaveLength(2)
    // By tag the cut shows as invalid JSON.
    const byTag = client((_, n) => new Response(n === 0 ? short : manifestBytes, { headers: manifestHeaders }))
    expect((await byTag.c.fetchManifest(ref)).descriptor.digest).toBe(digest)
    expect(byTag.seen).toHaveLength(2)
  })

  test('cut short on every try without Content-Length: the mismatch says how many bytes came', async () => {
    const digest = await computeDigest(manifestBytes)
    const { c, seen } = client(() => new Response(manifestBytes.subarray(0, 50), { headers: manifestHeaders }))
    const err = await c.fetchManifest(withDigest(ref, digest)).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH', details: { expected: digest, received: 50 } })
    expect(err.details.contentLength).toBeUndefined()
    expect(seen).toHaveLength(4)
  })

  test('as many bytes as declared but different ones: content, not read again', async () => {
    const digest = await computeDigest(manifestBytes)
    const other = new Uint8Array(manifestBytes)
    other[other.length - 2] = 0x20
    const { c, seen } = client(
      () => new Response(other, { headers: { ...manifestHeaders, 'Content-Length': String(other.length) } }),
    )
    await expect(c.fetchManifest(withDigest(ref, digest))).rejects.toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
      details: { received: other.length, contentLength: other.length },
    })
    expect(seen).toHaveLength(1)
  })

  test('statuses and size limits are not read again', async () => {
    const missing = client(() =>
      Response.json({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'x' }] }, { status: 404 }),
    )
    await expect(missing.c.fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
    expect(missing.seen).toHaveLength(1)
    const huge = client(() => new Response(new Uint8Array(2048), { headers: manifestHeaders }), {
      maxManifestBytes: 1024,
    })
    await expect(huge.c.fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
    expect(huge.seen).toHaveLength(1)
  })
})

describe('listings: a page that breaks off is fetched again, earlier pages kept', () => {
  test('tags', async () => {
    const pages = [
      { body: '{"tags":["a","b"]}', link: '</v2/org/app/tags/list?last=b>; rel="next"' },
      { body: '{"tags":["c"]}' },
    ]
    let brokeOnce = false
    const { c, seen } = client((req) => {
      const page = new URL(req.url).searchParams.has('last') ? 1 : 0
      const { body, link } = pages[page]!
      const headers = { 'Content-Type': 'application/json', ...(link ? { Link: link } : {}) }
      if (page === 1 && !brokeOnce) {
        brokeOnce = true
        return new Response(breaking(enc.encode(body.slice(0, 5))), { headers })
      }
      return new Response(body, { headers })
    })
    expect(await c.listTags(ref)).toEqual(['a', 'b', 'c'])
    expect(seen.map((r) => new URL(r.url).search)).toEqual(['', '?last=b', '?last=b'])
  })

  test('referrers', async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE,
      manifests: [{ mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, digest: subject, size: 10 }],
    })
    const headers = { 'Content-Type': OCI_IMAGE_INDEX_MEDIA_TYPE }
    const { c, seen } = client((_, n) =>
      n === 0 ? new Response(breaking(enc.encode(index.slice(0, 20))), { headers }) : new Response(index, { headers }),
    )
    expect(await c.referrers(ref, subject)).toEqual([
      { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, digest: subject, size: 10 },
    ])
    expect(seen).toHaveLength(2)
  })
})

describe('blobs: truncation resumed or read again, different content not', () => {
  const blob = enc.encode('{}')

  test('a body that ends cleanly before its Content-Length is resumed with Range', async () => {
    const { c, seen } = client((req) =>
      req.headers.get('range') === 'bytes=1-'
        ? new Response(blob.subarray(1), { status: 206, headers: { 'Content-Range': 'bytes 1-1/2' } })
        : new Response(blob.subarray(0, 1), { headers: { 'Content-Length': '2' } }),
    )
    expect(await c.fetchBlob(ref, EMPTY_JSON_DIGEST)).toEqual(blob)
    expect(seen.map((r) => r.headers.get('range'))).toEqual([null, 'bytes=1-'])
  })

  test('no Content-Length and a body that ended early: downloaded again by fetchBlob', async () => {
    const once = client((_, n) => new Response(n === 0 ? blob.subarray(0, 1) : blob))
    expect(await once.c.fetchBlob(ref, EMPTY_JSON_DIGEST)).toEqual(blob)
    expect(once.seen).toHaveLength(2)
    expect(once.sleeps).toHaveLength(1)

    const always = client(() => new Response(blob.subarray(0, 1)), { retry: { attempts: 2 } })
    const err = await always.c.fetchBlob(ref, EMPTY_JSON_DIGEST).catch((e) => e)
    expect(err).toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
      details: { expected: EMPTY_JSON_DIGEST, received: 1 },
    })
    expect(err.details.contentLength).toBeUndefined()
    expect(always.seen).toHaveLength(3)
  })

  test('as many bytes as declared but different ones: one download, ERR_OCI_DIGEST_MISMATCH', async () => {
    const { c, seen } = client(() => new Response(enc.encode('[]'), { headers: { 'Content-Length': '2' } }))
    await expect(c.fetchBlob(ref, EMPTY_JSON_DIGEST)).rejects.toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
      details: { received: 2, contentLength: 2 },
    })
    expect(seen).toHaveLength(1)
  })

  test('a stream is never restarted: bytes may already be with the consumer', async () => {
    const { c, seen } = client(() => new Response(blob.subarray(0, 1)))
    const stream = await c.fetchBlobStream(ref, EMPTY_JSON_DIGEST)
    await expect(new Response(stream).arrayBuffer()).rejects.toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })
    expect(seen).toHaveLength(1)
  })
})
