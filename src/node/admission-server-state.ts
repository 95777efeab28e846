/**
 * What the parts of the admission webhook server share while it runs: the current handlers (replaced on each policy
 * reload), readiness and shutdown flags, the reviews in flight, metrics and the log.
 *
 * @module
 */
import type { GatekeeperHandler } from '../admission/gatekeeper.js'
import type { AdmissionHandler } from '../admission/handler.js'
import type { AdmissionMetrics } from '../admission/metrics.js'
import { isCountersignError } from '../errors.js'
import { clipText } from '../internal/bounded-text.js'

/**
 * The mutable state of one running webhook.
 *
 * @example
 * ```ts
 * const state: WebhookState = { handler, ready: false, closing: false, inFlight: new Set(), metrics, log: () => {} }
 * ```
 */
export interface WebhookState {
  /** Decides reviews; replaced when the policies change. */
  handler: AdmissionHandler
  /**
   * Answers Gatekeeper provider requests with the same check; undefined until policies first load (requests are
   * then answered with a `systemError`), replaced with `handler`.
   */
  gatekeeper?: GatekeeperHandler
  /**
   * Set when Gatekeeper's client CA is configured: `/gatekeeper/*` then requires a client certificate that verified
   * against it and, when `names` is not empty, carries one of them as a DNS SAN.
   */
  readonly gatekeeperClient?: { readonly names: readonly string[] }
  /**
   * True once policies are loaded and until shutdown begins. Newer policy files that fail to load leave it true: the
   * last good policies keep deciding (the failure shows in the log and `countersign_admission_policy_load_failing`).
   */
  ready: boolean
  closing: boolean
  /** One controller per review being decided, aborted when the shutdown grace period runs out. */
  readonly inFlight: Set<{ abort(): void }>
  readonly metrics: AdmissionMetrics
  readonly log: (entry: Readonly<Record<string, unknown>>) => void
}

/** Longest message of ours in a log line (their lists are bounded; this bounds whatever else a loader throws). */
const MAX_LOGGED_MESSAGE = 16 * 1024

/**
 * A message for logs: ours as is up to 16 KiB, others' cut short, never a stack.
 *
 * @example
 * ```ts
 * log({ msg: 'request failed', error: errorMessage(e) })
 * ```
 */
export function errorMessage(e: unknown): string {
  if (isCountersignError(e)) return clipText(e.message, MAX_LOGGED_MESSAGE)
  return e instanceof Error ? e.message.slice(0, 300) : 'unknown error'
}
