/**
 * Files as attachment content that is read on demand: hashed once with Node's native SHA-256, then streamed from
 * disk for each upload attempt, so attaching a large SBOM does not hold it in memory.
 * @module
 */
import { createHash } from 'node:crypto'
import { type FileHandle, open } from 'node:fs/promises'
import { CountersignError } from '../errors.js'

const DEFAULT_CHUNK_BYTES = 1024 * 1024

/**
 * Options for {@link openFileContent}.
 *
 * Exported from `countersign/node`.
 */
export interface FileContentOptions {
  /** Bytes per read, and so the size of each streamed chunk; default 1 MiB. */
  readonly chunkSize?: number
}

/**
 * A regular file as content read on demand: its size, its SHA-256, and a fresh stream of it per call of `open`
 * (the shape of `StreamedContent` from `countersign/artifacts`, which `attachSBOM` takes).
 *
 * Exported from `countersign/node`.
 */
export interface FileContent {
  readonly size: number
  /** `sha256:<hex>` of the bytes read when the file was opened. */
  readonly digest: string
  /** A stream of the file from its first byte, opened on first read, closed at its end or when cancelled. */
  open(): ReadableStream<Uint8Array>
}

/** A stream of the file from its first byte, opened on first read, closed at its end or when cancelled. */
function fileStream(path: string, chunkSize: number): ReadableStream<Uint8Array> {
  let handle: FileHandle | undefined
  const close = async () => {
    const h = handle
    handle = undefined
    await h?.close()
  }
  return new ReadableStream<Uint8Array>({
    async start() {
      handle = await open(path, 'r')
    },
    async pull(controller) {
      try {
        // A fresh buffer per chunk: the reader may keep it (the upload collects chunks into a PATCH body).
        const buf = new Uint8Array(chunkSize)
        const { bytesRead } = await handle!.read(buf, 0, chunkSize, null)
        if (bytesRead === 0) {
          await close()
          controller.close()
        } else controller.enqueue(bytesRead === chunkSize ? buf : buf.subarray(0, bytesRead))
      } catch (e) {
        await close().catch(() => {})
        throw e
      }
    },
    cancel: close,
  })
}

/**
 * Open a file as attachment content for `attachSBOM`: a regular file becomes {@link FileContent} (its size, its
 * SHA-256 computed here in one pass with `node:crypto`, and a stream of it reopened for each upload attempt);
 * anything else that can be read (a pipe, `/dev/stdin`) is read whole into one buffer. The file must not change
 * until the attach is done: a registry refuses bytes that do not match the digest, and a size that changed fails.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the file changed size while it was hashed; Node's file errors
 *   (ENOENT, EACCES, EISDIR) as `readFile` raises them.
 * @example
 * ```ts
 * import { attachSBOM, sbomMediaType } from 'countersign/artifacts'
 * import { openFileContent } from 'countersign/node'
 * const sbom = await openFileContent('sbom.spdx.json')
 * await attachSBOM(ref, sbom, { store, mediaType: sbomMediaType('spdx', { fileName: 'sbom.spdx.json' }) })
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function openFileContent(
  path: string,
  options: FileContentOptions = {},
): Promise<FileContent | Uint8Array> {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_BYTES
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError('"chunkSize" must be a positive integer')
  const handle = await open(path, 'r')
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) {
      // A pipe cannot be read twice, and a directory fails here as readFile fails on it.
      const b = await handle.readFile()
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
    }
    const hash = createHash('sha256')
    // One buffer for the whole pass: hash.update copies what it needs.
    const buf = new Uint8Array(Math.min(chunkSize, Math.max(stat.size, 1)))
    let size = 0
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, null)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
      size += bytesRead
    }
    if (size !== stat.size) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `${path} changed while it was read (${stat.size} → ${size} bytes)`,
      )
    }
    return { size, digest: `sha256:${hash.digest('hex')}`, open: () => fileStream(path, chunkSize) }
  } finally {
    await handle.close()
  }
}
