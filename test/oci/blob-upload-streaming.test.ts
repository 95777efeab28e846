/**
 * Blob uploads from a stream never hold the blob: each request body (the one PUT of a small blob, each PATCH chunk
 * of a large one) is itself a stream of the source's own chunks with its Content-Length, sent so that fetch does not
 * tee it into an unread copy; a source of the wrong length still fails with its own error; a 401 in the middle of a
 * streamed request restarts the session with the new authorisation; and a 192 MiB monolithic PUT through undici to
 * a real HTTP server keeps the process's buffers far below the blob's size (issue 17: a push's peak memory must not
 * grow with the blob).
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNodeFetch } from '../../src/node/fetch.js'
import { type UploadSend, uploadBlob } from '../../src/oci/blob-upload.js'
import { computeDigest } from '../../src/oci/digest.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createFakeRegistry } from '../support/fake-registry.js'

const MiB = 1024 * 1024

/** A stream of the given chunks (kept, so a test can tell they were passed on as they are). */
function chunkStream(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!)
      else controller.close()
    },
  })
}

const pieces = (sizes: readonly number[], fill = 0) =>
  sizes.map((n, k) => new Uint8Array(n).fill((fill + k + 1) & 0xff))

interface Seen {
  readonly method: string
  readonly headers: Record<string, string>
  /** The body's chunks as the transport read them (a stream), or the bytes. */
  readonly chunks: Uint8Array[]
  readonly streamed: boolean
}

/** An upload endpoint in-process: reads each body as fetch would, failing the request when the body errors. */
function recordingSend(): { send: UploadSend; seen: Seen[] } {
  const seen: Seen[] = []
  const send: UploadSend = async (req) => {
    const chunks: Uint8Array[] = []
    const streamed = req.body !== undefined && !(req.body instanceof Uint8Array)
    if (req.body instanceof Uint8Array) chunks.push(req.body)
    else if (req.body !== undefined) {
      const reader = req.body.getReader()
      try {
        for (;;) {
          const step = await reader.read()
          if (step.done) break
          chunks.push(step.value)
        }
      } catch (cause) {
        throw new TypeError('fetch failed', { cause })
      }
    }
    seen.push({ method: req.method, headers: { ...req.headers }, chunks, streamed })
    const location = 'https://reg.example/v2/app/blobs/uploads/u1'
    if (req.method === 'POST') return { res: new Response(null, { status: 202, headers: { location } }), url: location }
    if (req.method === 'PATCH') {
      const end = req.headers?.['Content-Range']?.split('-')[1]
      return { res: new Response(null, { status: 202, headers: { location, range: `0-${end}` } }), url: location }
    }
    return { res: new Response(null, { status: 201 }), url: location }
  }
  return { send, seen }
}

const repo = { registry: 'reg.example', repository: 'app' }
const total = (chunks: readonly Uint8Array[]) => chunks.reduce((n, c) => n + c.length, 0)

