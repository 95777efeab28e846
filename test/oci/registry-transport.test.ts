import { describe, expect, test } from 'vitest'
import { parseRetryAfter } from '../../src/http/transport.js'
import { chainCredentials } from '../../src/oci/auth.js'
import { computeDigest } from '../../src/oci/digest.js'
import {
  EMPTY_JSON_DIGEST,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'
import { parseReference, withDigest } from '../../src/oci/reference.js'
import { createRegistryClient, type RegistryRequestInfo } from '../../src/oci/registry.js'

const enc = new TextEncoder()
const ref = parseReference('reg.example/org/app:v1')
const subject = `sha256:${'a'.repeat(64)}`
const GiB = 1024 * 1024 * 1024

type Handler = (req: Request) => Response | Promise<Response>
function fake(handler: Handler) {
  const seen: Request[] = []
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    seen.push(req)
    return handler(req)
  }) as typeof globalThis.fetch
  return { fetch, seen }
}

const desc = (n: number, artifactType?: string) => ({
  mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  digest: `sha256:${n.toString(16).padStart(64, '0')}`,
  size: 100 + n,
  ...(artifactType ? { artifactType } : {}),
})
const indexResponse = (manifests: unknown[], headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests }), {
    headers: { 'Content-Type': OCI_IMAGE_INDEX_MEDIA_TYPE, ...headers },
  })

describe('Retry-After', () => {
  test('seconds, HTTP dates, garbage, clamping', () => {
    const now = Date.parse('2025-01-01T00:00:00Z')
    expect(parseRetryAfter('3', now, 60_000)).toBe(3000)
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now, 60_000)).toBe(10_000)
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now, 60_000)).toBe(0)
    expect(parseRetryAfter('999999', now, 60_000)).toBe(60_000)
    expect(parseRetryAfter('soon', now, 60_000)).toBeUndefined()
    expect(parseRetryAfter(null, now, 60_000)).toBeUndefined()
  })
})

describe('transport', () => {
  test('at most maxConcurrency requests per host wait for headers at once', async () => {
    let inFlight = 0
    let peak = 0
    const { fetch } = fake(async () => {
      inFlight++
      peak = Math.max(peak, inFlight)
      await new Promise((r) => setTimeout(r, 5))
      inFlight--
      return new Response(null, { status: 200 })
    })
    const c = createRegistryClient({ fetch, maxConcurrency: 3 })
    const digests = Array.from({ length: 12 }, (_, i) => `sha256:${i.toString(16).padStart(64, '0')}`)
    await Promise.all(digests.map((d) => c.blobExists(ref, d)))
    expect(peak).toBe(3)
    const d8 = createRegistryClient({ fetch })
    peak = 0
    await Promise.all([...digests, ...digests].map((d) => d8.blobExists(ref, d)))
    expect(peak).toBe(8)
  })

  test('per-request timeout: an attempt without headers is abandoned and retried', async () => {
    let calls = 0
    const { fetch } = fake(
      (req) =>
        new Promise<Response>((resolve, reject) => {
          calls++
          if (calls === 1) {
            req.signal.addEventListener('abort', () => reject(req.signal.reason))
            return
          }
          resolve(new Response(null, { status: 200 }))
        }),
    )
    const infos: RegistryRequestInfo[] = []
    const c = createRegistryClient({
      fetch,
      requestTimeoutMs: 30,
      sleep: async () => {},
      onRequest: (i) => infos.push(i),
    })
    expect(await c.blobExists(ref, EMPTY_JSON_DIGEST)).toBe(true)
    expect(infos.map((i) => i.status)).toEqual([0, 200])
    const never = fake(
      (req) => new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(req.signal.reason))),
    )
    await expect(
      createRegistryClient({
        fetch: never.fetch,
        requestTimeoutMs: 10,
        retry: { attempts: 1 },
        sleep: async () => {},
      }).blobExists(ref, EMPTY_JSON_DIGEST),
    ).rejects.toMatchObject({ code: 'ERR_NETWORK', message: expect.stringContaining('no response within 10 ms') })
    expect(never.seen).toHaveLength(2)
  })

  test('upload PATCH/PUT are never retried by the transport', async () => {
    const { fetch, seen } = fake((req) => {
      if (req.method === 'HEAD') return new Response(null, { status: 404 })
      if (req.method === 'POST')
        return new Response(null, { status: 202, headers: { Location: '/v2/org/app/blobs/uploads/u1' } })
      return new Response(null, { status: 503 })
    })
    const c = createRegistryClient({ fetch, sleep: async () => {}, retry: { attempts: 1 } })
    await expect(c.pushBlob(ref, enc.encode('{}'), 'x')).rejects.toMatchObject({ details: { status: 503 } })
    // HEAD, then the session twice (restarted once): POST, PUT(503) — the PUT itself is not repeated.
    expect(seen.map((r) => r.method)).toEqual(['HEAD', 'POST', 'PUT', 'POST', 'PUT'])
  })
})

