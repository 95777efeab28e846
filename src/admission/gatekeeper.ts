/**
 * OPA Gatekeeper's external-data provider protocol, answered with the same {@link ImageCheck} the admission webhook
 * uses: Gatekeeper sends image references as `request.keys` (from a ConstraintTemplate's `external_data` call, or an
 * `Assign` mutation with `externalData`), and gets one item per key back. Fails closed the way Gatekeeper needs it:
 * a definitive policy denial is a per-key `error` (which Gatekeeper caches for its response-cache TTL), while
 * anything transient (a check that throws, the deadline, an abort) or a request out of bounds is a `systemError`
 * with no items, which Gatekeeper never caches and a template must treat as a denial.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { boundedJoin, clipText } from '../internal/bounded-text.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { runChecks, type Settled } from './checks.js'
import {
  type GatekeeperItem,
  type GatekeeperProviderResponse,
  gatekeeperSystemError,
  parseProviderRequest,
  providerResponse,
} from './gatekeeper-protocol.js'
import type { AdmissionDecision } from './handler.js'
import { describeError, reasonsOf, warningList } from './messages.js'
import { pinnedReference } from './patch.js'
import type { ImageCheck, ImageCheckResult } from './types.js'

/**
 * Which provider endpoint a request arrived on: `validate` answers each key with a verdict object, `mutate` with the
 * reference pinned to the verified digest (for an `Assign` mutation's `externalData`).
 *
 * Exported from `countersign/admission`.
 */
export type GatekeeperEndpoint = 'validate' | 'mutate'

/**
 * Options for {@link createGatekeeperHandler}.
 *
 * Exported from `countersign/admission`.
 */
export interface GatekeeperHandlerOptions {
  /** Decides about one image (normally the policy evaluator's `createPolicyImageCheck`). */
  readonly check: ImageCheck
  /**
   * Budget for all checks of one request, in milliseconds (default 1500). Keep it below the Provider's
   * `spec.timeout` (whole seconds; our example uses 2), so Gatekeeper reads our `systemError` rather than a
   * transport timeout. Past it the request is answered with `systemError` and no items.
   */
  readonly timeoutMs?: number
  /** Image checks in flight per request (default 8). */
  readonly concurrency?: number
  /**
   * Distinct keys one request may hold (default 256); more is a `systemError`. Keys in all, duplicates included,
   * are limited to the larger of 1024 and this.
   */
  readonly maxImages?: number
  /** Largest request body, in bytes (default 4 MiB, the admission server's body limit). */
  readonly maxBodyBytes?: number
}

/**
 * Per-call options of a {@link GatekeeperHandler}.
 *
 * Exported from `countersign/admission`.
 */
export interface GatekeeperCallOptions {
  /** Default `validate`. */
  readonly endpoint?: GatekeeperEndpoint
  /** Aborting it (client went away, server shutting down) answers `systemError` and aborts the checks. */
  readonly signal?: AbortSignalLike
  /** A tighter budget for this request than `options.timeoutMs`; the smaller applies. */
  readonly timeoutMs?: number
}

/**
 * What a {@link GatekeeperHandler} answers: the body to send (always with HTTP 200: Gatekeeper reads the body
 * whatever the status) and, for metrics and logs, what happened.
 *
 * Exported from `countersign/admission`.
 */
export interface GatekeeperOutcome {
  readonly status: 200
  readonly body: GatekeeperProviderResponse
  /**
   * `allowed`: every key verified; `denied`: some key answered with an error; `error`: a check threw, timed out or
   * was aborted (`systemError`); `invalid`: the request was malformed or over a limit (`systemError`).
   */
  readonly decision: AdmissionDecision
  /** Distinct keys in the request (0 when it could not be read). */
  readonly keys: number
  /** The verdicts of the checks that completed, one per distinct key checked. */
  readonly results: readonly ImageCheckResult[]
  /** Keys answered with an error, in request order. */
  readonly deniedKeys: readonly string[]
  /** The `systemError`, when there is one. */
  readonly message?: string
}

/**
 * Answer one ProviderRequest. `body` is the request body as bytes or text. Never rejects.
 *
 * Exported from `countersign/admission`.
 */
export type GatekeeperHandler = (
  body: Uint8Array | string,
  options?: GatekeeperCallOptions,
) => Promise<GatekeeperOutcome>

const DEFAULT_TIMEOUT_MS = 1500
const DEFAULT_CONCURRENCY = 8
const DEFAULT_MAX_IMAGES = 256
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024
/** Keys in all (duplicates included) are limited to the larger of this and `maxImages`, as image fields are. */
const MAX_KEY_ENTRIES = 1024
/** A systemError is shown to the user in the template's message; a few images with their reasons fit. */
const MAX_SYSTEM_ERROR_LENGTH = 2048
const MAX_ERRORS_LISTED = 4

/** A request answered with `systemError` only. */
function failed(decision: 'error' | 'invalid', message: string, keys = 0, results: readonly ImageCheckResult[] = []) {
  const clipped = clipText(message, MAX_SYSTEM_ERROR_LENGTH)
  return {
    status: 200 as const,
    body: gatekeeperSystemError(clipped),
    decision,
    keys,
    results,
    deniedKeys: [],
    message: clipped,
  }
}

/**
 * `key` pinned as /mutate pins it: the check's own pin when it names one (it must carry the verified digest), else
 * {@link pinnedReference}. Throws for a malformed digest or a pin to another digest.
 */
