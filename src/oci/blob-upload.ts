/**
 * Blob upload sessions (distribution-spec v1.1 §Pushing blobs): cross-repository mount, monolithic PUT, and
 * chunked PATCH uploads with `Content-Range`, from bytes or a stream of known size. A stream goes out as streamed
 * request bodies where the runtime's fetch sends them, so neither mode holds a blob read from disk in memory.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { discardBody } from '../http/body.js'
import type { SecretSet } from '../http/redact.js'
import type { ReadableByteStream } from '../internal/host-types.js'
import { repositoryName } from './reference.js'
import { registryError } from './registry-errors.js'
import type { Repository } from './types.js'

/** One request of an upload session, sent with the push (and mount) authorisation bound by the caller. */
export type UploadSend = (req: {
  readonly method: 'POST' | 'PATCH' | 'PUT'
  /** `/v2/…` below the registry origin, or an absolute upload URL. */
  readonly target: string
  readonly headers?: Record<string, string>
  /** Bytes, or a stream of exactly `Content-Length` bytes (sent once: never with `retry`). */
  readonly body?: Uint8Array | ReadableStream<Uint8Array>
  readonly retry: boolean
}) => Promise<{ res: Response; url: string }>

/**
 * A blob to upload: bytes, or a stream whose size (and digest, given alongside) is known up front, or a function
 * that opens a fresh stream of it each time it is called (a file, say): an upload session that breaks can then be
 * started over even after bytes were read.
 */
export type BlobSource = Uint8Array | ReadableByteStream | (() => ReadableByteStream)

/** What one upload session reads: bytes, or a stream (a {@link BlobSource} function is called per session). */
export type UploadBody = Uint8Array | ReadableStream<Uint8Array>

/** What {@link uploadBlob} needs. */
export interface UploadRequest {
  readonly repo: Repository
  readonly digest: string
  readonly size: number
  readonly source: UploadBody
  /** Blobs larger than this go up in PATCH chunks of this size; smaller ones in one PUT. */
  readonly chunkSize: number
  readonly mountFrom?: Repository
  readonly onProgress?: (done: number, total: number) => void
  /** Set once bytes of a stream source have been read: the upload can then no longer be restarted. */
  readonly onConsumed?: () => void
  /** The client's secrets, redacted from the registry's error answers. */
  readonly secrets?: SecretSet
}

function headerDigest(res: Response): string | undefined {
  const h = res.headers.get('docker-content-digest')
  return h === null ? undefined : h.trim()
}

function mismatch(message: string, expected: string, actual: string): CountersignError {
  return new CountersignError('ERR_OCI_DIGEST_MISMATCH', message, { details: { expected, actual } })
}

/** Resolve and vet an upload `Location`: http(s) only, never a downgrade from https to http. */
function uploadLocation(res: Response, base: string, what: string): URL {
  const location = res.headers.get('location')
  if (location === null) throw new CountersignError('ERR_OCI_HTTP', `${what}: registry sent no Location header`)
  let url: URL
  try {
    url = new URL(location, base)
  } catch {
    throw new CountersignError('ERR_OCI_HTTP', `${what}: registry sent an invalid Location header`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CountersignError('ERR_OCI_HTTP', `${what}: upload location has scheme ${url.protocol}`)
  }
  if (url.protocol === 'http:' && new URL(base).protocol === 'https:') {
    throw new CountersignError('ERR_OCI_HTTP', `${what}: refusing an upload location that downgrades to http`)
  }
  url.hash = ''
  return url
}

function withDigestParam(url: URL, digest: string): string {
  return `${url.href}${url.search === '' ? '?' : '&'}digest=${encodeURIComponent(digest)}`
}

/** Pull exactly `n` bytes (fewer only at the end of the stream) into one buffer. */
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>, n: number, carry: { rest?: Uint8Array }) {
  const out = new Uint8Array(n)
  let filled = 0
  while (filled < n) {
    let piece = carry.rest
    carry.rest = undefined
    if (piece === undefined) {
      const step = await reader.read()
      if (step.done) break
      piece = step.value
    }
    const take = Math.min(piece.length, n - filled)
    out.set(piece.subarray(0, take), filled)
    filled += take
    if (take < piece.length) carry.rest = piece.subarray(take)
  }
  return filled === n ? out : out.subarray(0, filled)
}

let requestStreams: boolean | undefined

