/**
 * The admission decision for one AdmissionReview: find the images, ask the {@link ImageCheck} about each, and answer
 * allow, deny (listing every failing image and why) or, on the mutating endpoint, allow with a patch pinning tags to
 * digests. Fails closed: a malformed review, a throwing or slow check, or anything unexpected is a denial.
 *
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { toBase64, utf8 } from '../internal/bytes.js'
import { mapLimit } from '../internal/concurrency.js'
import { isJSONObject } from '../internal/json.js'
import { type WorkloadImage, workloadImages } from './images.js'
import { pinImagesPatch } from './patch.js'
import {
  type AdmissionRequest,
  type AdmissionReviewResponse,
  admissionReviewResponse,
  denyResponse,
  type GroupVersionKind,
  parseAdmissionReview,
  reviewUID,
} from './review.js'
import type { ImageCheck, ImageCheckResult } from './types.js'

/**
 * Which endpoint a review arrived on: `validate` only decides; `mutate` decides the same way and, when it allows,
 * also pins tags to the verified digests.
 *
 * Exported from `countersign/admission`.
 */
export type AdmissionEndpoint = 'validate' | 'mutate'

/**
 * Options for {@link createAdmissionHandler}.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionHandlerOptions {
  /** Decides about one image (normally the policy evaluator's `createPolicyImageCheck`). */
  readonly check: ImageCheck
  /**
   * `enforce` (default) denies when an image fails; `warn` allows and returns the failures as warnings. Errors
   * (a check that throws or times out, a malformed review) deny in both modes.
   */
  readonly mode?: 'enforce' | 'warn'
  /**
   * Budget for all image checks of one review, in milliseconds (default 8000, below the API server's default
   * `timeoutSeconds: 10` so the client sees our reason rather than a webhook timeout). Past it the review is denied.
   */
  readonly timeoutMs?: number
  /** Image checks in flight per review (default 8). */
  readonly concurrency?: number
  /** Distinct images one review may hold (default 256); more is denied rather than verified. */
  readonly maxImages?: number
}

/**
 * Per-call options of an {@link AdmissionHandler}.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionHandlerCallOptions {
  /** Default `validate`. */
  readonly endpoint?: AdmissionEndpoint
  /** Aborting it (client went away, server shutting down) denies the review and aborts the checks. */
  readonly signal?: AbortSignal
  /**
   * A tighter budget for this review than `options.timeoutMs` (e.g. from the API server's `?timeout=` query
   * parameter); the smaller of the two applies.
   */
  readonly timeoutMs?: number
}

/**
 * How a review was decided, for metrics and logs: `allowed`, `denied` (a policy said no), `error` (the decision
 * could not be made: check threw or timed out; denied), `invalid` (malformed review or workload; denied).
 *
 * Exported from `countersign/admission`.
 */
export type AdmissionDecision = 'allowed' | 'denied' | 'error' | 'invalid'

/**
 * What an {@link AdmissionHandler} answers: the HTTP status and body to send, plus what happened.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionOutcome {
  /** 200 for every well-formed review (allowed or not); 400 for a malformed one. */
  readonly status: number
  /** Always an AdmissionReview; `response.allowed` is false unless every check passed (or warn mode). */
  readonly body: AdmissionReviewResponse
  readonly decision: AdmissionDecision
  /** The verdicts of the checks that completed, one per distinct image. */
  readonly results: readonly ImageCheckResult[]
  readonly uid?: string
  readonly kind?: GroupVersionKind
  readonly namespace?: string
  /** The denial message or, for `invalid`/`error`, why. */
  readonly message?: string
}

/**
 * Decide one AdmissionReview. `review` is the request body: a parsed JSON value, a string or UTF-8 bytes. Never
 * rejects.
 *
 * Exported from `countersign/admission`.
 */
export type AdmissionHandler = (review: unknown, options?: AdmissionHandlerCallOptions) => Promise<AdmissionOutcome>

