/**
 * The admission decision for one AdmissionReview: find the images, ask the {@link ImageCheck} about each, and answer
 * allow, deny (listing every failing image and why) or, on the mutating endpoint, allow with a patch pinning tags to
 * digests. Fails closed: a malformed review, a throwing or slow check, or anything unexpected is a denial. This file
 * holds the public types and the handler: decoding the body and guarding the decision (see decision.ts).
 *
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { type Decided, type DecisionSettings, decideRequest } from './decision.js'
import { describeError } from './messages.js'
import {
  type AdmissionRequest,
  type AdmissionReviewResponse,
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
  /**
   * Distinct images one review may hold (default 256); more is denied rather than verified. Image fields (the same
   * image in several containers counts once per container) are limited to the larger of 1024 and this.
   */
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
  readonly signal?: AbortSignalLike
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

// One decoder for every review: a fatal decoder keeps no state between whole (non-streaming) decodes, and creating
// one per review was a measurable share of a cached review's time.
const UTF8 = new TextDecoder('utf-8', { fatal: true })

function decodeBody(review: unknown): unknown {
  if (review instanceof Uint8Array) {
    let text: string
    try {
      text = UTF8.decode(review)
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

/**
 * The outcome with the request's identity (uid, kind, namespace) in front.
 *
 * Built from a literal that begins with a property, not with a spread: on Node 20 (V8 11.3) a literal that begins
 * with a spread and then adds properties (`{ ...base, ...decided }`) gets a hidden class of its own every time once
 * optimised. Hidden classes live in old space and kept each review's objects reachable until a full collection
 * (`--log-maps`: ~20 new maps per review; `--trace-gc-nvp`: ~0.6 MB promoted per scavenge). See docs/admission.md.
 */
function withIdentity(request: AdmissionRequest, decided: Decided): AdmissionOutcome {
  return {
    uid: request.uid,
    kind: request.kind,
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    ...decided,
  }
}

/** The answer to a review that could not be parsed (400, with the uid when one could be read). */
function invalidReview(decoded: unknown, e: unknown): AdmissionOutcome {
  // Reading a review throws only our errors; anything else (a RangeError from a recursion that should not be there)
  // still says what failed rather than blaming the image check.
  const message = isCountersignError(e) ? describeError(e) : 'malformed AdmissionReview: it could not be read'
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
  const settings: DecisionSettings = {
    check,
    mode: options.mode ?? 'enforce',
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    maxImages: options.maxImages ?? DEFAULT_MAX_IMAGES,
  }

  return async (review, call) => {
    let request: AdmissionRequest
    let decoded: unknown
    try {
      decoded = decodeBody(review)
      request = parseAdmissionReview(decoded)
    } catch (e) {
      return invalidReview(decoded, e)
    }
    try {
      return withIdentity(request, await decideRequest(request, call, settings))
    } catch (e) {
      // Anything unforeseen: deny, never allow.
      const message = `countersign: admission denied: ${describeError(e)}`
      const body = denyResponse(request.uid, message)
      return withIdentity(request, { status: 200, body, decision: 'error', results: [], message })
    }
  }
}
