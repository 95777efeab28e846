/**
 * Streaming blob download: bytes are hashed as they arrive, the last chunk is held back until the digest and
 * size check out, and a broken connection (or a body that ends before its `Content-Length`) resumes with a `Range`
 * request. A consumer therefore never sees a completed stream (or a returned buffer) whose content does not match
 * the digest.
 *
 * @module
 */
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { CountersignError } from '../errors.js'
import { discardBody } from '../http/body.js'
import { equalBytes, toHex, utf8 } from '../internal/bytes.js'
import { type DigestAlgorithm, parseDigest } from './digest.js'

/**
 * An incremental hash (the shape of `@noble/hashes` and of `node:crypto` `createHash` after adaptation).
 *
 * @example
 * ```ts
 * const h: IncrementalHash = sha256.create()
 * h.update(chunk)
 * const d = h.digest()
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface IncrementalHash {
  update(chunk: Uint8Array): unknown
  digest(): Uint8Array
}

/**
 * Creates incremental hashes for blob downloads. The default uses `@noble/hashes` (portable, pure JS); on Node a
 * native one (`node:crypto` `createHash`) is several times faster for large blobs.
 *
 * @example
 * ```ts
 * import { createHash } from 'node:crypto'
 * const hasher: HasherFactory = (algorithm) => {
 *   const h = createHash(algorithm)
 *   return { update: (c) => h.update(c), digest: () => new Uint8Array(h.digest()) }
 * }
 * createRegistryClient({ hasher })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export type HasherFactory = (algorithm: DigestAlgorithm) => IncrementalHash

/** The portable default {@link HasherFactory}. */
export const nobleHasher: HasherFactory = (algorithm) => (algorithm === 'sha512' ? sha512.create() : sha256.create())

/** Options of {@link verifiedBlobStream}. */
export interface VerifiedStreamOptions {
  /** The first response (200), its body not yet read. */
  readonly response: Response
  /** Reopen the blob from `offset` (a `Range` GET); the response may be 206 or a full 200. */
  readonly reopen: (offset: number) => Promise<Response>
  readonly digest: string
  /** Largest size accepted (ERR_OCI_SIZE_LIMIT), checked against Content-Length first. */
  readonly maxSize?: number
  /** How many times a broken body may be resumed. */
  readonly resumes: number
  readonly hasher: HasherFactory
  readonly onProgress?: (done: number, total: number | undefined) => void
  readonly signal?: AbortSignal
  /** What is being fetched, for messages (`GET blob reg/repo@sha256:…`). */
  readonly what: string
}

function declaredLength(res: Response): number | undefined {
  const cl = res.headers.get('content-length')
  return cl !== null && /^\d{1,16}$/.test(cl.trim()) ? Number(cl.trim()) : undefined
}

/** Start offset of a 206 response's `Content-Range: bytes <start>-<end>/<size>`. */
function rangeStart(res: Response): number | undefined {
  const m = /^bytes\s+(\d{1,16})-\d{1,16}\/(?:\d{1,16}|\*)$/i.exec(res.headers.get('content-range')?.trim() ?? '')
  return m ? Number(m[1]) : undefined
}

function isAbort(e: unknown): boolean {
  const name = (e as { name?: unknown } | null)?.name
  return name === 'AbortError' || name === 'TimeoutError'
}

/**
 * Check the declared size of a blob response before reading it: a 5 GiB Content-Length against a 128 MiB
 * limit is refused without reading a byte.
 */
export async function checkDeclaredSize(res: Response, maxSize: number | undefined, what: string): Promise<void> {
  const length = declaredLength(res)
  if (maxSize !== undefined && length !== undefined && length > maxSize) {
    await discardBody(res)
    throw new CountersignError(
      'ERR_OCI_SIZE_LIMIT',
      `${what}: blob of ${length} bytes exceeds the limit of ${maxSize}`,
      {
        details: { size: length, limit: maxSize },
      },
    )
  }
}

/**
 * Wrap a blob response in a stream that verifies the digest incrementally. Chunks pass through as they are
 * hashed except the most recent one, which is released only when the next arrives or, at the end, after the
 * digest matched; on a mismatch the stream errors with ERR_OCI_DIGEST_MISMATCH instead of closing.
 */
