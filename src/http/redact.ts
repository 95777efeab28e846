/**
 * The one redaction of secrets in what is built from a server's answer: text (redacted before it is clipped, so no
 * prefix of a secret survives), structured values (`details`), errors with their cause chain, and the credentials a
 * request's headers carry, learned into the client's {@link SecretSet} (`secret-set.ts`). Every client that turns an
 * answer into an error uses it: the registry client and its token flows, Fulcio, Rekor, the TSA, the OIDC endpoints,
 * every KMS provider (through the service helper, `service.ts`); the CLI and the admission webhook redact their
 * output with the process's set. Internal: the package exports none of these names; the `secrets` option of its
 * clients takes any object of the {@link SecretSet} shape.
 *
 * @module
 */
import { REDACTED, type SecretSet } from './secret-set.js'

export { createSecretSet, REDACTED, REDACTION_WINDOW, type SecretSet } from './secret-set.js'

/** Authorization schemes whose parameter is a reusable credential (a signature, as in AWS SigV4, is not). */
const CREDENTIAL_SCHEME = /^(?:bearer|basic|token|dpop)\s+(\S+)\s*$/i
/** Headers whose whole value is a credential. */
const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'x-vault-token',
  'x-amz-security-token',
  'x-identity-header',
  'x-api-key',
  'cookie',
])

/**
 * Remember the credentials a request's headers carry: the parameter of an `Authorization`/`Proxy-Authorization`
 * header with a Bearer, Basic or token scheme (and, for Basic, the decoded `user:password` and its password), and
 * the values of token headers (`X-Vault-Token`, `X-Amz-Security-Token`, …). They are kept as short-lived secrets.
 *
 * @example
 * ```ts
 * rememberHeaderSecrets(secrets, { Authorization: `Bearer ${token}` })
 * ```
 */
export function rememberHeaderSecrets(secrets: SecretSet, headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase()
    if (SECRET_HEADERS.has(lower)) {
      secrets.addTemporary(value)
      continue
    }
    if (lower !== 'authorization' && lower !== 'proxy-authorization') continue
    const credential = CREDENTIAL_SCHEME.exec(value)?.[1]
    if (credential === undefined) continue
    secrets.addTemporary(credential)
    if (/^basic\s/i.test(value)) {
      try {
        const pair = new TextDecoder('utf-8', { fatal: true }).decode(
          Uint8Array.from(atob(credential), (c) => c.charCodeAt(0)),
        )
        secrets.addTemporary(pair, pair.slice(pair.indexOf(':') + 1))
      } catch {
        // Not base64 of UTF-8: the encoded value itself is remembered above.
      }
    }
  }
}

/**
 * Text from a server made fit for a message: secrets redacted first (so clipping cannot leave a prefix of one), then
 * runs of control characters (which would garble terminals and logs) replaced by a space, then (unless `trim` is
 * false) surrounding space trimmed, and at most `max` characters kept (`…` marks a cut).
 *
 * @example
 * ```ts
 * const reason = clipReason(serverText, secrets, 300)
 * ```
 */
export function clipReason(
  text: string,
  secrets: Pick<SecretSet, 'redact'>,
  max: number,
  options: { readonly trim?: boolean } = {},
): string {
  let clean = secrets.redact(text).replace(/[\u0000-\u001f\u007f]+/g, ' ')
  if (options.trim !== false) clean = clean.trim()
  return clean.length > max ? `${clean.slice(0, max)}…` : clean
}

const MAX_DEPTH = 16

