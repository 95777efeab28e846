/**
 * HTTP for the cloud KMS providers that authenticate with OAuth bearer tokens (Google Cloud KMS, Azure Key Vault)
 * and their token endpoints: the shared service helper, a bearer token that is refreshed once when the service
 * answers 401, and error bodies (`{"error":{"message":…}}` or OAuth's `{"error":…,"error_description":…}`) turned
 * into ERR_KMS with `details.provider` and `details.status`. Tokens never reach messages: the service's reason is
 * redacted against the client's secret set (which learns the bearer token and the request's listed secrets) before
 * it is clipped. Internal.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { clipReason, type SecretSet } from '../http/redact.js'
import {
  createServiceHTTP,
  type ServiceClientOptions,
  type ServiceRequest,
  type ServiceResponse,
} from '../http/service.js'
import { safeURL } from '../http/transport.js'
import { fromUtf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { type AccessToken, accessTokenFromResponse, type CachedAccessToken } from './access-token.js'

/** One request; `token` adds `Authorization: Bearer …`. */
export type CloudRequest = Omit<ServiceRequest, 'acceptStatus'> & { readonly token?: CachedAccessToken }

/** Sends requests for one provider; non-2xx answers throw ERR_KMS, redacted with its `secrets`. */
export type CloudHTTP = ((request: CloudRequest) => Promise<ServiceResponse>) & { readonly secrets: SecretSet }

// Client errors are read here (to report the service's reason); 408 and 429 stay with the retrying transport.
const CLIENT_ERRORS: readonly number[] = Array.from({ length: 100 }, (_, i) => 400 + i).filter(
  (s) => s !== 408 && s !== 429,
)
const MAX_REASON = 300

function reasonOf(body: Uint8Array): { message: string; code?: string } {
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(body))
  } catch {
    return { message: '' }
  }
  if (!isJSONObject(doc)) return { message: '' }
  const err = doc.error
  if (isJSONObject(err)) {
    // Google: {code, message, status}; Azure: {code, message, innererror}.
    const code = typeof err.status === 'string' ? err.status : typeof err.code === 'string' ? err.code : undefined
    return { message: typeof err.message === 'string' ? err.message : '', ...(code ? { code } : {}) }
  }
  // OAuth 2.0 token endpoints (RFC 6749 §5.2).
  const code = typeof err === 'string' ? err : undefined
  const description = typeof doc.error_description === 'string' ? doc.error_description : ''
  return { message: description || (code ?? ''), ...(code ? { code } : {}) }
}

/** Add `details.provider` to an ERR_KMS from the service helper (5xx/429 after retries, oversized bodies). */
function withProvider(e: unknown, provider: string): unknown {
  if (e instanceof CountersignError && e.code === 'ERR_KMS' && e.details?.provider === undefined) {
    return new CountersignError('ERR_KMS', e.message, { cause: e, details: { ...e.details, provider } })
  }
  return e
}

/** The service-client settings in `o` (a provider's or a call's options, which carry more), without the rest. */
export function httpOptions(o: ServiceClientOptions): ServiceClientOptions {
  return {
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.retry ? { retry: o.retry } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.userAgent !== undefined ? { userAgent: o.userAgent } : {}),
    ...(o.sleep ? { sleep: o.sleep } : {}),
    ...(o.secrets ? { secrets: o.secrets } : {}),
  }
}

/**
 * Create the request function of one provider. `provider` is the URI scheme (`gcpkms`, `azurekms`); `service`
 * names the endpoint in messages ("Google Cloud KMS", "Azure AD token endpoint").
 */
export function createCloudHTTP(provider: string, service: string, options: ServiceClientOptions): CloudHTTP {
  const http = createServiceHTTP(service, 'ERR_KMS', options)
  const send = async (request: CloudRequest): Promise<ServiceResponse> => {
    const { token, ...rest } = request
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...(rest.headers ?? {}) }
      if (token) headers.Authorization = `Bearer ${await token.get(rest.signal ? { signal: rest.signal } : {})}`
      let res: ServiceResponse
      try {
        res = await http({ ...rest, headers, acceptStatus: CLIENT_ERRORS })
      } catch (e) {
        throw withProvider(e, provider)
      }
      if (res.status < 400) return res
      // A revoked or clock-skewed token: fetch a fresh one once before giving up.
      if (res.status === 401 && token && attempt === 0) {
        token.invalidate()
        continue
      }
      const { message, code } = reasonOf(res.body)
      const reason = clipReason(message, http.secrets, MAX_REASON)
      const where = http.secrets.redact(`${rest.method} ${safeURL(rest.url)}`)
      throw new CountersignError(
        'ERR_KMS',
        `${service}: ${where} failed with HTTP ${res.status}${reason ? `: ${reason}` : ''}`,
        {
          details: {
            provider,
            status: res.status,
            ...(code ? { reason: clipReason(code, http.secrets, MAX_REASON) } : {}),
          },
        },
      )
    }
  }
  return Object.assign(send, { secrets: http.secrets })
}

/** The `details.status` of an ERR_KMS, for callers that treat 404 as "does not exist yet". */
export function kmsStatus(e: unknown): number | undefined {
  return e instanceof CountersignError && e.code === 'ERR_KMS' && typeof e.details?.status === 'number'
    ? e.details.status
    : undefined
}

/** Parse a JSON response body as an object, or throw ERR_KMS naming the provider. */
export function jsonObject(res: ServiceResponse, provider: string, what: string): Record<string, unknown> {
  let doc: unknown
  try {
    doc = res.json()
  } catch (cause) {
    throw new CountersignError('ERR_KMS', `${what}: invalid JSON`, { cause, details: { provider, status: res.status } })
  }
  if (!isJSONObject(doc)) {
    throw new CountersignError('ERR_KMS', `${what}: expected a JSON object`, {
      details: { provider, status: res.status },
    })
  }
  return doc
}

/** A malformed but well-formed-JSON answer: ERR_KMS with the provider. */
export function badResponse(provider: string, message: string, status?: number): CountersignError {
  return new CountersignError('ERR_KMS', message, {
    details: { provider, ...(status !== undefined ? { status } : {}), reason: 'bad-response' },
  })
}

/**
 * An OAuth token endpoint's answer (`what`, e.g. "Google token response") as a token, or ERR_KMS naming it. The
 * token is added to `secrets` (short-lived) so no later error can quote it.
 */
export function accessTokenOf(
  res: ServiceResponse,
  provider: string,
  what: string,
  now: number,
  secrets?: SecretSet,
): AccessToken {
  const token = accessTokenFromResponse(jsonObject(res, provider, what), now)
  if (!token) throw badResponse(provider, `${what} has no access_token`, res.status)
  secrets?.addTemporary(token.token)
  return token
}

/**
 * Ask a metadata server that only answers on the cloud itself: unreachable means this machine has no such identity,
 * reported as ERR_KMS `no-credentials` with `message` (which says what to configure instead).
 */
export async function askMetadataServer(
  http: CloudHTTP,
  request: CloudRequest,
  provider: string,
  message: string,
): Promise<ServiceResponse> {
  try {
    return await http(request)
  } catch (cause) {
    if (cause instanceof CountersignError && cause.code === 'ERR_NETWORK') {
      throw new CountersignError('ERR_KMS', message, { cause, details: { provider, reason: 'no-credentials' } })
    }
    throw cause
  }
}
