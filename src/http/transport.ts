/**
 * The registry client's HTTP transport: bounded concurrency per host, per-request timeouts, and retries with
 * exponential backoff and full jitter on 408/429/500/502/503/504 and on connections reset before a response
 * (ggcr `transport.NewRetry` + `Temporary()`), honouring `Retry-After`.
 *
 * The transport hands back a response once its headers arrive, so it cannot retry a body that breaks off later:
 * the registry client does, with the same budget and backoff ({@link backoffDelay}) — manifests, tag and referrer
 * pages are fetched again (src/oci/registry-read.ts), blobs resume with `Range` (src/oci/blob-download.ts).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { backoffDelay } from '../internal/backoff.js'
import { createKeyedSemaphore } from '../internal/semaphore.js'
import { discardBody } from './body.js'

/**
 * Retry policy for registry requests. Delays are `random(0, min(maxDelayMs, baseDelayMs · 2^n))` (full
 * jitter); a `Retry-After` header replaces the computed delay, capped at `maxRetryAfterMs`.
 *
 * @example
 * ```ts
 * createRegistryClient({ retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 } })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RetryOptions {
  /** Retries after the first attempt (0 disables retrying); default 3. */
  readonly attempts?: number
  /** Backoff base in milliseconds; default 250. */
  readonly baseDelayMs?: number
  /** Largest computed backoff in milliseconds; default 8 000. */
  readonly maxDelayMs?: number
  /** Largest delay taken from a `Retry-After` header; default 60 000. */
  readonly maxRetryAfterMs?: number
}

/**
 * Statuses worth retrying: go-containerregistry's defaults (408, 500, 502, 503, 504, 499, 522) plus 429. 500 matters
 * in practice: distribution's filesystem driver answers 500 while another client rewrites the same tag.
 */
const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 429, 499, 500, 502, 503, 504, 522])
/** Low-level error codes that mean the connection broke, not that the server refused it. */
const RESET_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
])

/** What the transport reports for each attempt (the registry client's `onRequest`). */
export interface AttemptInfo {
  readonly method: string
  readonly url: string
  readonly status: number
  /** 0 for the first attempt of a request, then 1, 2, … */
  readonly attempt: number
}

/** Options of {@link createTransport}. */
export interface TransportOptions {
  readonly fetch: typeof fetch
  readonly retry?: RetryOptions
  /** Abortable sleep; injectable for tests. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  /** Most requests in flight per host (until response headers arrive); default 8. */
  readonly maxConcurrency?: number
  /** Time allowed for one attempt to produce response headers; none by default. */
  readonly requestTimeoutMs?: number
  readonly now?: () => number
  readonly random?: () => number
  readonly onAttempt?: (info: AttemptInfo) => void
}

/** Per-request transport options. */
export interface SendOptions {
  /**
   * Whether this request may be repeated: true for idempotent requests with a replayable body (GET, HEAD,
   * manifest PUT of bytes). Upload-session PATCH/PUT are false: the blob push restarts the session instead. A
   * manifest PUT to a shared tag sent with `StoreCallOptions.retry: false` is false too: its bytes were merged from
   * an earlier read, so its writer reads again rather than have them repeated (src/oci/shared-tag.ts).
   */
  readonly retry: boolean
}

/** One HTTP round trip through the transport. */
export type Transport = (url: string, init: RequestInit, options: SendOptions) => Promise<Response>

/** Abortable `setTimeout`. */
export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal?.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Parse `Retry-After` (delta-seconds or an HTTP date) into milliseconds from `now`, clamped to `[0, max]`.
 * Returns undefined when absent or unparsable.
 */
export function parseRetryAfter(value: string | null, now: number, max: number): number | undefined {
  if (value === null) return undefined
  const v = value.trim()
  let ms: number
  if (/^\d{1,10}$/.test(v)) ms = Number(v) * 1000
  else {
    const at = Date.parse(v)
    if (Number.isNaN(at)) return undefined
    ms = at - now
  }
  return Math.min(Math.max(0, ms), max)
}

/** The URL without query or fragment: upload URLs carry opaque (possibly signed) state. */
export function safeURL(u: string): string {
  try {
    const url = new URL(u)
    return `${url.origin}${url.pathname}`
  } catch {
    return '(invalid URL)'
  }
}

function causes(error: unknown): Array<{ code?: unknown; message?: unknown }> {
  const out: Array<{ code?: unknown; message?: unknown }> = []
  let e = error as { cause?: unknown; code?: unknown; message?: unknown } | undefined
  for (let i = 0; i < 5 && typeof e === 'object' && e !== null; i++) {
    out.push(e)
    e = e.cause as typeof e
  }
  return out
}

