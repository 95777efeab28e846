/**
 * What every Google credential type shares: reading fields of a credential file, checking the endpoints it names
 * (https, or http on a loopback host for emulators and tests), and posting a form to a token endpoint (OAuth 2.0,
 * STS) with the request's secrets learned by the client's secret set first. Internal to the Google credentials.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { ServiceClientOptions, ServiceResponse } from '../../http/service.js'
import { utf8 } from '../../internal/bytes.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { createCloudHTTP } from '../cloud-http.js'

/** The scope Cloud KMS accepts (what the Go client requests). */
export const GCP_CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform'

/** The provider name errors carry in `details.provider` (the URI scheme, as every KMS provider does). */
export const GCP_PROVIDER = 'gcpkms'

/** ERR_INVALID_INPUT for a malformed credential file; the message names a field, never its value. */
export function credentialError(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { provider: GCP_PROVIDER } })
}

/** ERR_UNSUPPORTED_ALGORITHM for a credential kind countersign does not implement (the existing convention). */
export function unsupportedCredential(message: string): CountersignError {
  return new CountersignError('ERR_UNSUPPORTED_ALGORITHM', message, { details: { provider: GCP_PROVIDER } })
}

/** A required non-empty string field of a credential file. */
export function requiredString(doc: Record<string, unknown>, name: string, what: string): string {
  const v = doc[name]
  if (typeof v !== 'string' || v === '') throw credentialError(`Google ${what} credentials lack "${name}"`)
  return v
}

/** An optional string field: absent or empty gives undefined, another type is an error. */
export function optionalString(doc: Record<string, unknown>, name: string, what: string): string | undefined {
  const v = doc[name]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw credentialError(`Google ${what} credentials have a non-string "${name}"`)
  return v
}

/** True for the hosts a plain-http endpoint may use: this machine only. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]'
}

/**
 * An endpoint named by a credential file (`token_uri`, `token_url`, `service_account_impersonation_url`,
 * `credential_source.url`): https, or http on a loopback host. Google's Go client checks nothing here; countersign
 * refuses plain http elsewhere because a bearer token or a subject token travels to it.
 */
export function endpointURL(value: unknown, name: string, fallback?: string): string {
  if ((value === undefined || value === null || value === '') && fallback !== undefined) return fallback
  if (typeof value === 'string') {
    try {
      const u = new URL(value)
      if (u.username === '' && u.password === '') {
        if (u.protocol === 'https:' || (u.protocol === 'http:' && isLoopbackHost(u.hostname))) return u.toString()
      }
    } catch {
      // Reported below.
    }
  }
  throw credentialError(`Google credentials have an invalid "${name}" (https, or http on a loopback host)`)
}

/** Options of one token-endpoint request: the client settings, a clock and the caller's signal. */
export interface TokenRequestOptions extends ServiceClientOptions {
  readonly signal?: AbortSignalLike
}

/**
 * POST `form` (urlencoded) to a token endpoint. `secrets` are the values in the form that must never be quoted back
 * (assertion, refresh token, subject token, client secret); they are learned before the request leaves.
 */
export async function postForm(
  url: string,
  service: string,
  form: Readonly<Record<string, string>>,
  secrets: readonly (string | undefined)[],
  options: TokenRequestOptions,
  headers: Readonly<Record<string, string>> = {},
): Promise<{ readonly response: ServiceResponse; readonly http: ReturnType<typeof createCloudHTTP> }> {
  const http = createCloudHTTP(GCP_PROVIDER, service, options)
  const response = await http({
    method: 'POST',
    url,
    body: utf8(new URLSearchParams(form).toString()),
    contentType: 'application/x-www-form-urlencoded',
    headers,
    secrets,
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return { response, http }
}
