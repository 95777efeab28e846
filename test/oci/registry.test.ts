import { describe, expect, test } from 'vitest'
import { computeDigest } from '../../src/oci/digest.js'
import { MAX_MANIFEST_BYTES } from '../../src/oci/manifest.js'
import {
  DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE,
  EMPTY_JSON_DIGEST,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'
import { parseReference, withDigest } from '../../src/oci/reference.js'
import { createRegistryClient, type RegistryClientOptions } from '../../src/oci/registry.js'

const enc = new TextEncoder()
const manifestBytes = enc.encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2 },
    layers: [],
  }),
)

interface Seen {
  method: string
  url: string
  authorization: string | null
}

/** An in-process fake registry (plus token server at https://auth.example/token) as a fetch function. */
function fakeRegistry(options: { bearer?: boolean; basic?: boolean } = {}) {
  const manifests = new Map<string, { bytes: Uint8Array<ArrayBuffer>; type: string }>()
  const blobs = new Map<string, Uint8Array<ArrayBuffer>>()
  const tokens = new Map<string, string[]>()
  const seen: Seen[] = []
  let override: ((req: Request) => Response | undefined | Promise<Response | undefined>) | undefined
  let tokenCounter = 0

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url)
    seen.push({ method: req.method, url: req.url, authorization: req.headers.get('authorization') })
    const o = await override?.(req)
    if (o) return o
    if (url.host === 'auth.example') {
      const scopes = url.searchParams.getAll('scope')
      const t = `tok${++tokenCounter}`
      tokens.set(t, scopes)
      return Response.json({ token: t, expires_in: 300 })
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.*)$/.exec(url.pathname)
    if (url.pathname === '/v2/' || !m) return new Response('{}', { status: 200 })
    const [, repo, kind, rest] = m as unknown as [string, string, string, string]
    const write = req.method === 'PUT' || req.method === 'POST'
    if (options.bearer) {
      const auth = req.headers.get('authorization') ?? ''
      const scopes = tokens.get(auth.replace(/^Bearer /, '')) ?? []
      const need = `repository:${repo}:${write ? 'pull,push' : 'pull'}`
      const ok = scopes.some((s) => s === need || s === `repository:${repo}:pull,push`)
      if (!ok) {
        return new Response(
          JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
          {
            status: 401,
            headers: { 'WWW-Authenticate': `Bearer realm="https://auth.example/token",service="fake",scope="${need}"` },
          },
        )
      }
    }
    if (options.basic && req.headers.get('authorization') !== `Basic ${btoa('u:p')}`) {
      return new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="fake"' } })
    }
    if (kind === 'manifests') {
      if (req.method === 'PUT') {
        const bytes = new Uint8Array(await req.arrayBuffer())
        const d = await computeDigest(bytes)
        const entry = { bytes, type: req.headers.get('content-type') ?? '' }
        manifests.set(`${repo}@${d}`, entry)
        manifests.set(`${repo}@${rest}`, entry)
        return new Response(null, { status: 201, headers: { 'Docker-Content-Digest': d } })
      }
      const e = manifests.get(`${repo}@${rest}`)
      if (!e)
        return Response.json({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }, { status: 404 })
      const headers = {
        'Content-Type': e.type,
        'Docker-Content-Digest': await computeDigest(e.bytes),
        'Content-Length': String(e.bytes.length),
      }
      return new Response(req.method === 'HEAD' ? null : e.bytes, { status: 200, headers })
    }
    if (kind === 'blobs') {
      if (rest === 'uploads/' && req.method === 'POST') {
        return new Response(null, {
          status: 202,
          headers: { Location: `/v2/${repo}/blobs/uploads/abc?_state=x%3D%3D` },
        })
      }
      if (rest.startsWith('uploads/') && req.method === 'PUT') {
        const d = url.searchParams.get('digest')!
        blobs.set(d, new Uint8Array(await req.arrayBuffer()))
        return new Response(null, { status: 201, headers: { 'Docker-Content-Digest': d } })
      }
      const b = blobs.get(rest)
      if (!b) return new Response(req.method === 'HEAD' ? null : 'not json', { status: 404 })
      return new Response(req.method === 'HEAD' ? null : b, {
        status: 200,
        headers: { 'Content-Length': String(b.length) },
      })
    }
    return Response.json({
      name: repo,
      tags: [...manifests.keys()]
        .filter((k) => k.startsWith(`${repo}@`) && !k.includes('sha256:'))
        .map((k) => k.split('@')[1]),
    })
  }

  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) =>
    handle(new Request(input, init))) as typeof globalThis.fetch
  return {
    fetch,
    seen,
    manifests,
    blobs,
    setOverride(fn: typeof override) {
      override = fn
    },
    client(extra: RegistryClientOptions = {}) {
      return createRegistryClient({ fetch, ...extra })
    },
  }
}

