/**
 * Blob upload sessions (distribution-spec v1.1 §Pushing blobs): cross-repository mount, monolithic PUT, and
 * chunked PATCH uploads with `Content-Range`, from bytes or a stream of known size.
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
  readonly body?: Uint8Array
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

  const finish = async (body: Uint8Array) => {
    const done = await send({
      method: 'PUT',
      target: withDigestParam(location, req.digest),
      headers: { 'Content-Type': 'application/octet-stream' },
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
  if (req.size <= req.chunkSize) {
    let bytes: Uint8Array
    if (source instanceof Uint8Array) bytes = source
    else {
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
      let chunk: Uint8Array
      if (reader === undefined) chunk = (source as Uint8Array).subarray(offset, offset + n)
      else {
        req.onConsumed?.()
        chunk = await readChunk(reader, n, carry)
        if (chunk.length !== n) throw sizeError(what, req.size, `${offset + chunk.length}`)
      }
      const end = offset + n - 1
      const patch = await send({
        method: 'PATCH',
        target: location.href,
        // distribution-spec: Content-Range is `<start>-<end>` (inclusive), without a unit.
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${offset}-${end}` },
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
