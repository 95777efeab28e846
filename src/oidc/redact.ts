/**
 * Keep credentials out of errors: a service that echoes a request (a token in a 400 message, a bearer value in a
 * proxy's error page) must not turn it into an error message or log line. Internal to the OIDC and Fulcio modules.
 *
 * @module
 */
import { CountersignError } from '../errors.js'

/** Pieces of a secret worth hiding: the whole value and each JWT segment long enough to identify it. */
function fragments(secrets: readonly (string | undefined)[]): string[] {
  const out = new Set<string>()
  for (const s of secrets) {
    if (s === undefined || s.length < 8) continue
    out.add(s)
    for (const part of s.split('.')) if (part.length >= 16) out.add(part)
  }
  // Longest first, so a whole token is replaced before its segments.
  return [...out].sort((a, b) => b.length - a.length)
}

/** `text` with every occurrence of a secret (or a JWT segment of one) replaced by `[redacted]`. */
export function redactText(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text
  for (const f of fragments(secrets)) out = out.split(f).join('[redacted]')
  return out
}

/**
 * `error` unchanged when it mentions no secret; otherwise a copy of the CountersignError (same code and details)
 * with the secret replaced and the cause dropped (it may hold the same text). Non-CountersignErrors pass through.
 */
export function redactError(error: unknown, secrets: readonly (string | undefined)[]): unknown {
  if (!(error instanceof CountersignError)) return error
  const message = redactText(error.message, secrets)
  let causeText = ''
  try {
    causeText = String((error.cause as { message?: unknown } | undefined)?.message ?? '')
  } catch {
    causeText = ''
  }
  const causeLeaks = redactText(causeText, secrets) !== causeText
  if (message === error.message && !causeLeaks) return error
  return new CountersignError(error.code, message, error.details ? { details: error.details } : undefined)
}
