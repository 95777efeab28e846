/**
 * Running the image checks of one review: bounded concurrency, one budget for all of them, abortable; each image
 * settles as a vetted result or as the reason it could not be decided.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { mapLimit } from '../internal/concurrency.js'
import { isJSONObject } from '../internal/json.js'
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
  /** Aborting it settles the unfinished checks as aborted and aborts them. */
  readonly signal?: AbortSignal
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
 * Check every image; never rejects. The answer lists each image once, in the order given.
 *
 * The budget is kept two ways: a timer, which ends waiting on registries and anything else asynchronous, and a look
 * at the clock before each check starts, because a timer cannot fire while checks keep answering without yielding to
 * the event loop (cache hits, policy matching). A check's synchronous part (matching globs and regexps against the
 * reference) cannot be interrupted at all; it is bounded instead by linear matchers, the reference length limit of
 * `workloadImages` and the image count limits of the decision.
 *
 * @example
 * ```ts
 * const settled = await runChecks(['nginx:1.27'], { check, concurrency: 8, budgetMs: 8000 })
 * ```
 */
export async function runChecks(distinct: readonly string[], run: CheckRun): Promise<Settled[]> {
  const { budgetMs, namespace, signal: outer } = run
  const controller = new AbortController()
  const timedOut = `timed out after ${budgetMs} ms`
  let expired = false
  const expire = () => {
    if (controller.signal.aborted) return
    expired = true
    controller.abort(new CountersignError('ERR_ABORTED', timedOut))
  }
  const onAbort = () => controller.abort(outer?.reason)
  outer?.addEventListener('abort', onAbort, { once: true })
  if (outer?.aborted) controller.abort(outer.reason)
  const deadline = Date.now() + budgetMs
  const timer = setTimeout(expire, budgetMs)
  const aborted = new Promise<void>((resolve) => {
    if (controller.signal.aborted) resolve()
    controller.signal.addEventListener('abort', () => resolve(), { once: true })
  })
  // Each slot records its own outcome, so a timeout still reports the images that did finish.
  const done = new Map<string, Settled>()
  const context = {
    signal: controller.signal,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(run.resource !== undefined ? { resource: run.resource } : {}),
  }
  const all = mapLimit(distinct, run.concurrency, async (image) => {
    if (Date.now() >= deadline) expire()
    if (controller.signal.aborted) return
    let s: Settled
    try {
      s = { image, result: validResult(await run.check(image, context), image) }
    } catch (e) {
      s = { image, error: describeError(e) }
    }
    if (!controller.signal.aborted) done.set(image, s)
  })
  try {
    await Promise.race([all, aborted])
    const why = expired ? timedOut : 'the request was aborted'
    return distinct.map((image) => done.get(image) ?? { image, error: why })
  } finally {
    clearTimeout(timer)
    outer?.removeEventListener('abort', onAbort)
  }
}
