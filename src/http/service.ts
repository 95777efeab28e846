/**
 * HTTP for the Sigstore service clients (Fulcio, Rekor, TSA, OIDC, KMS): one request helper with the registry
 * transport's retries and timeouts, bounded response bodies, and errors that carry the status but never the
 * request: every secret the client knows (its {@link SecretSet}, which also learns the credentials each request
 * carries) is redacted from the service's reason before it is clipped into a message. Never exported from the
 * package.
 *
 * @module
 */
import { CountersignError, type ErrorCode } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import type { AbortSignalLike, FetchFunction } from '../internal/host-types.js'
import { readLimited } from './body.js'
import { clipReason, createSecretSet, redactError, rememberHeaderSecrets, type SecretSet } from './redact.js'
import { createTransport, type RetryOptions, safeURL } from './transport.js'

/** Options shared by every service client (`createFulcioClient`, `createRekorClient`, …). */
export interface ServiceClientOptions {
  /** The fetch to use (default `globalThis.fetch`); `countersign/node` has one with proxy and CA support. */
  readonly fetch?: FetchFunction
  /** Retry policy for 408/429/5xx and reset connections (default 3 retries). */
  readonly retry?: RetryOptions
  /** Time allowed for one attempt to produce response headers (default 30 s). */
  readonly timeoutMs?: number
  /** Sent as `User-Agent`. */
  readonly userAgent?: string
  /** Abortable sleep between retries (tests make it instant). */
  readonly sleep?: (ms: number, signal?: AbortSignalLike) => Promise<void>
  /**
   * The secrets to keep out of errors: the process's set (the CLI and the admission webhook pass theirs), which the
   * client adds the credentials it sends to. Default: a set of the client's own.
   */
  readonly secrets?: SecretSet
}

/** One request of a {@link ServiceHTTP}. */
export interface ServiceRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE'
  readonly url: string
  /** JSON body (serialised with JSON.stringify) or raw bytes with `contentType`. */
  readonly json?: unknown
  readonly body?: Uint8Array
  readonly contentType?: string
  readonly headers?: Readonly<Record<string, string>>
  /** Largest response body accepted (default 1 MiB). */
  readonly maxBytes?: number
  /** Statuses returned to the caller instead of thrown (2xx always are). */
  readonly acceptStatus?: readonly number[]
  /** Whether the request may be repeated on 5xx/429/reset (default true: the Sigstore writes are idempotent). */
  readonly retry?: boolean
  readonly signal?: AbortSignalLike
  /**
   * Secret values this request carries in its body (a client secret, a refresh token, an OIDC token), remembered
   * as short-lived secrets before it is sent. Credentials in `headers` are found without being listed here.
   */
  readonly secrets?: readonly (string | undefined)[]
}

/** A response with its body read (bounded). */
export interface ServiceResponse {
  readonly status: number
  readonly headers: Headers
  readonly body: Uint8Array
  /** The body parsed as JSON; throws the client's coded error when it is not JSON. */
  json(): unknown
  text(): string
}

/** Sends requests for one service; `secrets` is the set its errors are redacted with. */
export type ServiceHTTP = ((request: ServiceRequest) => Promise<ServiceResponse>) & { readonly secrets: SecretSet }

const DEFAULT_MAX_BYTES = 1024 * 1024
const DEFAULT_TIMEOUT_MS = 30_000
/** Characters of an error body kept in a message: enough for the service's reason, not a dump. */
const MAX_ERROR_TEXT = 300

/** The service's own reason from an error body: `{"message": …}` (Rekor, Fulcio gRPC gateway) or plain text. */
function errorReason(body: Uint8Array, secrets: SecretSet): string {
  let text: string
  try {
    text = fromUtf8(body)
  } catch {
    return ''
  }
  try {
    const doc = JSON.parse(text) as { message?: unknown; error?: unknown; error_description?: unknown }
    for (const v of [doc?.message, doc?.error_description, doc?.error]) {
      if (typeof v === 'string') return clipReason(v, secrets, MAX_ERROR_TEXT)
    }
  } catch {
    // Not JSON: keep the text.
  }
  return clipReason(text, secrets, MAX_ERROR_TEXT)
}