/** defineProperty keeps a "__proto__" key an ordinary property. */
function defineEntry(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * `value` with every string in it (and every object key) redacted: strings, arrays and plain objects are copied
 * when something changed, errors go through {@link redactError}, other values are kept. The same value comes back
 * when nothing changed. Below 16 levels, a nested value that still mentions a secret is replaced whole.
 *
 * @example
 * ```ts
 * const details = redactValue(error.details, secrets)
 * ```
 */
export function redactValue<T>(value: T, secrets: Pick<SecretSet, 'redact'>, depth = 0): T {
  if (typeof value === 'string') return secrets.redact(value) as T
  if (typeof value !== 'object' || value === null) return value
  if (value instanceof Error) return redactError(value, secrets, depth) as T
  if (depth >= MAX_DEPTH) {
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch {
      return value
    }
    return json !== undefined && secrets.redact(json) !== json ? (REDACTED as T) : value
  }
  if (Array.isArray(value)) {
    const copy = value.map((v) => redactValue(v, secrets, depth + 1))
    return (copy.some((v, i) => v !== value[i]) ? copy : value) as T
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return value
  // The copy is made only at the first change (most values hold no secret: the webhook redacts every verdict).
  let copy: Record<string, unknown> | undefined
  const entries = Object.entries(value)
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i]!
    const key = secrets.redact(k)
    const redacted = redactValue(v, secrets, depth + 1)
    if (copy === undefined && (key !== k || redacted !== v)) {
      copy = {}
      for (let j = 0; j < i; j++) defineEntry(copy, entries[j]![0], entries[j]![1])
    }
    if (copy !== undefined) defineEntry(copy, key, redacted)
  }
  return (copy ?? value) as T
}

/**
 * `error` with secret text replaced in its message, its `details` and its cause chain. An error that mentions no
 * secret comes back as it is; otherwise a copy: a CountersignError keeps its class and code, another error its
 * `name` and `code` (its stack, which repeats the message, is not kept). Non-errors pass through.
 *
 * @example
 * ```ts
 * try { return await call() } catch (error) { throw redactError(error, secrets) }
 * ```
 */
export function redactError(error: unknown, secrets: Pick<SecretSet, 'redact'>, depth = 0): unknown {
  if (!(error instanceof Error)) return typeof error === 'string' ? secrets.redact(error) : error
  if (depth >= MAX_DEPTH) return error
  const message = secrets.redact(error.message)
  const hasCause = 'cause' in error
  const cause = hasCause ? redactError(error.cause, secrets, depth + 1) : undefined
  const stack = typeof error.stack === 'string' ? error.stack : ''
  const stackLeaks = secrets.redact(stack) !== stack
  const code = (error as { code?: unknown }).code
  if (isCountersignErrorLike(error)) {
    const details = error.details === undefined ? undefined : redactValue(error.details, secrets, depth + 1)
    if (message === error.message && cause === error.cause && details === error.details && !stackLeaks) return error
    const Ctor = error.constructor as new (
      code: unknown,
      message: string,
      options?: { cause?: unknown; details?: unknown },
    ) => Error
    return new Ctor(code, message, {
      ...(hasCause ? { cause } : {}),
      ...(details !== undefined ? { details } : {}),
    })
  }
  if (message === error.message && cause === error.cause && !stackLeaks) return error
  const copy = new Error(message, hasCause ? { cause } : undefined)
  copy.name = error.name
  if (typeof code === 'string' || typeof code === 'number') {
    Object.defineProperty(copy, 'code', { value: code, enumerable: true, writable: true, configurable: true })
  }
  return copy
}

/**
 * `fn` with every error it throws (or rejects with) passed through {@link redactError}: the last line of defence of
 * a client's public methods, for text that quotes an answer somewhere the message builders did not redact.
 *
 * @example
 * ```ts
 * return Object.freeze({ getLogInfo: redactingErrors(getLogInfo, http.secrets) })
 * ```
 */
export function redactingErrors<A extends unknown[], R>(
  fn: (...args: A) => Promise<R>,
  secrets: Pick<SecretSet, 'redact'>,
): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await fn(...args)
    } catch (error) {
      throw redactError(error, secrets)
    }
  }
}

/** A CountersignError of this or another copy of the package (its constructor takes code, message, options). */
function isCountersignErrorLike(e: Error): e is Error & { details?: Readonly<Record<string, unknown>> } {
  return e.name === 'CountersignError' && typeof (e as { code?: unknown }).code === 'string'
}