describe('blob size limits', () => {
  test('a 5 GiB Content-Length is refused before reading the body', async () => {
    let pulled = 0
    const { fetch } = fake(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(c) {
              pulled++
              c.enqueue(new Uint8Array(64 * 1024))
            },
          }),
          { headers: { 'Content-Length': String(5 * GiB) } },
        ),
    )
    const c = createRegistryClient({ fetch })
    await expect(c.fetchBlob(ref, EMPTY_JSON_DIGEST, { maxSize: 10 * 1024 * 1024 })).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
      details: { size: 5 * GiB },
    })
    await expect(c.fetchBlob(ref, EMPTY_JSON_DIGEST)).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
    await expect(c.fetchBlobStream(ref, EMPTY_JSON_DIGEST, { maxSize: GiB })).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
    })
    expect(pulled).toBeLessThanOrEqual(3)
  })

  test('a body longer than maxSize without Content-Length is cut off while streaming', async () => {
    let pulled = 0
    const { fetch } = fake(
      () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(c) {
              pulled++
              c.enqueue(new Uint8Array(64 * 1024))
            },
          }),
        ),
    )
    await expect(
      createRegistryClient({ fetch }).fetchBlob(ref, EMPTY_JSON_DIGEST, { maxSize: 1024 * 1024 }),
    ).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
    expect(pulled).toBeLessThan(20)
  })

  test('truncated body (fewer bytes than Content-Length) is an error, not a short blob', async () => {
    const ok = fake(() => new Response(enc.encode('{}'), { headers: { 'Content-Length': '2' } }))
    expect(await createRegistryClient({ fetch: ok.fetch }).fetchBlob(ref, EMPTY_JSON_DIGEST)).toEqual(enc.encode('{}'))
    const short = fake(() => new Response(enc.encode('{}'), { headers: { 'Content-Length': '5' } }))
    await expect(createRegistryClient({ fetch: short.fetch }).fetchBlob(ref, EMPTY_JSON_DIGEST)).rejects.toMatchObject({
      code: 'ERR_NETWORK',
      details: { expected: 5, actual: 2 },
    })
  })
})

describe('referrers()', () => {
  test('200 index: descriptors, artifactType filtered locally unless OCI-Filters-Applied', async () => {
    const { fetch, seen } = fake(() => indexResponse([desc(1, 'a/sig'), desc(2, 'a/sbom')]))
    const c = createRegistryClient({ fetch })
    expect(await c.referrers(ref, subject)).toEqual([desc(1, 'a/sig'), desc(2, 'a/sbom')])
    expect(await c.referrers(ref, subject, { artifactType: 'a/sbom' })).toEqual([desc(2, 'a/sbom')])
    const url = new URL(seen.at(-1)!.url)
    expect(url.pathname).toBe(`/v2/org/app/referrers/${subject}`)
    expect(url.searchParams.get('artifactType')).toBe('a/sbom')
    expect(seen.at(-1)!.headers.get('accept')).toBe(OCI_IMAGE_INDEX_MEDIA_TYPE)

    const applied = fake(() => indexResponse([desc(1, 'a/other')], { 'OCI-Filters-Applied': 'artifactType' }))
    // The server says it filtered: its answer is trusted as is.
    expect(
      await createRegistryClient({ fetch: applied.fetch }).referrers(ref, subject, { artifactType: 'a/sig' }),
    ).toEqual([desc(1, 'a/other')])
  })

  test('no Referrers API: 404, 400, 405, 406 and non-index 200 are undefined; 500 and 401 are errors', async () => {
    for (const res of [
      () => Response.json({ errors: [{ code: 'NOT_FOUND', message: 'x' }] }, { status: 404 }),
      () => new Response('bad', { status: 400 }),
      () => new Response(null, { status: 405 }),
      () => new Response(null, { status: 406 }),
      () => new Response('<html/>', { status: 200, headers: { 'Content-Type': 'text/html' } }),
    ]) {
      expect(await createRegistryClient({ fetch: fake(res).fetch }).referrers(ref, subject)).toBeUndefined()
    }
    const c = (r: () => Response) => createRegistryClient({ fetch: fake(r).fetch, retry: { attempts: 0 } })
    await expect(c(() => new Response(null, { status: 500 })).referrers(ref, subject)).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
    })
    await expect(c(() => new Response(null, { status: 403 })).referrers(ref, subject)).rejects.toMatchObject({
      code: 'ERR_OCI_UNAUTHORIZED',
    })
    await expect(
      c(
        () =>
          new Response('{"schemaVersion":2,"manifests":[{}]}', {
            headers: { 'Content-Type': OCI_IMAGE_INDEX_MEDIA_TYPE },
          }),
      ).referrers(ref, subject),
    ).rejects.toMatchObject({ code: 'ERR_OCI_MANIFEST_INVALID' })
    await expect(c(() => indexResponse([])).referrers(ref, 'sha256:nope')).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
  })

  test('Link pagination is followed, bounded, and loops are refused', async () => {
    const paged = fake((req) => {
      const page = Number(new URL(req.url).searchParams.get('page') ?? '0')
      const headers: Record<string, string> = {}
      if (page < 2) headers.Link = `</v2/org/app/referrers/${subject}?page=${page + 1}>; rel="next"`
      return indexResponse([desc(page)], headers)
    })
    expect((await createRegistryClient({ fetch: paged.fetch }).referrers(ref, subject))?.map((d) => d.size)).toEqual([
      100, 101, 102,
    ])

    let n = 0
    const endless = fake(() =>
      indexResponse([desc(1)], { Link: `</v2/org/app/referrers/${subject}?page=${++n}>; rel="next"` }),
    )
    await expect(createRegistryClient({ fetch: endless.fetch }).referrers(ref, subject)).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
    })
    expect(endless.seen).toHaveLength(100)
    await expect(
      createRegistryClient({ fetch: endless.fetch, referrersMaxPages: 5 }).referrers(ref, subject),
    ).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })

    const loop = fake(() => indexResponse([], { Link: `</v2/org/app/referrers/${subject}>; rel="next"` }))
    await expect(createRegistryClient({ fetch: loop.fetch }).referrers(ref, subject)).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
      message: expect.stringContaining('loops'),
    })
    expect(loop.seen).toHaveLength(1)
    const away = fake(() => indexResponse([], { Link: '<https://elsewhere.example/x>; rel="next"' }))
    await expect(createRegistryClient({ fetch: away.fetch }).referrers(ref, subject)).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
    })
  })
})

