/**
 * The texts an admission answer carries, bounded for where they end up: denial messages (shown by kubectl, stored in
 * events), per-image reasons, and warnings (HTTP `Warning` headers, truncated and dropped by the API server).
 *
 * @module
 */
import { isCountersignError } from '../errors.js'
import { boundedJoin, clipText } from '../internal/bounded-text.js'
import type { ImageCheckResult } from './types.js'

/** The API server truncates long warnings (over 256 characters) and drops many; keep within that. */
const MAX_WARNING_LENGTH = 256
const MAX_WARNINGS = 32
/**
 * Longest denial message: it is shown by kubectl and stored in events.
 *
 * @example
 * ```ts
 * const message = clip(`countersign: admission denied: …`, MAX_MESSAGE_LENGTH)
 * ```
 */
export const MAX_MESSAGE_LENGTH = 8192
const MAX_REASON_LENGTH = 512

/**
 * `s`, cut to `max` characters with an ellipsis when longer.
 *
 * @example
 * ```ts
 * clip('abcdef', 4) // 'abc…'
 * ```
 */
export function clip(s: string, max: number): string {
  return clipText(s, max)
}

/** Warnings travel as HTTP `Warning` headers: one line, printable. */
function sanitizeWarning(w: string): string {
  return clip(w.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim(), MAX_WARNING_LENGTH)
}

/**
 * Why something failed, as far as it may be told to the client.
 *
 * @example
 * ```ts
 * describeError(new CountersignError('ERR_NETWORK', 'registry unreachable')) // 'registry unreachable'
 * ```
 */
export function describeError(e: unknown): string {
  // Our errors carry curated messages without secrets; anything else may carry whatever, so it is not echoed.
  if (isCountersignError(e)) return clip(e.message, MAX_REASON_LENGTH)
  return 'internal error in the image check'
}

/**
 * The reasons of a failing image, joined on one line.
 *
 * @example
 * ```ts
 * reasonsOf({ image: 'app:1', allowed: false, reasons: ['app:1: no signature'], warnings: [] }) // 'no signature'
 * ```
 */
export function reasonsOf(r: ImageCheckResult): string {
  // The line already names the image; reasons that start with it again (the policy evaluator's format) drop it.
  const prefix = `${r.image}: `
  const own = r.reasons.map((x) => (x.startsWith(prefix) ? x.slice(prefix.length) : x))
  const reasons = own.length > 0 ? own : ['denied by policy']
  // A check may return thousands of reasons: the first are listed, then a count; the line stays within 1 KiB.
  return clip(boundedJoin(reasons, '; ', { maxItemLength: MAX_REASON_LENGTH * 2 }), MAX_REASON_LENGTH * 2)
}

/**
 * Warnings made fit for `Warning` headers: one line each, no repeats, at most 32.
 *
 * @example
 * ```ts
 * warningList(['a', 'a', 'b\nc']) // ['a', 'b c']
 * ```
 */
export function warningList(warnings: readonly string[]): string[] {
  const out = [...new Set(warnings.map(sanitizeWarning).filter((w) => w !== ''))]
  return out.length > MAX_WARNINGS
    ? [...out.slice(0, MAX_WARNINGS - 1), `${out.length - MAX_WARNINGS + 1} more warning(s) omitted`]
    : out
}