/**
 * Whether `fetch` here sends a ReadableStream request body (Node 18+, Deno, Bun; not browsers): the standard feature
 * test, which reads `duplex` and sees no `text/plain` Content-Type (a runtime without streams would stringify the
 * stream). Without them a stream source is read into one buffer per request, as before.
 */
function streamsRequestBodies(): boolean {
  if (requestStreams === undefined) {
    // Browsers (every one says `Mozilla/5.0`; Node, Deno and Bun name themselves) send stream bodies only over
    // HTTP/2 and fail them over HTTP/1.1, so a browser keeps the buffered upload.
    const agent = (globalThis as { navigator?: { userAgent?: unknown } }).navigator?.userAgent
    if (typeof agent === 'string' && agent.startsWith('Mozilla/')) {
      requestStreams = false
      return false
    }
    try {
      let duplexRead = false
      const init = {
        method: 'POST',
        body: new ReadableStream(),
        get duplex() {
          duplexRead = true
          return 'half'
        },
      }
      const typed = new Request('http://localhost/', init as RequestInit).headers.has('content-type')
      requestStreams = duplexRead && !typed
    } catch {
      requestStreams = false
    }
  }
  return requestStreams
}

/**
 * The next `n` bytes of `reader` as a request body stream, passed on chunk by chunk as the transport asks for them
 * (so at most a read or two is in memory). A source that ends early (or, with `last`, holds more) errors the body,
 * and `failed.error` records why, for the caller to throw instead of the transport's connection error.
 */
function segment(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  n: number,
  carry: { rest?: Uint8Array },
  failed: { error?: CountersignError },
  sizeFailure: (sent: number | 'more') => CountersignError,
  last: boolean,
): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const fail = (e: CountersignError) => {
          failed.error = e
          controller.error(e)
        }
        if (sent === n) {
          if (last && (carry.rest !== undefined || !(await reader.read()).done)) fail(sizeFailure('more'))
          else controller.close()
          return
        }
        let piece = carry.rest
        carry.rest = undefined
        if (piece === undefined) {
          const step = await reader.read()
          if (step.done) {
            fail(sizeFailure(sent))
            return
          }
          piece = step.value
        }
        const take = Math.min(piece.length, n - sent)
        if (take < piece.length) carry.rest = piece.subarray(take)
        sent += take
        controller.enqueue(take === piece.length ? piece : piece.subarray(0, take))
      },
    },
    { highWaterMark: 0 },
  )
}

function sizeError(what: string, expected: number, actual: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `${what}: the stream holds ${actual} bytes, expected ${expected}`, {
    details: { expected },
  })
}

/**
 * Run one upload session: POST (with `mount`/`from` when asked; 201 ends it), then the bytes, then the closing
 * PUT with `?digest=`. Throws CountersignError; nothing here retries (the caller restarts whole sessions).
 */
