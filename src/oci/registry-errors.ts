/**
 * Map registry HTTP responses to CountersignError, parsing distribution-spec error bodies. A registry may echo the
 * request (its `Authorization` header, a token) in an error body, so every text taken from one is redacted against
 * the client's secrets before it is clipped.
 *
 * @module
 */
import { CountersignError, type ErrorCode } from '../errors.js'
import { discardBody, readLimited } from '../http/body.js'
import { clipReason, redactValue, type SecretSet } from '../http/redact.js'
import { parseRetryAfter } from '../http/transport.js'
import type { ResponseLike } from '../internal/host-types.js'

/**
 * One entry of a distribution-spec error body (`{"errors":[{code,message,detail}]}`).
 *
 * @example
 * ```ts
 * const entries: RegistryErrorEntry[] = parseRegistryErrors(body)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RegistryErrorEntry {
  readonly code: string
  readonly message: string
  readonly detail?: unknown
}

/** Error bodies are read up to this many bytes; the rest is discarded. */
const MAX_ERROR_BODY_BYTES = 64 * 1024
const MAX_ERRORS = 20
/** The longest `Retry-After` recorded in an error (the transport's default cap). */
const MAX_RETRY_AFTER_MS = 60_000
const MAX_TEXT = 500

/** Nothing to redact: for callers that know no secrets. */
const NO_SECRETS: Pick<SecretSet, 'redact'> = { redact: (text) => text }

function clip(s: string, secrets: Pick<SecretSet, 'redact'>): string {
  return clipReason(s, secrets, MAX_TEXT, { trim: false })
}

/**
 * Parse a distribution-spec error body. Tolerant: anything that is not the expected JSON yields `[]`. With
 * `secrets`, codes, messages and details have every secret redacted (before messages are clipped).
 *
 * @example
 * ```ts
 * import { parseRegistryErrors } from 'countersign/oci'
 * parseRegistryErrors(new TextEncoder().encode('{"errors":[{"code":"DENIED","message":"no"}]}'))
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function parseRegistryErrors(
  body: Uint8Array,
  secrets: Pick<SecretSet, 'redact'> = NO_SECRETS,
): RegistryErrorEntry[] {
  let doc: unknown
  try {
    doc = JSON.parse(new TextDecoder().decode(body))
  } catch {
    return []
  }
  if (typeof doc !== 'object' || doc === null) return []
  const errors = (doc as { errors?: unknown }).errors
  if (!Array.isArray(errors)) return []
  const out: RegistryErrorEntry[] = []
  for (const e of errors.slice(0, MAX_ERRORS)) {
    if (typeof e !== 'object' || e === null) continue
    const { code, message, detail } = e as { code?: unknown; message?: unknown; detail?: unknown }
    out.push({
      code: typeof code === 'string' ? clip(code, secrets) : 'UNKNOWN',
      message: typeof message === 'string' ? clip(message, secrets) : '',
      ...(detail !== undefined ? { detail: redactValue(detail, secrets) } : {}),
    })
  }
  return out
}

/**
 * Context for {@link registryError}.
 *
 * @example
 * ```ts
 * throw await registryError(res, { what: 'GET manifest ghcr.io/org/app:v1' })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RegistryErrorContext {
  /** What was being done, e.g. `GET manifest ghcr.io/org/app:v1`; must not contain credentials. */
  readonly what: string
  /**
   * The secrets to redact from what the registry answered (the registry client passes its own: the credentials
   * and tokens it has used). Anything with a `redact(text)` method will do.
   */
  readonly secrets?: Pick<SecretSet, 'redact'>
}

function codeForStatus(status: number): ErrorCode {
  if (status === 404) return 'ERR_OCI_NOT_FOUND'
  if (status === 401 || status === 403) return 'ERR_OCI_UNAUTHORIZED'
  return 'ERR_OCI_HTTP'
}

/**
 * Turn a failed registry response into a CountersignError: 404 → ERR_OCI_NOT_FOUND, 401/403 →
 * ERR_OCI_UNAUTHORIZED, anything else → ERR_OCI_HTTP. `details` carries `status`, `registryErrors` (parsed from
 * a bounded read of the body), `temporary` (429, 5xx, or an `UNAVAILABLE`/`TOOMANYREQUESTS` code) and, when the
 * answer had a `Retry-After` header, `retryAfterMs` (what it asks to wait, at most 60 s; normally the transport has
 * waited it already, but a write sent with `retry: false` leaves the waiting to its caller).
 *
 * @example
 * ```ts
 * import { registryError } from 'countersign/oci'
 * if (!res.ok) throw await registryError(res, { what: 'GET manifest' })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export async function registryError(res: ResponseLike, context: RegistryErrorContext): Promise<CountersignError> {
  let registryErrors: RegistryErrorEntry[] = []
  try {
    registryErrors = parseRegistryErrors(await readLimited(res, MAX_ERROR_BODY_BYTES), context.secrets ?? NO_SECRETS)
  } catch {
    await discardBody(res)
  }
  const err = registryErrorFromParts(res.status, registryErrors, context)
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), Date.now(), MAX_RETRY_AFTER_MS)
  if (retryAfterMs === undefined) return err
  return new CountersignError(err.code, err.message, { details: { ...err.details, retryAfterMs } })
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: ': unauthorized (authentication required or credentials rejected)',
  403: ': denied (the credentials lack access)',
  404: ': not found',
  429: ': too many requests',
}

/**
 * Build the error for a status and already-parsed registry errors (used for HEAD responses, which have no body).
 *
 * @example
 * ```ts
 * import { registryErrorFromParts } from 'countersign/oci'
 * throw registryErrorFromParts(404, [], { what: 'HEAD manifest' })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function registryErrorFromParts(
  status: number,
  registryErrors: readonly RegistryErrorEntry[],
  context: RegistryErrorContext,
): CountersignError {
  const secrets = context.secrets
  // Entries parsed without the secrets (or built by a caller) are redacted here; redacting twice changes nothing.
  const entries = secrets === undefined ? registryErrors : redactValue(registryErrors, secrets)
  const temporary =
    status === 429 ||
    (status >= 500 && status <= 599) ||
    entries.some((e) => e.code === 'UNAVAILABLE' || e.code === 'TOOMANYREQUESTS')
  const first = entries[0]
  // HEAD responses carry no body; name the status so "401" alone is not all a user sees.
  const summary = first ? `: ${first.code}${first.message ? `: ${first.message}` : ''}` : (STATUS_TEXT[status] ?? '')
  const what = secrets === undefined ? context.what : secrets.redact(context.what)
  return new CountersignError(codeForStatus(status), `${what} failed with HTTP ${status}${summary}`, {
    details: { status, registryErrors: entries, temporary },
  })
}