const DEFAULT_TIMEOUT_MS = 8000
const DEFAULT_CONCURRENCY = 8
const DEFAULT_MAX_IMAGES = 256
/** The API server truncates long warnings (over 256 characters) and drops many; keep within that. */
const MAX_WARNING_LENGTH = 256
const MAX_WARNINGS = 32
/** A denial message is shown by kubectl and stored in events; bound it. */
const MAX_MESSAGE_LENGTH = 8192
const MAX_REASON_LENGTH = 512

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`
}

/** Warnings travel as HTTP `Warning` headers: one line, printable. */
function sanitizeWarning(w: string): string {
  return clip(w.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(), MAX_WARNING_LENGTH)
}

function describeError(e: unknown): string {
  // Our errors carry curated messages without secrets; anything else may carry whatever, so it is not echoed.
  if (isCountersignError(e)) return clip(e.message, MAX_REASON_LENGTH)
  return 'internal error in the image check'
}

function decodeBody(review: unknown): unknown {
  if (review instanceof Uint8Array) {
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(review)
    } catch {
      throw new CountersignError('ERR_INVALID_INPUT', 'malformed AdmissionReview: body is not UTF-8')
    }
    return decodeBody(text)
  }
  if (typeof review === 'string') {
    try {
      return JSON.parse(review)
    } catch {
      throw new CountersignError('ERR_INVALID_INPUT', 'malformed AdmissionReview: body is not JSON')
    }
  }
  return review
}

function validResult(r: unknown, image: string): ImageCheckResult {
  const ok =
    isJSONObject(r) &&
    typeof r.allowed === 'boolean' &&
    Array.isArray(r.reasons) &&
    r.reasons.every((x) => typeof x === 'string') &&
    Array.isArray(r.warnings) &&
    r.warnings.every((x) => typeof x === 'string') &&
    (r.digest === undefined || typeof r.digest === 'string')
  if (!ok) throw new CountersignError('ERR_INVALID_INPUT', 'the image check returned a malformed result')
  const result = r as unknown as ImageCheckResult
  // A result for another image (a check keyed wrongly) must not decide this one.
  if (result.image !== image) throw new CountersignError('ERR_INVALID_INPUT', 'the image check answered another image')
  return result
}

type Settled =
  | { readonly image: string; readonly result: ImageCheckResult }
  | { readonly image: string; readonly error: string }

/**
 * Create the request handler of the admission webhook. It is pure (no I/O but the check), so it runs in any server:
 * the Node one in `countersign/node` (`startAdmissionServer`), a serverless function, or a test.
 *
 * @example
 * ```ts
 * import { createAdmissionHandler } from 'countersign/admission'
 * const handle = createAdmissionHandler({ check: myImageCheck })
 * const { status, body } = await handle(requestBody, { endpoint: 'validate' })
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function createAdmissionHandler(options: AdmissionHandlerOptions): AdmissionHandler {
  const { check } = options
  if (typeof check !== 'function') throw new TypeError('"check" must be a function')
  const mode = options.mode ?? 'enforce'
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const maxImages = options.maxImages ?? DEFAULT_MAX_IMAGES

  return async (review, call) => {
    let request: AdmissionRequest
    let decoded: unknown
    try {
      decoded = decodeBody(review)
      request = parseAdmissionReview(decoded)
    } catch (e) {
      const message = describeError(e)
      const uid = reviewUID(decoded)
      return {
        status: 400,
        body: denyResponse(uid ?? '', message, { code: 400, reason: 'BadRequest' }),
        decision: 'invalid',
        results: [],
        message,
        ...(uid !== undefined ? { uid } : {}),
      }
    }
    const base = {
      uid: request.uid,
      kind: request.kind,
      ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    }
    try {
      return { ...base, ...(await decide(request, call)) }
    } catch (e) {
      // Anything unforeseen: deny, never allow.
      const message = `countersign: admission denied: ${describeError(e)}`
      return { ...base, status: 200, body: denyResponse(request.uid, message), decision: 'error', results: [], message }
    }
  }

  async function decide(
    request: AdmissionRequest,
    call: AdmissionHandlerCallOptions | undefined,
  ): Promise<Omit<AdmissionOutcome, 'uid' | 'kind' | 'namespace'>> {
    const allow = (warnings: readonly string[] = [], results: readonly ImageCheckResult[] = []) => ({
      status: 200,
      body: admissionReviewResponse({ uid: request.uid, allowed: true, ...(warnings.length ? { warnings } : {}) }),
      decision: 'allowed' as const,
      results,
    })
    // Nothing to verify when nothing new can run: deletions, and updates of objects already being deleted that
    // leave the images alone (finalizer removal must not be blocked by a policy, as in policy-controller).
    if (request.object === undefined || request.operation === 'DELETE' || request.operation === 'CONNECT')
      return allow()
    if (terminatingWithSameImages(request)) return allow()

    let images: WorkloadImage[]
    try {
      images = workloadImages(request.kind, request.object)
    } catch (e) {
      const message = `countersign: admission denied: ${describeError(e)}`
      return {
        status: 200,
        body: denyResponse(request.uid, message, { code: 400, reason: 'BadRequest' }),
        decision: 'invalid',
        results: [],
        message,
      }
    }
    const distinct = [...new Set(images.map((i) => i.image))]
    if (distinct.length > maxImages) {
      const message = `countersign: admission denied: ${distinct.length} distinct images exceed the limit of ${maxImages}`
      return { status: 200, body: denyResponse(request.uid, message), decision: 'invalid', results: [], message }
    }

    const budget = Math.min(timeoutMs, call?.timeoutMs ?? Number.POSITIVE_INFINITY)
    const settled = await runChecks(distinct, request.namespace, call?.signal, Math.max(1, budget))
    const results = settled.flatMap((s) => ('result' in s ? [s.result] : []))
    const errored = settled.filter((s): s is Extract<Settled, { error: string }> => 'error' in s)
    const failing = results.filter((r) => !r.allowed)
    const fieldsOf = (image: string) =>
      images
        .filter((i) => i.image === image)
        .map((i) => i.field)
        .join(', ')
    const line = (image: string, why: string) => `- ${fieldsOf(image)} ${JSON.stringify(image)}: ${why}`
    const checkWarnings = results.flatMap((r) => r.warnings)

    if (errored.length > 0) {
      const lines = [
        ...errored.map((s) => line(s.image, `verification could not complete: ${s.error}`)),
        ...failing.map((r) => line(r.image, reasonsOf(r))),
      ]
      const message = clip(
        `countersign: admission denied (fail closed): ${errored.length} of ${distinct.length} image(s) could not be verified\n${lines.join('\n')}`,
        MAX_MESSAGE_LENGTH,
      )
      const warnings = warningList(checkWarnings)
      return {
        status: 200,
        body: denyResponse(request.uid, message, { code: 500, reason: 'InternalError', warnings }),
        decision: 'error',
        results,
        message,
      }
    }

    if (failing.length > 0 && mode === 'enforce') {
      const message = clip(
        `countersign: admission denied: ${failing.length} of ${distinct.length} image(s) failed verification\n${failing
          .map((r) => line(r.image, reasonsOf(r)))
          .join('\n')}`,
        MAX_MESSAGE_LENGTH,
      )
      return {
        status: 200,
        body: denyResponse(request.uid, message, { warnings: warningList(checkWarnings) }),
        decision: 'denied',
        results,
        message,
      }
    }

    const warnings = warningList([
      ...failing.map(
        (r) => `countersign (warn mode): ${fieldsOf(r.image)} ${JSON.stringify(r.image)}: ${reasonsOf(r)}`,
      ),
      ...checkWarnings,
    ])
    if (call?.endpoint !== 'mutate') return allow(warnings, results)
    const byImage = new Map(results.map((r) => [r.image, r]))
    // Only images that passed are pinned; an image allowed by warn mode keeps its tag (no verified digest).
    const ops = pinImagesPatch(images, (image) => {
      const r = byImage.get(image)
      return r?.allowed ? r.digest : undefined
    })
    const base = allow(warnings, results)
    if (ops.length === 0) return base
    return {
      ...base,
      body: admissionReviewResponse({
        ...base.body.response,
        patchType: 'JSONPatch',
        patch: toBase64(utf8(JSON.stringify(ops))),
      }),
    }
  }

  async function runChecks(
    distinct: readonly string[],
    namespace: string | undefined,
    outer: AbortSignal | undefined,
    budgetMs: number,
  ): Promise<Settled[]> {
    const controller = new AbortController()
    const onAbort = () => controller.abort(outer?.reason)
    outer?.addEventListener('abort', onAbort, { once: true })
    if (outer?.aborted) controller.abort(outer.reason)
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), budgetMs)
    })
    const aborted = new Promise<'aborted'>((resolve) => {
      if (controller.signal.aborted) resolve('aborted')
      controller.signal.addEventListener('abort', () => resolve('aborted'), { once: true })
    })
    // Each slot records its own outcome, so a timeout still reports the images that did finish.
    const done = new Map<string, Settled>()
    const context = { signal: controller.signal, ...(namespace !== undefined ? { namespace } : {}) }
    const all = mapLimit(distinct, concurrency, async (image) => {
      if (controller.signal.aborted) return
      let s: Settled
      try {
        s = { image, result: validResult(await check(image, context), image) }
      } catch (e) {
        s = { image, error: describeError(e) }
      }
      if (!controller.signal.aborted) done.set(image, s)
    })
    try {
      const winner = await Promise.race([all.then(() => 'done' as const), timedOut, aborted])
      if (winner !== 'done') {
        const why = winner === 'timeout' ? `timed out after ${budgetMs} ms` : 'the request was aborted'
        if (winner === 'timeout') controller.abort(new CountersignError('ERR_ABORTED', why))
        return distinct.map((image) => done.get(image) ?? { image, error: why })
      }
      return distinct.map((image) => done.get(image) ?? { image, error: 'the request was aborted' })
    } finally {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    }
  }
}