/**
 * Create the request function of one service. `name` ("Rekor", "Fulcio", …) and `code` name the service in
 * errors; HTTP failures become `code` with `details.status`, network failures ERR_NETWORK, aborts ERR_ABORTED.
 *
 * @example
 * ```ts
 * const http = createServiceHTTP('Rekor', 'ERR_REKOR_HTTP', options)
 * const res = await http({ method: 'POST', url: `${base}/api/v1/log/entries`, json: proposed, acceptStatus: [409] })
 * ```
 */
export function createServiceHTTP(name: string, code: ErrorCode, options: ServiceClientOptions = {}): ServiceHTTP {
  const secrets = options.secrets ?? createSecretSet()
  const fetchFn = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init))
  const transport = createTransport({
    fetch: fetchFn,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
    requestTimeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  })
  const send = async (request: ServiceRequest): Promise<ServiceResponse> => {
    const headers: Record<string, string> = { ...(request.headers ?? {}) }
    rememberHeaderSecrets(secrets, headers)
    if (request.secrets !== undefined) secrets.addTemporary(...request.secrets)
    if (options.userAgent !== undefined) headers['User-Agent'] = options.userAgent
    let body: Uint8Array | undefined
    if (request.json !== undefined) {
      body = utf8(JSON.stringify(request.json))
      headers['Content-Type'] = 'application/json'
    } else if (request.body !== undefined) {
      body = request.body
      if (request.contentType !== undefined) headers['Content-Type'] = request.contentType
    }
    if (headers.Accept === undefined && headers.accept === undefined) headers.Accept = 'application/json'
    // A URL path is ours, but a caller may have put a token in it (an ambient-credentials endpoint).
    const where = secrets.redact(`${request.method} ${safeURL(request.url)}`)
    let res: Response
    try {
      res = await transport(
        request.url,
        {
          method: request.method,
          headers,
          ...(body !== undefined ? { body: body as BodyInit } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        },
        { retry: request.retry ?? true },
      )
    } catch (cause) {
      throw mapFailure(cause, request.signal, name)
    }
    let bytes: Uint8Array
    try {
      bytes = await readLimited(res, request.maxBytes ?? DEFAULT_MAX_BYTES, `${name} response`)
    } catch (cause) {
      if (cause instanceof CountersignError && cause.code === 'ERR_OCI_SIZE_LIMIT') {
        throw new CountersignError(
          code,
          `${name}: ${where} answered with more than ${request.maxBytes ?? DEFAULT_MAX_BYTES} bytes`,
          {
            details: { status: res.status, reason: 'size-limit' },
          },
        )
      }
      throw mapFailure(cause, request.signal, name)
    }
    const ok = (res.status >= 200 && res.status < 300) || (request.acceptStatus ?? []).includes(res.status)
    if (!ok) {
      const reason = errorReason(bytes, secrets)
      throw new CountersignError(
        code,
        `${name}: ${where} failed with HTTP ${res.status}${reason ? `: ${reason}` : ''}`,
        {
          details: { status: res.status, retryable: res.status === 429 || res.status >= 500 },
        },
      )
    }
    return {
      status: res.status,
      headers: res.headers,
      body: bytes,
      json() {
        try {
          return JSON.parse(fromUtf8(bytes, `${name} response`))
        } catch (cause) {
          // The parser's message quotes the start of the body, which may echo the request.
          throw new CountersignError(code, `${name}: ${where} answered with invalid JSON`, {
            cause: redactError(cause, secrets),
            details: { status: res.status, reason: 'invalid-json' },
          })
        }
      },
      text() {
        return fromUtf8(bytes, `${name} response`)
      },
    }
  }
  return Object.assign(send, { secrets })
}

function mapFailure(cause: unknown, signal: AbortSignalLike | undefined, name: string): unknown {
  if (cause instanceof CountersignError) return cause
  if (signal?.aborted) return new CountersignError('ERR_ABORTED', `${name} request aborted`, { cause })
  return new CountersignError('ERR_NETWORK', `${name} request failed`, { cause })
}