export function verifiedBlobStream(options: VerifiedStreamOptions): ReadableStream<Uint8Array> {
  const { algorithm, hex } = parseDigest(options.digest)
  const hash = options.hasher(algorithm)
  const total = declaredLength(options.response)
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined
  let received = 0
  /** Bytes of a restarted (200 instead of 206) body still to drop, as they were already hashed. */
  let skip = 0
  let resumesLeft = options.resumes
  let held: Uint8Array | undefined

  const open = (res: Response) => {
    if (res.body === null) throw new CountersignError('ERR_OCI_HTTP', `${options.what}: response has no body`)
    reader = res.body.getReader()
  }

  /** A body that ended cleanly before its Content-Length: cut short, so resumed like a broken connection. */
  const cutShort = (declared: number) =>
    new CountersignError('ERR_NETWORK', `${options.what}: got ${received} bytes, Content-Length said ${declared}`, {
      details: { expected: declared, actual: received },
    })

  const resume = async (cause: unknown): Promise<void> => {
    if (resumesLeft <= 0 || options.signal?.aborted) {
      if (cause instanceof CountersignError) throw cause
      throw new CountersignError('ERR_NETWORK', `${options.what}: the connection broke while reading the blob`, {
        cause,
      })
    }
    resumesLeft--
    reader?.releaseLock()
    reader = undefined
    const res = await options.reopen(received)
    if (res.status === 206 && rangeStart(res) === received) {
      skip = 0
    } else if (res.status === 200) {
      skip = received
    } else {
      await discardBody(res)
      throw new CountersignError(
        'ERR_NETWORK',
        `${options.what}: the connection broke and resuming failed (HTTP ${res.status})`,
        { cause, details: { status: res.status } },
      )
    }
    open(res)
  }

  const finish = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    const actual = `${algorithm}:${toHex(hash.digest())}`
    if (total !== undefined && received !== total) throw cutShort(total)
    if (!equalBytes(utf8(actual), utf8(`${algorithm}:${hex}`))) {
      // `received` and `contentLength` let a caller that knows the blob's size tell a body cut short without a
      // declared length (it looks complete) from different content.
      throw new CountersignError(
        'ERR_OCI_DIGEST_MISMATCH',
        `${options.what}: content digest ${actual} does not match`,
        {
          details: {
            expected: options.digest,
            actual,
            received,
            ...(total !== undefined ? { contentLength: total } : {}),
          },
        },
      )
    }
    if (held !== undefined) controller.enqueue(held)
    held = undefined
    controller.close()
  }

  return new ReadableStream<Uint8Array>(
    {
      start() {
        open(options.response)
      },
      async pull(controller) {
        try {
          for (;;) {
            let step: ReadableStreamReadResult<Uint8Array>
            try {
              step = await reader!.read()
            } catch (cause) {
              if (isAbort(cause) || options.signal?.aborted) throw cause
              await resume(cause)
              continue
            }
            if (step.done) {
              // A clean end before the Content-Length (a proxy closing early) is a truncation: resume it too.
              if (total !== undefined && received < total) {
                await resume(cutShort(total))
                continue
              }
              finish(controller)
              return
            }
            let chunk = step.value
            if (skip > 0) {
              const drop = Math.min(skip, chunk.length)
              skip -= drop
              chunk = chunk.subarray(drop)
              if (chunk.length === 0) continue
            }
            received += chunk.length
            if (options.maxSize !== undefined && received > options.maxSize) {
              await reader!.cancel().catch(() => {})
              throw new CountersignError(
                'ERR_OCI_SIZE_LIMIT',
                `${options.what}: blob is larger than the limit of ${options.maxSize} bytes`,
                { details: { limit: options.maxSize } },
              )
            }
            hash.update(chunk)
            options.onProgress?.(received, total)
            const out = held
            held = chunk
            if (out !== undefined) {
              controller.enqueue(out)
              return
            }
          }
        } catch (e) {
          held = undefined
          await reader?.cancel().catch(() => {})
          if (options.signal?.aborted && !(e instanceof CountersignError)) {
            if ((options.signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError') {
              throw new CountersignError('ERR_NETWORK', `${options.what}: the registry operation timed out`, {
                cause: e,
              })
            }
            throw new CountersignError('ERR_ABORTED', `${options.what}: the download was aborted`, { cause: e })
          }
          throw e
        }
      },
      async cancel(reason) {
        held = undefined
        await reader?.cancel(reason).catch(() => {})
      },
    },
    // One chunk is pulled ahead at most; the consumer's reads drive the network.
    { highWaterMark: 0 },
  )
}

/**
 * Read a verified blob stream into one buffer. With a Content-Length the buffer is allocated once and filled in
 * place, so a large blob costs one copy of its size plus the chunks in flight.
 */
export async function collectStream(stream: ReadableStream<Uint8Array>, size: number | undefined): Promise<Uint8Array> {
  const reader = stream.getReader()
  let buffer = new Uint8Array(size ?? 64 * 1024)
  let length = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (length + value.length > buffer.length) {
      const grown = new Uint8Array(Math.max(buffer.length * 2, length + value.length))
      grown.set(buffer.subarray(0, length))
      buffer = grown
    }
    buffer.set(value, length)
    length += value.length
  }
  return length === buffer.length ? buffer : buffer.subarray(0, length)
}
