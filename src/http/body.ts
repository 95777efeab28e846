/**
 * Bounded response bodies: read at most a given number of bytes (a hostile server cannot make us buffer without
 * bound), or drop a body we do not need so the connection can be reused.
 * @module
 */
import { CountersignError } from '../errors.js'
import { concat } from '../internal/bytes.js'

/**
 * Read a response body, refusing more than `max` bytes: the `Content-Length` is checked first and the stream
 * is cancelled as soon as it passes the limit, so a hostile server cannot make us buffer without bound.
 *
 * @throws {CountersignError} ERR_OCI_SIZE_LIMIT past the limit (with `what` in the message).
 * @example
 * ```ts
 * const bytes = await readLimited(response, 4 * 1024 * 1024, 'manifest')
 * ```
 *
 * Internal: used by the registry client and the service clients; not exported from the package.
 */
export async function readLimited(res: Response, max: number, what = 'response body'): Promise<Uint8Array> {
  const tooLarge = () => new CountersignError('ERR_OCI_SIZE_LIMIT', `${what} is larger than the limit of ${max} bytes`)
  const cl = res.headers.get('content-length')
  if (cl !== null && /^\d+$/.test(cl.trim()) && Number(cl.trim()) > max) {
    await discardBody(res)
    throw tooLarge()
  }
  if (res.body === null) return new Uint8Array(0)
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      let step: ReadableStreamReadResult<Uint8Array>
      try {
        step = await reader.read()
      } catch (cause) {
        // Aborts propagate as-is so the caller can tell ERR_ABORTED and timeouts apart.
        if ((cause as { name?: unknown } | null)?.name === 'AbortError') throw cause
        throw new CountersignError('ERR_NETWORK', `the connection broke while reading the ${what}`, { cause })
      }
      const { done, value } = step
      if (done) break
      total += value.length
      if (total > max) {
        await reader.cancel().catch(() => {})
        throw tooLarge()
      }
      chunks.push(value)
    }
  } finally {
    reader.releaseLock()
  }
  return chunks.length === 1 ? chunks[0]! : concat(...chunks)
}

/**
 * Drop a response body we do not need so the connection can be reused. Never throws.
 *
 * @example
 * ```ts
 * await discardBody(response)
 * ```
 *
 * Internal: used by the registry client and the service clients; not exported from the package.
 */
export async function discardBody(res: Response): Promise<void> {
  try {
    if (res.body !== null && !res.bodyUsed) await res.body.cancel()
  } catch {
    // Already consumed or errored; nothing to release.
  }
}