export async function uploadBlob(send: UploadSend, req: UploadRequest): Promise<void> {
  const name = repositoryName(req.repo)
  const what = `blob upload ${name}@${req.digest}`
  const secrets = req.secrets !== undefined ? { secrets: req.secrets } : {}
  let post = `/v2/${req.repo.repository}/blobs/uploads/`
  if (req.mountFrom !== undefined) {
    post += `?mount=${encodeURIComponent(req.digest)}&from=${encodeURIComponent(req.mountFrom.repository)}`
  }
  // An explicit empty body makes fetch send Content-Length: 0 (the header itself is forbidden in browsers).
  const start = await send({ method: 'POST', target: post, body: new Uint8Array(0), retry: true })
  if (start.res.status === 201 && req.mountFrom !== undefined) {
    await discardBody(start.res)
    const reported = headerDigest(start.res)
    if (reported !== undefined && reported !== req.digest) {
      throw mismatch(`${what}: registry mounted ${reported}`, req.digest, reported)
    }
    req.onProgress?.(req.size, req.size)
    return
  }
  if (start.res.status !== 202) throw await registryError(start.res, { what: `POST ${what}`, ...secrets })
  await discardBody(start.res)
  let location = uploadLocation(start.res, start.url, `POST ${what}`)

  /** Send a request whose body may be a {@link segment}: its own failure (a short stream) wins over fetch's. */
  const failed: { error?: CountersignError } = {}
  const sendPart: UploadSend = async (r) => {
    try {
      return await send(r)
    } catch (e) {
      throw failed.error ?? e
    }
  }

  const finish = async (body: Uint8Array | ReadableStream<Uint8Array>, length = 0) => {
    const done = await sendPart({
      method: 'PUT',
      target: withDigestParam(location, req.digest),
      headers: {
        'Content-Type': 'application/octet-stream',
        // Fetch sets it for bytes; a streamed body would otherwise go out chunked, which some registries refuse.
        ...(body instanceof Uint8Array ? {} : { 'Content-Length': String(length) }),
      },
      body,
      retry: false,
    })
    if (done.res.status !== 201 && done.res.status !== 204 && done.res.status !== 200) {
      throw await registryError(done.res, { what: `PUT ${what}`, ...secrets })
    }
    await discardBody(done.res)
    const reported = headerDigest(done.res)
    if (reported !== undefined && reported !== req.digest) {
      throw mismatch(`${what}: registry stored blob digest ${reported}`, req.digest, reported)
    }
    req.onProgress?.(req.size, req.size)
  }

  const source = req.source
  const streamed = !(source instanceof Uint8Array) && streamsRequestBodies()
  const sizeFailure = (offset: number) => (sent: number | 'more') =>
    sizeError(what, req.size, sent === 'more' ? 'more than that' : `${offset + sent}`)
  if (req.size <= req.chunkSize) {
    let bytes: Uint8Array
    if (source instanceof Uint8Array) bytes = source
    else if (streamed) {
      // One PUT whose body is the stream itself: the blob passes through, never held whole.
      req.onConsumed?.()
      const reader = source.getReader()
      try {
        await finish(segment(reader, req.size, {}, failed, sizeFailure(0), true), req.size)
      } finally {
        reader.releaseLock()
      }
      return
    } else {
      req.onConsumed?.()
      const reader = source.getReader()
      const carry: { rest?: Uint8Array } = {}
      bytes = await readChunk(reader, req.size, carry)
      const extra = carry.rest !== undefined || !(await reader.read()).done
      reader.releaseLock()
      if (bytes.length !== req.size || extra)
        throw sizeError(what, req.size, extra ? 'more than that' : `${bytes.length}`)
    }
    await finish(bytes)
    return
  }

  const reader = source instanceof Uint8Array ? undefined : source.getReader()
  const carry: { rest?: Uint8Array } = {}
  try {
    for (let offset = 0; offset < req.size; ) {
      const n = Math.min(req.chunkSize, req.size - offset)
      let chunk: Uint8Array | ReadableStream<Uint8Array>
      if (reader === undefined) chunk = (source as Uint8Array).subarray(offset, offset + n)
      else if (streamed) {
        req.onConsumed?.()
        // Streamed: the chunk's bytes go out as they are read, not gathered into a chunk-sized buffer first.
        chunk = segment(reader, n, carry, failed, sizeFailure(offset), false)
      } else {
        req.onConsumed?.()
        chunk = await readChunk(reader, n, carry)
        if (chunk.length !== n) throw sizeError(what, req.size, `${offset + chunk.length}`)
      }
      const end = offset + n - 1
      const patch = await sendPart({
        method: 'PATCH',
        target: location.href,
        // distribution-spec: Content-Range is `<start>-<end>` (inclusive), without a unit.
        headers: {
          'Content-Type': 'application/octet-stream',
          'Content-Range': `${offset}-${end}`,
          ...(chunk instanceof Uint8Array ? {} : { 'Content-Length': String(n) }),
        },
        body: chunk,
        retry: false,
      })
      if (patch.res.status !== 202) throw await registryError(patch.res, { what: `PATCH ${what}`, ...secrets })
      await discardBody(patch.res)
      const range = patch.res.headers.get('range')
      if (range !== null && !new RegExp(`^(?:bytes=)?0-${end}$`).test(range.trim())) {
        throw new CountersignError(
          'ERR_OCI_HTTP',
          `${what}: registry acknowledged ${range.slice(0, 60)}, sent 0-${end}`,
        )
      }
      location = uploadLocation(patch.res, patch.url, `PATCH ${what}`)
      offset += n
      // The last step is reported once the closing PUT succeeded.
      if (offset < req.size) req.onProgress?.(offset, req.size)
    }
    if (reader !== undefined && (carry.rest !== undefined || !(await reader.read()).done)) {
      throw sizeError(what, req.size, 'more than that')
    }
  } finally {
    reader?.releaseLock()
  }
  await finish(new Uint8Array(0))
}