describe('pushManifest subjectAccepted', () => {
  const withSubject = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [],
      subject: { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, digest: subject, size: 10 },
    }),
  )
  test('true only with an OCI-Subject header naming the subject', async () => {
    const d = await computeDigest(withSubject)
    const put = (headers: Record<string, string>) =>
      createRegistryClient({
        fetch: fake(() => new Response(null, { status: 201, headers: { 'Docker-Content-Digest': d, ...headers } }))
          .fetch,
      }).pushManifest(withDigest(ref, d), withSubject, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect((await put({ 'OCI-Subject': subject })).subjectAccepted).toBe(true)
    expect((await put({})).subjectAccepted).toBe(false)
    expect((await put({ 'OCI-Subject': `sha256:${'b'.repeat(64)}` })).subjectAccepted).toBe(false)
  })
})

describe('deleteManifest', () => {
  test('202 ok; 404 not found; 405 and UNSUPPORTED say deletes are not allowed', async () => {
    const d = `sha256:${'c'.repeat(64)}`
    const del = (res: () => Response) =>
      createRegistryClient({ fetch: fake(res).fetch }).deleteManifest(withDigest(ref, d))
    await expect(del(() => new Response(null, { status: 202 }))).resolves.toBeUndefined()
    await expect(
      del(() => Response.json({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'x' }] }, { status: 404 })),
    ).rejects.toMatchObject({ code: 'ERR_OCI_NOT_FOUND' })
    await expect(del(() => new Response(null, { status: 405 }))).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
      message: expect.stringContaining('does not allow deleting'),
    })
    await expect(
      del(() =>
        Response.json({ errors: [{ code: 'UNSUPPORTED', message: 'The operation is unsupported.' }] }, { status: 400 }),
      ),
    ).rejects.toMatchObject({ code: 'ERR_OCI_HTTP', message: expect.stringContaining('does not allow deleting') })
  })
})

describe('chainCredentials', () => {
  test('first defined answer wins; errors propagate; context is passed on', async () => {
    const seen: unknown[] = []
    const chain = chainCredentials(
      async () => undefined,
      async (r, ctx) => {
        seen.push(ctx)
        return r === 'a.example' ? { username: 'first', password: 'x' } : undefined
      },
      async () => ({ username: 'second', password: 'y' }),
    )
    expect(await chain('a.example', { repository: 'org/app' })).toEqual({ username: 'first', password: 'x' })
    expect(await chain('b.example')).toEqual({ username: 'second', password: 'y' })
    expect(seen[0]).toEqual({ repository: 'org/app' })
    expect(await chainCredentials()('a.example')).toBeUndefined()
    const failing = chainCredentials(async () => {
      throw new Error('helper failed')
    })
    await expect(failing('a.example')).rejects.toThrow('helper failed')
  })
})

describe('fetchBlobStream aborts', () => {
  test('the caller aborting mid-stream errors the stream with ERR_ABORTED', async () => {
    const { fetch } = fake(
      (req) =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(c) {
              return new Promise((resolve) => {
                setTimeout(() => {
                  if (!req.signal.aborted) c.enqueue(new Uint8Array(1024))
                  resolve()
                }, 1)
                req.signal.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')))
              })
            },
          }),
        ),
    )
    const ac = new AbortController()
    const stream = await createRegistryClient({ fetch }).fetchBlobStream(ref, EMPTY_JSON_DIGEST, { signal: ac.signal })
    const reader = stream.getReader()
    await reader.read()
    ac.abort()
    let err: unknown
    try {
      for (let i = 0; i < 1000; i++) if ((await reader.read()).done) break
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'ERR_ABORTED' })
  })
})