/** True when a fetch failure means the connection was reset or closed (worth retrying an idempotent request). */
export function isConnectionReset(error: unknown): boolean {
  return causes(error).some(
    (c) =>
      (typeof c.code === 'string' && RESET_CODES.has(c.code)) ||
      (typeof c.message === 'string' && /socket hang up|other side closed|ECONNRESET/i.test(c.message)),
  )
}

/**
 * The low-level reason behind a failed fetch (ECONNREFUSED, a TLS verification code, "redirect count exceeded"),
 * so it reaches the user instead of just "fetch failed". Only codes and the runtime's own messages are used;
 * URLs and headers never are.
 */
export function networkReason(error: unknown): string {
  const inner = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  const code = typeof inner?.code === 'string' ? inner.code : undefined
  const message = typeof inner?.message === 'string' ? inner.message.slice(0, 200) : undefined
  if (code && message) return ` (${code}: ${message})`
  return code || message ? ` (${code ?? message})` : ''
}

function hostKey(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return ''
  }
}

// Re-exported for the registry client's own retry loops (blob uploads, body re-reads).
export { backoffDelay }

/** Create the transport; see the module comment. */
export function createTransport(options: TransportOptions): Transport {
  const attempts = Math.max(0, Math.floor(options.retry?.attempts ?? 3))
  const maxRetryAfter = options.retry?.maxRetryAfterMs ?? 60_000
  const sleep = options.sleep ?? defaultSleep
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const limiter = createKeyedSemaphore(options.maxConcurrency ?? 8)

  /** One attempt: a permit, the per-request timeout, and mapping fetch failures to ERR_NETWORK. */
  const attempt = async (url: string, init: RequestInit, n: number): Promise<Response> => {
    const method = init.method ?? 'GET'
    const callerSignal = init.signal ?? undefined
    let signal = callerSignal
    let timer: ReturnType<typeof setTimeout> | undefined
    let timedOut = false
    if (options.requestTimeoutMs !== undefined) {
      // The caller's abort keeps reaching the body after the headers, so the forwarding listener stays.
      const controller = new AbortController()
      if (callerSignal?.aborted) controller.abort(callerSignal.reason)
      callerSignal?.addEventListener('abort', () => controller.abort(callerSignal.reason), { once: true })
      timer = setTimeout(() => {
        timedOut = true
        controller.abort(new DOMException('the registry request timed out', 'TimeoutError'))
      }, options.requestTimeoutMs)
      signal = controller.signal
    }
    const release = await limiter.acquire(hostKey(url), callerSignal)
    try {
      // The signal may have fired while waiting for a permit.
      if (signal?.aborted) throw signal.reason
      const res = await options.fetch(url, { ...init, ...(signal !== undefined ? { signal } : {}) })
      options.onAttempt?.({ method, url: safeURL(url), status: res.status, attempt: n })
      return res
    } catch (cause) {
      options.onAttempt?.({ method, url: safeURL(url), status: 0, attempt: n })
      if (callerSignal?.aborted) throw cause // mapped to ERR_ABORTED / the operation timeout by the caller
      if (timedOut) {
        throw new CountersignError(
          'ERR_NETWORK',
          `${method} ${safeURL(url)} got no response within ${options.requestTimeoutMs} ms`,
          { cause, details: { retryable: true } },
        )
      }
      throw new CountersignError(
        'ERR_NETWORK',
        `${method} ${safeURL(url)} failed: could not connect or the connection broke${networkReason(cause)}`,
        { cause, details: { retryable: isConnectionReset(cause) } },
      )
    } finally {
      if (timer !== undefined) clearTimeout(timer)
      release()
    }
  }

  return async (url, init, sendOptions) => {
    const budget = sendOptions.retry ? attempts : 0
    const signal = init.signal ?? undefined
    for (let n = 0; ; n++) {
      let res: Response
      try {
        res = await attempt(url, init, n)
      } catch (e) {
        const retryable = e instanceof CountersignError && e.details?.retryable === true
        if (!retryable || n >= budget) throw e
        await sleep(backoffDelay(n, options.retry, random), signal)
        continue
      }
      if (!RETRY_STATUSES.has(res.status) || n >= budget) return res
      const delay =
        parseRetryAfter(res.headers.get('retry-after'), now(), maxRetryAfter) ?? backoffDelay(n, options.retry, random)
      await discardBody(res)
      await sleep(delay, signal)
    }
  }
}