const ref = parseReference('reg.example/org/app:v1')

describe('registry client (fake registry)', () => {
  test('bearer flow: challenge, token with push scope, retry; token reused afterwards', async () => {
    const f = fakeRegistry({ bearer: true })
    const client = f.client()
    await client.pushBlob(ref, enc.encode('{}'), 'application/vnd.oci.empty.v1+json')
    expect(f.seen.map((s) => `${s.method} ${new URL(s.url).host}`)).toEqual([
      'HEAD reg.example',
      'GET auth.example',
      'HEAD reg.example',
      'POST reg.example',
      'PUT reg.example',
    ])
    const tokenURL = new URL(f.seen[1]!.url)
    expect(tokenURL.searchParams.getAll('scope')).toEqual(['repository:org/app:pull,push'])
    // The PUT went to the Location (relative, resolved against the registry) with the digest appended.
    const put = new URL(f.seen[4]!.url)
    expect(put.pathname).toBe('/v2/org/app/blobs/uploads/abc')
    expect(put.searchParams.get('_state')).toBe('x==')
    expect(put.searchParams.get('digest')).toBe(EMPTY_JSON_DIGEST)
    f.seen.length = 0
    await client.pushManifest(ref, manifestBytes, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    // A push token also serves reads.
    await client.resolve(ref)
    await client.fetchManifest(ref)
    expect(f.seen.map((s) => s.method)).toEqual(['PUT', 'HEAD', 'GET'])
    expect(f.seen.every((s) => s.authorization?.startsWith('Bearer '))).toBe(true)
  })

  test('token expiry forces a new exchange', async () => {
    const f = fakeRegistry({ bearer: true })
    let now = 0
    const client = f.client({ now: () => now })
    await client.pushManifest(ref, manifestBytes, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    expect(f.seen).toHaveLength(3)
    now = 10 * 60_000
    await client.resolve(ref)
    expect(f.seen.map((s) => s.method)).toEqual(['PUT', 'GET', 'PUT', 'HEAD', 'GET', 'HEAD'])
  })

  test('wrong digest by digest is ERR_OCI_DIGEST_MISMATCH', async () => {
    const f = fakeRegistry()
    const d = await computeDigest(manifestBytes)
    f.manifests.set(`org/app@${d}`, {
      bytes: enc.encode('{"schemaVersion":2,"config":{}}'),
      type: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    })
    f.setOverride(async (req) =>
      req.method === 'GET' && req.url.includes('/manifests/')
        ? new Response(enc.encode(`${new TextDecoder().decode(manifestBytes)} `), {
            headers: { 'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE },
          })
        : undefined,
    )
    await expect(f.client().fetchManifest(withDigest(ref, d))).rejects.toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
    })
  })

  test('Docker-Content-Digest disagreeing with content is ERR_OCI_DIGEST_MISMATCH', async () => {
    const f = fakeRegistry()
    f.setOverride(
      () =>
        new Response(manifestBytes, {
          headers: {
            'Docker-Content-Digest': `sha256:${'0'.repeat(64)}`,
            'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE,
          },
        }),
    )
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })
    f.setOverride(() => new Response(manifestBytes, { headers: { 'Docker-Content-Digest': 'garbage' } }))
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_DIGEST_MISMATCH' })
  })

  test('by tag: returns the computed digest', async () => {
    const f = fakeRegistry()
    f.setOverride(() => new Response(manifestBytes, { headers: { 'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE } }))
    const got = await f.client().fetchManifest(ref)
    expect(got.descriptor).toEqual({
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      digest: await computeDigest(manifestBytes),
      size: manifestBytes.length,
    })
  })

  test('blob with wrong content is ERR_OCI_DIGEST_MISMATCH', async () => {
    const f = fakeRegistry()
    f.blobs.set(EMPTY_JSON_DIGEST, enc.encode('[]'))
    await expect(f.client().fetchBlob(ref, EMPTY_JSON_DIGEST)).rejects.toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
    })
  })

  test('manifest over 4 MiB: refused by Content-Length before reading, and while streaming', async () => {
    const f = fakeRegistry()
    let pulled = 0
    const endless = () =>
      new ReadableStream<Uint8Array>({
        pull(c) {
          pulled++
          c.enqueue(new Uint8Array(64 * 1024))
        },
      })
    f.setOverride(() => new Response(endless(), { headers: { 'Content-Length': String(MAX_MANIFEST_BYTES + 1) } }))
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
    expect(pulled).toBeLessThanOrEqual(2)
    pulled = 0
    f.setOverride(() => new Response(endless()))
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
    expect(pulled).toBeLessThan(80)
    // A smaller configured limit applies too.
    f.setOverride(() => new Response(manifestBytes))
    await expect(f.client({ maxManifestBytes: 10 }).fetchManifest(ref)).rejects.toMatchObject({
      code: 'ERR_OCI_SIZE_LIMIT',
    })
  })

  test('schema 1 manifests are refused', async () => {
    const f = fakeRegistry()
    f.setOverride(
      () =>
        new Response('{"schemaVersion":1,"name":"x","fsLayers":[]}', {
          headers: { 'Content-Type': DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE },
        }),
    )
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({
      code: 'ERR_OCI_MANIFEST_INVALID',
      message: 'schema 1 manifests are not supported',
    })
  })

  test('error bodies: JSON parsed, non-JSON tolerated, statuses mapped', async () => {
    const f = fakeRegistry()
    f.setOverride(() => new Response('<html>bad gateway</html>', { status: 502 }))
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
      details: { status: 502, registryErrors: [], temporary: true },
    })
    f.setOverride(() =>
      Response.json(
        { errors: [{ code: 'DENIED', message: 'requested access to the resource is denied', detail: { x: 1 } }] },
        { status: 403 },
      ),
    )
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({
      code: 'ERR_OCI_UNAUTHORIZED',
      details: {
        status: 403,
        registryErrors: [{ code: 'DENIED', message: 'requested access to the resource is denied', detail: { x: 1 } }],
      },
    })
    f.setOverride(() => new Response(new Uint8Array(10 * 1024 * 1024), { status: 400 }))
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({
      code: 'ERR_OCI_HTTP',
      details: { status: 400 },
    })
    f.setOverride(() => new Response(null, { status: 418 }))
    await expect(f.client().resolve(ref)).rejects.toMatchObject({ code: 'ERR_OCI_HTTP', details: { status: 418 } })
    f.setOverride(() => new Response(null, { status: 401 }))
    await expect(f.client().resolve(ref)).rejects.toMatchObject({ code: 'ERR_OCI_UNAUTHORIZED' })
    f.setOverride(() => new Response('{}', { status: 200, headers: { 'Content-Type': 'text/plain' } }))
    await expect(f.client().fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_OCI_MANIFEST_INVALID' })
  })

  test('tag pagination follows Link and is bounded', async () => {
    const f = fakeRegistry()
    f.setOverride((req) => {
      const u = new URL(req.url)
      const page = Number(u.searchParams.get('last') ?? '0')
      const headers: Record<string, string> = {}
      if (page < 2) headers.Link = `</v2/org/app/tags/list?n=1&last=${page + 1}>; rel="next"`
      return Response.json({ name: 'org/app', tags: [`t${page}`] }, { headers })
    })
    expect(await f.client().listTags(ref)).toEqual(['t0', 't1', 't2'])

    f.seen.length = 0
    f.setOverride(() =>
      Response.json({ tags: ['x'] }, { headers: { Link: '</v2/org/app/tags/list?last=x>; rel="next"' } }),
    )
    await expect(f.client().listTags(ref)).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })
    expect(f.seen).toHaveLength(100)
    await expect(f.client({ tagListMaxPages: 3 }).listTags(ref)).rejects.toMatchObject({ code: 'ERR_OCI_SIZE_LIMIT' })

    f.setOverride(() =>
      Response.json({ tags: ['x'] }, { headers: { Link: '<https://elsewhere.example/v2/x>; rel="next"' } }),
    )
    await expect(f.client().listTags(ref)).rejects.toMatchObject({ code: 'ERR_OCI_HTTP' })
    f.setOverride(() => Response.json({ tags: 'nope' }))
    await expect(f.client().listTags(ref)).rejects.toMatchObject({ code: 'ERR_OCI_HTTP' })
    f.setOverride(() => Response.json({ name: 'x', tags: null }))
    expect(await f.client().listTags(ref)).toEqual([])
  })

  test('schemes: https by default, http for loopback and plainHTTP, Docker Hub API host', async () => {
    const f = fakeRegistry()
    f.setOverride(() => new Response(manifestBytes, { headers: { 'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE } }))
    const c = f.client({ plainHTTP: (r) => r === 'plain.example' })
    for (const r of [
      'reg.example/a',
      'ubuntu',
      'docker.io/x/y',
      'localhost:5000/a',
      '127.0.0.1/a',
      '[::1]:5000/a',
      'plain.example/a',
    ]) {
      await c.fetchManifest(parseReference(r))
    }
    expect(f.seen.map((s) => new URL(s.url).origin)).toEqual([
      'https://reg.example',
      'https://registry-1.docker.io',
      'https://registry-1.docker.io',
      'http://localhost:5000',
      'http://127.0.0.1',
      'http://[::1]:5000',
      'http://plain.example',
    ])
    expect(new URL(f.seen[1]!.url).pathname).toBe('/v2/library/ubuntu/manifests/latest')
  })

  test('insecure: falls back to http when https cannot connect, and remembers', async () => {
    const seen: string[] = []
    const fetch = (async (input: RequestInfo | URL) => {
      const url = String(input)
      seen.push(url)
      if (url.startsWith('https:')) throw new TypeError('fetch failed')
      return new Response(manifestBytes, { headers: { 'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE } })
    }) as typeof globalThis.fetch
    const c = createRegistryClient({ fetch, insecure: true })
    await c.fetchManifest(ref)
    await c.fetchManifest(ref)
    expect(seen.map((u) => new URL(u).protocol)).toEqual(['https:', 'http:', 'http:'])
    await expect(createRegistryClient({ fetch }).fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_NETWORK' })
  })

  test('HEAD without usable headers falls back to GET', async () => {
    const f = fakeRegistry()
    f.setOverride(
      (req) =>
        new Response(req.method === 'HEAD' ? null : manifestBytes, {
          headers: req.method === 'HEAD' ? {} : { 'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE },
        }),
    )
    const d = await f.client().resolve(ref)
    expect(d.digest).toBe(await computeDigest(manifestBytes))
    expect(f.seen.map((s) => s.method)).toEqual(['HEAD', 'GET'])
    f.setOverride(
      () =>
        new Response(null, {
          headers: {
            'Docker-Content-Digest': `sha256:${'1'.repeat(64)}`,
            'Content-Length': '5',
            'Content-Type': OCI_IMAGE_MANIFEST_MEDIA_TYPE,
          },
        }),
    )
    await expect(f.client().resolve(withDigest(ref, `sha256:${'2'.repeat(64)}`))).rejects.toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
    })
  })

  test('credentials are not sent to a cross-origin upload location; https→http downgrade refused', async () => {
    const f = fakeRegistry({ basic: true })
    f.setOverride((req) => {
      if (req.method === 'POST')
        return new Response(null, { status: 202, headers: { Location: 'https://storage.example/upload?sig=1' } })
      if (new URL(req.url).host === 'storage.example') return new Response(null, { status: 201 })
      return undefined
    })
    const c = f.client({ credentials: async () => ({ username: 'u', password: 'p' }) })
    await c.pushBlob(ref, enc.encode('{}'), 'x')
    const upload = f.seen.find((s) => s.url.startsWith('https://storage.example'))!
    expect(upload.authorization).toBeNull()
    expect(new URL(upload.url).searchParams.get('sig')).toBe('1')
    f.setOverride((req) =>
      req.method === 'POST'
        ? new Response(null, { status: 202, headers: { Location: 'http://reg.example/up' } })
        : undefined,
    )
    await expect(c.pushBlob(ref, enc.encode('x'), 'x')).rejects.toMatchObject({ code: 'ERR_OCI_HTTP' })
  })

  test('abort, timeout and network failures', async () => {
    const hang = (async (_input: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      })) as typeof globalThis.fetch
    const ac = new AbortController()
    const p = createRegistryClient({ fetch: hang }).resolve(ref, { signal: ac.signal })
    ac.abort()
    await expect(p).rejects.toMatchObject({ code: 'ERR_ABORTED' })
    await expect(createRegistryClient({ fetch: hang, timeoutMs: 20 }).resolve(ref)).rejects.toMatchObject({
      code: 'ERR_NETWORK',
      message: expect.stringContaining('timed out'),
    })
    const broken = (async () => {
      throw new TypeError('fetch failed')
    }) as typeof globalThis.fetch
    const infos: unknown[] = []
    await expect(
      createRegistryClient({ fetch: broken, onRequest: (i) => infos.push(i) }).listTags(ref),
    ).rejects.toMatchObject({
      code: 'ERR_NETWORK',
    })
    expect(infos).toEqual([{ method: 'GET', url: 'https://reg.example/v2/org/app/tags/list', status: 0, attempt: 0 }])
  })

  test('push validates input and checks a reference digest', async () => {
    const f = fakeRegistry()
    const c = f.client()
    await expect(c.pushManifest(ref, enc.encode('nope'), OCI_IMAGE_MANIFEST_MEDIA_TYPE)).rejects.toMatchObject({
      code: 'ERR_OCI_MANIFEST_INVALID',
    })
    await expect(
      c.pushManifest(withDigest(ref, `sha256:${'0'.repeat(64)}`), manifestBytes, OCI_IMAGE_MANIFEST_MEDIA_TYPE),
    ).rejects.toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
    })
    expect(f.seen).toHaveLength(0)
    await expect(c.fetchBlob(ref, 'sha256:bad')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })
})

describe('registry client: broken streams', () => {
  test('a body that errors mid-read is ERR_NETWORK, after the GET was sent again within the retry budget', async () => {
    let sent = 0
    const fetch = (async () => {
      sent++
      return new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(enc.encode('{"schema'))
            c.error(new TypeError('terminated'))
          },
        }),
      )
    }) as typeof globalThis.fetch
    const client = createRegistryClient({ fetch, sleep: async () => {} })
    await expect(client.fetchManifest(ref)).rejects.toMatchObject({ code: 'ERR_NETWORK' })
    expect(sent).toBe(4)
  })
  test('abort while reading the body is ERR_ABORTED', async () => {
    const ac = new AbortController()
    const fetch = (async (_i: RequestInfo | URL, init?: RequestInit) =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(enc.encode('{'))
            init?.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')))
            queueMicrotask(() => ac.abort())
          },
        }),
      )) as typeof globalThis.fetch
    await expect(createRegistryClient({ fetch }).fetchManifest(ref, { signal: ac.signal })).rejects.toMatchObject({
      code: 'ERR_ABORTED',
    })
  })
})