function terminatingWithSameImages(request: AdmissionRequest): boolean {
  const { object, oldObject } = request
  if (request.operation !== 'UPDATE' || object === undefined || oldObject === undefined) return false
  const metadata = object.metadata
  if (!isJSONObject(metadata) || !metadata.deletionTimestamp) return false
  try {
    const key = (o: Record<string, unknown>) =>
      JSON.stringify(workloadImages(request.kind, o).map((i) => [i.pointer, i.image]))
    return key(object) === key(oldObject)
  } catch {
    return false
  }
}

function reasonsOf(r: ImageCheckResult): string {
  // The line already names the image; reasons that start with it again (the policy evaluator's format) drop it.
  const prefix = `${r.image}: `
  const own = r.reasons.map((x) => (x.startsWith(prefix) ? x.slice(prefix.length) : x))
  const reasons = own.length > 0 ? own : ['denied by policy']
  return clip(reasons.join('; '), MAX_REASON_LENGTH * 2)
}

function warningList(warnings: readonly string[]): string[] {
  const out = [...new Set(warnings.map(sanitizeWarning).filter((w) => w !== ''))]
  return out.length > MAX_WARNINGS
    ? [...out.slice(0, MAX_WARNINGS - 1), `${out.length - MAX_WARNINGS + 1} more warning(s) omitted`]
    : out
}
