/**
 * Attachment content read on demand instead of held in memory: a large SBOM file, say, hashed in one pass and
 * uploaded chunk by chunk in another, so memory stays flat however large it is.
 * @module
 */
import { CountersignError } from '../errors.js'
import { toHex } from '../internal/bytes.js'
import type { ReadableByteStream } from '../internal/host-types.js'
import type { HasherFactory } from '../oci/blob-download.js'
import { parseDigest } from '../oci/digest.js'

/**
 * Content of known size that can be read from its start any number of times (once to hash it unless `digest` is
 * given, once per upload attempt). `open` returns a Web `ReadableStream` or any async iterable of `Uint8Array`
 * chunks; it must yield exactly `size` bytes, the same bytes each time (an upload that sees other bytes fails).
 *
 * @example
 * ```ts
 * import type { StreamedContent } from 'countersign/artifacts'
 * const sbom: StreamedContent = { size: blob.size, open: () => blob.stream() } // a Web File or Blob
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export interface StreamedContent {
  /** Length in bytes; checked against the size limit before anything is read. */
  readonly size: number
  /** `sha256:<hex>` of the content when already known: saves a hashing pass (the registry still checks it). */
  readonly digest?: string
  /** A fresh stream of the content from its first byte. */
  open(): ReadableByteStream | AsyncIterable<Uint8Array>
}

/**
 * What an attach function stores: bytes in memory, or {@link StreamedContent}.
 *
 * @example
 * ```ts
 * import type { AttachmentContent } from 'countersign/artifacts'
 * const content: AttachmentContent = new TextEncoder().encode('{"spdxVersion":"SPDX-2.3"}')
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export type AttachmentContent = Uint8Array | StreamedContent

/** Whether `value` has the shape of {@link StreamedContent} (a non-negative integer size and an `open` function). */
export function isStreamedContent(value: unknown): value is StreamedContent {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return false
  const c = value as Partial<StreamedContent>
  return (
    typeof c.open === 'function' &&
    Number.isSafeInteger(c.size) &&
    (c.size as number) >= 0 &&
    (c.digest === undefined || typeof c.digest === 'string')
  )
}

/** Byte length of `content`. */
export function contentSize(content: AttachmentContent): number {
  return content instanceof Uint8Array ? content.length : content.size
}

/** Open `content` as a `ReadableStream`, adapting an async iterable; chunks that are not bytes error the stream. */
export function openContent(content: StreamedContent): ReadableStream<Uint8Array> {
  const opened = content.open()
  if (typeof (opened as ReadableStream<Uint8Array>).getReader === 'function')
    return opened as ReadableStream<Uint8Array>
  const iterable = opened as AsyncIterable<Uint8Array>
  if (typeof iterable?.[Symbol.asyncIterator] !== 'function') {
    throw new TypeError('StreamedContent.open() must return a ReadableStream or an async iterable')
  }
  const it = iterable[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const step = await it.next()
      if (step.done) controller.close()
      else if (step.value instanceof Uint8Array) controller.enqueue(step.value)
      else controller.error(new TypeError('StreamedContent chunks must be Uint8Array'))
    },
    async cancel(reason) {
      await it.return?.(reason)
    },
  })
}

function sizeMismatch(expected: number, actual: string): CountersignError {
  return new CountersignError(
    'ERR_INVALID_INPUT',
    `attachment content: the stream holds ${actual} bytes, expected ${expected}`,
    { details: { expected } },
  )
}

/** Read all of `content`, handing each chunk to `sink`; throws when it is not exactly `size` bytes long. */
async function readAll(content: StreamedContent, sink: (chunk: Uint8Array, offset: number) => void): Promise<void> {
  const reader = openContent(content).getReader()
  let n = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (n + value.length > content.size) throw sizeMismatch(content.size, 'more than that')
      sink(value, n)
      n += value.length
    }
  } catch (e) {
    await reader.cancel().catch(() => {})
    throw e
  } finally {
    reader.releaseLock()
  }
  if (n !== content.size) throw sizeMismatch(content.size, `${n}`)
}

/** The `sha256:<hex>` digest of `content`: the one given (validated), else hashed in one streaming pass. */
export async function digestContent(content: StreamedContent, hasher: HasherFactory): Promise<string> {
  if (content.digest !== undefined) {
    // Layer digests are SHA-256 (cosign's, and what a layout store names the blob by).
    if (parseDigest(content.digest).algorithm !== 'sha256') {
      throw new CountersignError('ERR_INVALID_INPUT', `the content's digest must be sha256, not ${content.digest}`)
    }
    return content.digest
  }
  const hash = hasher('sha256')
  await readAll(content, (chunk) => hash.update(chunk))
  return `sha256:${toHex(hash.digest())}`
}

/** All of `content` in one buffer of exactly its size (for stores that take bytes only). */
export async function readContent(content: StreamedContent): Promise<Uint8Array> {
  const out = new Uint8Array(content.size)
  await readAll(content, (chunk, offset) => out.set(chunk, offset))
  return out
}
