/**
 * The rules every writer of a shared tag follows on a registry without conditional writes (distribution 2.8 has no
 * `If-Match` on manifests): the legacy `.sig`/`.att` tags (src/image/legacy/attachment-write.ts) and the referrers
 * fallback index (referrers.ts). Each writer reads the tag, merges its entry into what it found, writes the whole
 * manifest back and reads the tag again; two rules here keep a writer that reported success from being overwritten
 * by another writer's stale bytes:
 *
 * - **A tag write is sent once** (`retry: false`). Its bytes were merged from what the tag held when it was read; a
 *   transport retry after a 429 `Retry-After`, a 503 backoff or a reset would send them again up to seconds later,
 *   after other writers added their entries, and drop those. A failed write goes back to the caller's loop
 *   ({@link writeRetryPause}): read the tag (the write may have landed and only its answer was lost), wait, read,
 *   merge and write again.
 * - **Confirming re-reads** ({@link confirmTagWrite}): the tag is read again after a settle pause (4–8× the writer's
 *   own read-to-write round trip, 50 ms–4 s); when the writer saw contention (the tag moved under it, a round was
 *   repeated, a write failed, or a re-read found another writer's manifest), once more 1.5–2.5 s later, because a
 *   write another writer sent before ours can still be in flight (a slow proxy, a stalled connection) and land
 *   after our first re-read. An uncontended writer keeps the short horizon.
 *
 * What remains (documented in docs/formats.md §Concurrent writers): a write that another writer sent before ours
 * and that reaches the registry only after our last re-read (later than the settle pause when we saw no
 * contention, later than about 2 s after our write when we did) replaces the tag without our entry, unnoticed.
 *
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { backoffDelay } from '../internal/backoff.js'

/** Failed tag writes retried by the caller's loop, as many as the transport's default retries. */
const MAX_WRITE_RETRIES = 3
/** Longest wait taken from a `Retry-After` (as the transport's default). */
const MAX_RETRY_AFTER_MS = 60_000
const MIN_SETTLE_MS = 50
const MAX_SETTLE_MS = 2_000
/** The late re-check after contention: this long after the settle re-check, plus up to LATE_JITTER_MS. */
const LATE_RECHECK_MS = 1_500
const LATE_JITTER_MS = 1_000

/**
 * What a confirming re-read found: the tag still holds the manifest we wrote (`same`), another manifest that still
 * holds everything we need (`moved`: another writer merged on top of ours), or one that lost something (`lost`).
 *
 * @example
 * ```ts
 * const seen: TagCheck = now.digest === ours ? 'same' : holdsOurs(now) ? 'moved' : 'lost'
 * ```
 */
export type TagCheck = 'same' | 'moved' | 'lost'

/**
 * Options of {@link confirmTagWrite}.
 *
 * @example
 * ```ts
 * const options: ConfirmTagWriteOptions = { roundTripMs: 40, contended: round > 0, immediate: true }
 * ```
 */
export interface ConfirmTagWriteOptions {
  /** The writer's own read-to-write time in ms: the settle pause scales with it. */
  readonly roundTripMs: number
  /** Whether the writer has seen other writers during this write (the tag moved, a round was repeated, …). */
  readonly contended: boolean
  /** Also check right away, before the settle pause (cheap when `check` starts with a HEAD). */
  readonly immediate?: boolean
  readonly signal?: AbortSignal
  /** Injectable for tests; defaults to `Math.random`. */
  readonly random?: () => number
}

/**
 * Re-read a tag after our write until the horizon the module notes describe: `check` runs after each pause and
 * says what the tag holds. Resolves false at the first `lost` (the caller merges and writes again), true when every
 * check kept ours. A `moved` makes the write contended, so one late re-check is added.
 *
 * @throws {CountersignError} ERR_ABORTED when `signal` aborts; whatever `check` throws.
 * @example
 * ```ts
 * const kept = await confirmTagWrite(
 *   async () => ((await store.resolve(ref)).digest === ours ? 'same' : 'lost'),
 *   { roundTripMs: Date.now() - started, contended: round > 0 },
 * )
 * ```
 */
