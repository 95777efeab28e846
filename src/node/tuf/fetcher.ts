/**
 * The downloads of a TUF update, over an injectable `fetch` (tests, proxies, extra CAs) instead of tuf-js's own
 * HTTP stack: bounded in length as tuf-js asks, bounded in time, and failing the way tuf-js expects (its
 * `DownloadHTTPError` for HTTP statuses: a 404 for `N+1.root.json` is how it learns the root is current).
 * @module
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Fetcher } from 'tuf-js'
import { CountersignError } from '../../errors.js'

/**
 * Options for {@link createTUFFetcher}.
 *
 * @example
 * ```ts
 * const o: TUFFetcherOptions = { fetch, timeoutMs: 30_000, tempDir: '/home/me/.sigstore/root' }
 * ```
 */
export interface TUFFetcherOptions {
  readonly fetch: typeof fetch
  /** Per download (default 30 s). */
  readonly timeoutMs?: number
  /** Where `downloadFile` keeps a download while tuf-js checks it (same file system as the cache). */
  readonly tempDir: string
  /** Refuse every download (offline mode): the update must make do with its cache. */
  readonly offline?: boolean
}

/** tuf-js's error for an HTTP status (loaded with tuf-js, which is lazy). */
type DownloadHTTPErrorClass = new (message: string, statusCode: number) => Error

async function readAtMost(res: Response, maxLength: number, url: string): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  let total = 0
  const reader = res.body?.getReader()
  if (!reader) return Buffer.alloc(0)
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
      if (total > maxLength) {
        throw new CountersignError('ERR_TUF_TARGET_MISMATCH', `TUF download ${url} is longer than ${maxLength} bytes`)
      }
      chunks.push(value)
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks, total)
}

/**
 * A tuf-js `Fetcher` over `options.fetch`.
 *
 * @example
 * ```ts
 * const fetcher = await createTUFFetcher({ fetch, tempDir: cacheDir })
 * const bytes = await fetcher.downloadBytes('https://tuf-repo-cdn.sigstore.dev/timestamp.json', 1 << 20)
 * ```
 */
export async function createTUFFetcher(options: TUFFetcherOptions): Promise<Fetcher> {
  const { DownloadHTTPError } = (await import('tuf-js/dist/error.js')) as { DownloadHTTPError: DownloadHTTPErrorClass }
  const timeoutMs = options.timeoutMs ?? 30_000

  const downloadBytes = async (url: string, maxLength: number): Promise<Buffer> => {
    if (options.offline) {
      throw new CountersignError('ERR_TUF_UNAVAILABLE', `offline: not downloading ${url}`, {
        details: { offline: true },
      })
    }
    let res: Response
    try {
      res = await options.fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' })
    } catch (cause) {
      throw new CountersignError('ERR_TUF_UNAVAILABLE', `cannot reach ${url}: ${(cause as Error).message}`, { cause })
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      throw new DownloadHTTPError(`Failed to download ${url}: HTTP ${res.status}`, res.status)
    }
    try {
      return await readAtMost(res, maxLength, url)
    } catch (cause) {
      if (cause instanceof CountersignError) throw cause
      throw new CountersignError('ERR_TUF_UNAVAILABLE', `download of ${url} broke off: ${(cause as Error).message}`, {
        cause,
      })
    }
  }

  return {
    downloadBytes,
    async downloadFile<T>(url: string, maxLength: number, handler: (file: string) => Promise<T>): Promise<T> {
      const bytes = await downloadBytes(url, maxLength)
      const dir = await mkdtemp(join(options.tempDir, '.download-'))
      try {
        const file = join(dir, 'target')
        await writeFile(file, bytes, { mode: 0o600 })
        return await handler(file)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    },
  }
}