describe('uploadBlob from a stream', () => {
  it('sends a small blob as one PUT whose body is the source itself, with its Content-Length', async () => {
    const source = pieces([300, 500, 224])
    const { send, seen } = recordingSend()
    await uploadBlob(send, {
      repo,
      digest: await computeDigest(new Uint8Array(1024)),
      size: 1024,
      source: chunkStream(source),
      chunkSize: 4096,
    })
    expect(seen.map((s) => s.method)).toEqual(['POST', 'PUT'])
    const put = seen[1]!
    expect(put.streamed).toBe(true)
    expect(put.headers['Content-Length']).toBe('1024')
    // The very chunks the source produced: nothing gathered them into a blob-sized buffer.
    expect(put.chunks.length).toBe(3)
    for (const [i, c] of put.chunks.entries()) expect(c).toBe(source[i])
  })

  it('streams each PATCH chunk with Content-Length and Content-Range, splitting source chunks at the boundary', async () => {
    const source = pieces([700, 700, 700, 400])
    const { send, seen } = recordingSend()
    await uploadBlob(send, {
      repo,
      digest: await computeDigest(new Uint8Array(2500)),
      size: 2500,
      source: chunkStream(source),
      chunkSize: 1000,
    })
    expect(seen.map((s) => s.method)).toEqual(['POST', 'PATCH', 'PATCH', 'PATCH', 'PUT'])
    const patches = seen.filter((s) => s.method === 'PATCH')
    expect(patches.map((p) => [p.headers['Content-Range'], p.headers['Content-Length'], total(p.chunks)])).toEqual([
      ['0-999', '1000', 1000],
      ['1000-1999', '1000', 1000],
      ['2000-2499', '500', 500],
    ])
    expect(patches.every((p) => p.streamed)).toBe(true)
    // Bytes in order, as the source had them.
    const sent = new Uint8Array(2500)
    let o = 0
    for (const p of patches)
      for (const c of p.chunks) {
        sent.set(c, o)
        o += c.length
      }
    const expected = new Uint8Array(2500)
    o = 0
    for (const c of source) {
      expected.set(c, o)
      o += c.length
    }
    expect(sent).toEqual(expected)
    expect(seen[4]!.chunks).toEqual([new Uint8Array(0)])
  })

  it('refuses a source shorter or longer than the size with ERR_INVALID_INPUT, not a network error', async () => {
    for (const [sizes, chunkSize, message] of [
      [[400, 400], 4096, /holds 800 bytes, expected 1024/],
      [[600, 600], 4096, /holds more than that bytes, expected 1024/],
      [[600, 300], 500, /holds 900 bytes, expected 1024/],
    ] as const) {
      const { send } = recordingSend()
      await expect(
        uploadBlob(send, {
          repo,
          digest: await computeDigest(new Uint8Array(1024)),
          size: 1024,
          source: chunkStream(pieces(sizes)),
          chunkSize,
        }),
      ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', message })
    }
  })
})

describe('pushBlob of a stream through a fetch', () => {
  it('sends stream bodies with duplex "half", redirect "error" and no window, so fetch does not tee them', async () => {
    const fake = createFakeRegistry()
    const inits: RequestInit[] = []
    const client = createRegistryClient({
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        if (init?.body instanceof ReadableStream) inits.push(init)
        return fake.fetch(input, init)
      }) as typeof fetch,
      chunkSize: 1000,
    })
    const bytes = Uint8Array.from({ length: 2500 }, (_, i) => i & 0xff)
    const digest = await computeDigest(bytes)
    const ref = parseReference('reg.example/app/streams')
    await client.pushBlob(ref, () => chunkStream([bytes.subarray(0, 1200), bytes.subarray(1200)]), 'x', {
      digest,
      size: bytes.length,
    })
    expect(inits).toHaveLength(3) // three PATCH chunks
    for (const init of inits) {
      expect(init).toMatchObject({ duplex: 'half', redirect: 'error', window: null, method: 'PATCH' })
    }
    expect(await client.fetchBlob(ref, digest)).toEqual(bytes)
  })

  it('restarts the session with the new authorisation when a streamed PUT is answered 401', async () => {
    const fake = createFakeRegistry()
    const puts: (string | null)[] = []
    const client = createRegistryClient({
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const auth = new Headers(init?.headers).get('authorization')
        if (init?.method === 'PUT' && init.body instanceof ReadableStream) {
          puts.push(auth)
          // A registry whose token expired in the middle of the push.
          if (auth === null)
            return new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } })
        }
        return fake.fetch(input, init)
      }) as typeof fetch,
      credentials: async () => ({ username: 'u', password: 'p' }),
      sleep: async () => {},
    })
    const bytes = new Uint8Array(3000).fill(7)
    const digest = await computeDigest(bytes)
    const ref = parseReference('reg.example/app/reauth')
    let opened = 0
    await client.pushBlob(
      ref,
      () => {
        opened++
        return chunkStream([bytes.subarray(0, 1000), bytes.subarray(1000)])
      },
      'x',
      { digest, size: bytes.length },
    )
    expect(opened).toBe(2)
    expect(puts).toEqual([null, `Basic ${btoa('u:p')}`])
    expect(await client.fetchBlob(ref, digest)).toEqual(bytes)
  })
})

describe('memory of a monolithic PUT of a 192 MiB stream (undici, real socket)', () => {
  let server: Server
  let received = 0
  let host: string
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.method === 'HEAD') return res.writeHead(404).end()
      if (req.method === 'POST') return res.writeHead(202, { location: '/v2/big/blobs/uploads/u1' }).end()
      req.on('data', (c: Buffer) => {
        received += c.length
      })
      req.on('end', () => res.writeHead(201).end())
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((r) => server.close(() => r())))

  it('holds far less than the blob in buffers at any time', async () => {
    const size = 192 * MiB
    let produced = 0
    // A fresh 1 MiB buffer per chunk, as a file read stream hands them out.
    const source = () =>
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (produced >= size) return controller.close()
          produced += MiB
          controller.enqueue(new Uint8Array(MiB).fill(produced / MiB))
        },
      })
    const client = createRegistryClient({ fetch: createNodeFetch(), chunkSize: size + 1 })
    const base = process.memoryUsage().arrayBuffers
    let peak = base
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers)
    }, 2)
    try {
      await client.pushBlob(parseReference(`${host}/big`), source, 'application/octet-stream', {
        digest: `sha256:${'a'.repeat(64)}`,
        size,
      })
    } finally {
      clearInterval(timer)
    }
    expect(received).toBe(size)
    // Buffered whole (or teed into an unread copy), the peak would be at least the blob's 192 MiB.
    expect((peak - base) / MiB).toBeLessThan(96)
  }, 60_000)
})
