/**
 * Running the image checks of one review: bounded concurrency, one budget for all of them, abortable; each image
 * settles as a vetted result or as the reason it could not be decided.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { mapLimit } from '../internal/concurrency.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { isJSONObject } from '../internal/json.js'
import { LazyAbortController } from '../internal/lazy-abort.js'
import { describeError } from './messages.js'
import type { AdmissionResource, ImageCheck, ImageCheckResult } from './types.js'

/**
 * How the check of one image ended: a result, or why there is none.
 *
 * @example
 * ```ts
 * const failed = settled.filter((s): s is Extract<Settled, { error: string }> => 'error' in s)
 * ```
 */
export type Settled =
  | { readonly image: string; readonly result: ImageCheckResult }
  | { readonly image: string; readonly error: string }

/**
 * What {@link runChecks} needs.
 *
 * @example
 * ```ts
 * const run: CheckRun = { check, concurrency: 8, budgetMs: 8000, signal }
 * ```
 */
export interface CheckRun {
  readonly check: ImageCheck
  readonly concurrency: number
  /** For all the checks together; past it the unfinished ones settle as timed out. */
  readonly budgetMs: number
  readonly namespace?: string
  /** The workload under review, passed to every check. */
  readonly resource?: AdmissionResource
  /**
   * Whose `signal`, once aborted, settles the unfinished checks as aborted and aborts them. `caller.signal` is read
   * only when the run needs it (see {@link runChecks}), so it may be a getter that makes the signal on demand.
   */
  readonly caller?: { readonly signal?: AbortSignalLike | undefined }
}

function validResult(r: unknown, image: string): ImageCheckResult {
  const ok =
    isJSONObject(r) &&
    typeof r.allowed === 'boolean' &&
    Array.isArray(r.reasons) &&
    r.reasons.every((x) => typeof x === 'string') &&
    Array.isArray(r.warnings) &&
    r.warnings.every((x) => typeof x === 'string') &&
    (r.digest === undefined || typeof r.digest === 'string') &&
    (r.pin === undefined || r.pin === null || typeof r.pin === 'string')
  if (!ok) throw new CountersignError('ERR_INVALID_INPUT', 'the image check returned a malformed result')
  const result = r as unknown as ImageCheckResult
  // A result for another image (a check keyed wrongly) must not decide this one.
  if (result.image !== image) throw new CountersignError('ERR_INVALID_INPUT', 'the image check answered another image')
  return result
}

/**
 * What each check of a run is given. A class, not an object literal with a getter: a literal's getter is a new
 * function each time, and V8 then gives every such object its own hidden class, which lives in old space and keeps
 * the whole review reachable until a full collection (the same trap as Node 20's AbortSignal, see lazy-abort.ts).
 */
class CheckContext {
  readonly namespace?: string
  readonly resource?: AdmissionResource
  readonly #stop: LazyAbortController
  readonly #follow: () => void

  constructor(
    stop: LazyAbortController,
    follow: () => void,
    namespace: string | undefined,
    resource: AdmissionResource | undefined,
  ) {
    this.#stop = stop
    this.#follow = follow
    if (namespace !== undefined) this.namespace = namespace
    if (resource !== undefined) this.resource = resource
  }

  /** The run's signal, made when first asked for; asking also starts following the caller's. */
  get signal(): AbortSignal {
    this.#follow()
    return this.#stop.signal
  }
}

/**
 * Check every image; never rejects. The answer lists each image once, in the order given.
 *
 * The budget is kept two ways: a timer, which ends waiting on registries and anything else asynchronous, and a look
 * at the clock before each check starts, because a timer cannot fire while checks keep answering without yielding to
 * the event loop (cache hits, policy matching). A check's synchronous part (matching globs and regexps against the
 * reference) cannot be interrupted at all; it is bounded instead by linear matchers, the reference length limit of
 * `workloadImages` and the image count limits of the decision.
 *
 * Nothing is made for aborting until it is needed: the run's signal when a check reads `context.signal`, and the
 * caller's `run.caller.signal` is first read then, or when the run is still waiting at the timer's first tick
 * (1 ms). Checks answered from a cache settle before that, so a cached review makes no AbortSignal (see
 * `LazyAbortController`).
 *
 * @example
 * ```ts
 * const settled = await runChecks(['nginx:1.27'], { check, concurrency: 8, budgetMs: 8000 })
 * ```
 */
export async function runChecks(distinct: readonly string[], run: CheckRun): Promise<Settled[]> {
  const { budgetMs, namespace } = run
  const stop = new LazyAbortController()
  const timedOut = `timed out after ${budgetMs} ms`
  let expired = false
  let wake = () => {}
  const stopped = new Promise<void>((resolve) => {
    wake = resolve
  })
  const abort = (reason: unknown) => {
    if (stop.aborted) return
    stop.abort(reason)
    wake()
  }
  const expire = () => {
    if (stop.aborted) return
    expired = true
    abort(new CountersignError('ERR_ABORTED', timedOut))
  }
  let outer: AbortSignalLike | undefined
  let following = false
  const onAbort = () => abort(outer?.reason)
  const follow = () => {
    if (following) return
    following = true
    outer = run.caller?.signal
    if (outer?.aborted) abort(outer.reason)
    else outer?.addEventListener('abort', onAbort, { once: true })
  }
  const deadline = Date.now() + budgetMs
  // One timer: its first tick follows the caller's signal, then it waits out the rest of the budget.
  let timer = setTimeout(
    () => {
      follow()
      timer = setTimeout(expire, Math.max(0, deadline - Date.now()))
    },
    Math.min(1, budgetMs),
  )
  // Each slot records its own outcome, so a timeout still reports the images that did finish.
  const done = new Map<string, Settled>()
  const context = new CheckContext(stop, follow, namespace, run.resource)
  const all = mapLimit(distinct, run.concurrency, async (image) => {
    if (Date.now() >= deadline) expire()
    if (stop.aborted) return
    let s: Settled
    try {
      s = { image, result: validResult(await run.check(image, context), image) }
    } catch (e) {
      s = { image, error: describeError(e) }
    }
    if (!stop.aborted) done.set(image, s)
  })
  try {
    await Promise.race([all, stopped])
    const why = expired ? timedOut : 'the request was aborted'
    return distinct.map((image) => done.get(image) ?? { image, error: why })
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onAbort)
  }
}