function pinned(key: string, r: ImageCheckResult & { digest: string }): string {
  if (typeof r.pin !== 'string') return pinnedReference(key, r.digest)
  if (!r.pin.endsWith(`@${r.digest}`))
    throw new CountersignError('ERR_INVALID_INPUT', 'the image check pinned another digest than it verified')
  return r.pin
}

/** The item for a key whose check completed. Throws only for a malformed digest or pin from the check. */
function itemFor(key: string, r: ImageCheckResult, endpoint: GatekeeperEndpoint): GatekeeperItem {
  // reasonsOf words the reasons as /validate's denial lines do (bounded, the image prefix dropped).
  if (!r.allowed) return { key, error: reasonsOf(r) }
  const digest = r.digest
  if (endpoint === 'mutate') {
    // Allowed without a verified digest (no policy matched under a permissive no-match policy), or with the policies
    // asking for no pinning (`pin: null`): left as written, as /mutate leaves it. Already pinned: itself, so
    // Gatekeeper's mutation converges.
    return { key, value: digest === undefined || r.pin === null ? key : pinned(key, { ...r, digest }) }
  }
  const warnings = warningList(r.warnings)
  return {
    key,
    value: {
      verified: true,
      ...(digest !== undefined ? { digest, reference: pinned(key, { ...r, digest }) } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    },
  }
}

/**
 * Create the handler of Gatekeeper's external-data provider protocol (`externaldata.gatekeeper.sh/v1beta1`). Pure
 * (no I/O but the check), so it runs in any server; `startAdmissionServer` in `countersign/node` serves it at
 * `POST /gatekeeper/validate` and `/gatekeeper/mutate`.
 *
 * Each distinct key is checked once (at most `concurrency` at a time, all within `timeoutMs`) and answered with an
 * item echoing the key exactly as sent:
 * - on `validate`, an admitted image gets `value: {verified: true, digest, reference, warnings?}`;
 * - on `mutate`, an admitted image gets `value: "<repository>@sha256:…"` (an image already given by digest gets
 *   itself);
 * - a denied image gets `error` with its reasons, worded as the admission webhook's denial lists them;
 * - an empty key gets `error`, without a check.
 *
 * `idempotent` is always true. A malformed request, too many or over-long keys, a check that throws, the deadline or
 * an abort is answered with `systemError` and no items, so Gatekeeper caches nothing.
 *
 * @example
 * ```ts
 * import { createGatekeeperHandler } from 'countersign/admission'
 * const handle = createGatekeeperHandler({ check: myImageCheck, timeoutMs: 1500 })
 * const { body } = await handle(requestBytes, { endpoint: 'validate' })
 * // body.response.items: [{ key: 'ghcr.io/acme/app:v1', value: { verified: true, digest: 'sha256:…', … } }]
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function createGatekeeperHandler(options: GatekeeperHandlerOptions): GatekeeperHandler {
  const { check } = options
  if (typeof check !== 'function') throw new TypeError('"check" must be a function')
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const maxImages = options.maxImages ?? DEFAULT_MAX_IMAGES
  const limits = {
    maxBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxKeys: Math.max(MAX_KEY_ENTRIES, maxImages),
  }

  return async (body, call) => {
    let keys: string[]
    try {
      keys = parseProviderRequest(body, limits)
    } catch (e) {
      return failed('invalid', describeError(e))
    }
    const distinct = [...new Set(keys)]
    if (distinct.length > maxImages)
      return failed('invalid', `${distinct.length} distinct keys exceed the limit of ${maxImages}`, distinct.length)
    const endpoint = call?.endpoint ?? 'validate'
    try {
      // An empty key names no image: a definitive answer, no check needed (the webhook refuses such a field too).
      const checked = distinct.filter((k) => k.trim() !== '')
      const budget = Math.min(timeoutMs, call?.timeoutMs ?? Number.POSITIVE_INFINITY)
      const settled = checked.length
        ? await runChecks(checked, {
            check,
            concurrency,
            budgetMs: Math.max(1, budget),
            // Its signal is read only when the run needs it: the webhook's is made on demand.
            ...(call !== undefined ? { caller: call } : {}),
          })
        : []
      const results = settled.flatMap((s) => ('result' in s ? [s.result] : []))
      const errored = settled.filter((s): s is Extract<Settled, { error: string }> => 'error' in s)
      if (errored.length > 0) {
        const list = boundedJoin(
          errored.map((s) => `${JSON.stringify(clipText(s.image, 256))}: ${s.error}`),
          '; ',
          { maxItems: MAX_ERRORS_LISTED },
        )
        return failed(
          'error',
          `could not verify ${errored.length} of ${distinct.length} image(s): ${list}`,
          distinct.length,
          results,
        )
      }
      const byKey = new Map(results.map((r) => [r.image, r]))
      const items = distinct.map((key) => {
        const r = byKey.get(key)
        return r === undefined ? { key, error: 'not an image reference: the key is empty' } : itemFor(key, r, endpoint)
      })
      const deniedKeys = items.filter((i) => i.error !== undefined).map((i) => i.key)
      return {
        status: 200,
        body: providerResponse(items),
        decision: deniedKeys.length > 0 ? 'denied' : 'allowed',
        keys: distinct.length,
        results,
        deniedKeys,
      }
    } catch (e) {
      // Anything unforeseen (a check answering with a malformed digest): no answer rather than a wrong one.
      return failed('error', `could not answer the request: ${describeError(e)}`, distinct.length)
    }
  }
}