export async function confirmTagWrite(
  check: () => Promise<TagCheck>,
  options: ConfirmTagWriteOptions,
): Promise<boolean> {
  const random = options.random ?? Math.random
  const settle = Math.min(MAX_SETTLE_MS, Math.max(MIN_SETTLE_MS, 4 * options.roundTripMs)) * (1 + random())
  const pauses = options.immediate === true ? [0, settle] : [settle]
  let contended = options.contended
  let late = false
  for (let i = 0; i < pauses.length; i++) {
    if (pauses[i]! > 0) await pause(pauses[i]!, options.signal)
    const seen = await check()
    if (seen === 'lost') return false
    if (seen === 'moved') contended = true
    // One late look when others are about: a write they sent before ours may still be on its way.
    if (i === pauses.length - 1 && contended && !late) {
      late = true
      pauses.push(LATE_RECHECK_MS + random() * LATE_JITTER_MS)
    }
  }
  return true
}

/**
 * After a tag write sent with `retry: false` failed with `e`: how long to wait before reading, merging and writing
 * again, or `undefined` when the loop must give up and throw `e` (not worth retrying, or `failed` exceeds the 3
 * retries the transport would have made). Retried: resets and per-request timeouts (ERR_NETWORK marked retryable),
 * 429 and 5xx (the `Retry-After` the registry asked for, else full-jitter backoff), and distribution's
 * `DIGEST_INVALID` refusal while another client commits one of the manifest's blobs (a short pause).
 *
 * @param failed - How many writes of this loop have failed, this one included.
 * @example
 * ```ts
 * const wait = writeRetryPause(e, ++failures)
 * if (wait === undefined) throw e
 * await pause(wait, signal)
 * ```
 */
export function writeRetryPause(e: unknown, failed: number, random: () => number = Math.random): number | undefined {
  if (failed > MAX_WRITE_RETRIES || !isCountersignError(e)) return undefined
  const n = failed - 1
  if (e.code === 'ERR_NETWORK') return e.details?.retryable === true ? backoffDelay(n, undefined, random) : undefined
  if (e.code !== 'ERR_OCI_HTTP') return undefined
  if (isDigestRace(e)) return 25 * 2 ** n + random() * 50
  if (e.details?.temporary !== true) return undefined
  const after = e.details?.retryAfterMs
  // A little jitter on top, so that writers throttled together do not come back together.
  if (typeof after === 'number') return Math.min(after, MAX_RETRY_AFTER_MS) + random() * 250
  return backoffDelay(n, undefined, random)
}

/**
 * Whether a tag write that failed with `e` may nevertheless have been applied (its answer lost, or a gateway
 * failing after the registry stored it): network failures and 429/5xx. The tag is then read before writing again.
 *
 * @example
 * ```ts
 * if (mayHaveLanded(e) && (await holdsOurs())) return ours
 * ```
 */
export function mayHaveLanded(e: unknown): boolean {
  return (
    isCountersignError(e, 'ERR_NETWORK') || (isCountersignError(e, 'ERR_OCI_HTTP') && e.details?.temporary === true)
  )
}

/** distribution's 400 DIGEST_INVALID while a blob the manifest names is being committed by another client. */
function isDigestRace(e: CountersignError): boolean {
  if (e.details?.status !== 400) return false
  const entries = e.details?.registryErrors
  return Array.isArray(entries) && entries.some((x) => (x as { code?: unknown } | null)?.code === 'DIGEST_INVALID')
}

/**
 * Wait `ms`, or reject with ERR_ABORTED when `signal` aborts first.
 *
 * @throws {CountersignError} ERR_ABORTED.
 * @example
 * ```ts
 * await pause(250, options.signal)
 * ```
 */
export function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: signal?.reason })
    if (signal?.aborted) return reject(aborted())
    const onAbort = () => {
      clearTimeout(timer)
      reject(aborted())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
