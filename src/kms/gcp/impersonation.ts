/**
 * Service account impersonation: a source credential's token buys a service account's access token from the IAM
 * Credentials API (`POST …/projects/-/serviceAccounts/EMAIL:generateAccessToken` with `{lifetime, scope,
 * delegates}`), as `golang.org/x/oauth2/google/internal/impersonate` does. Used by `impersonated_service_account`
 * files (what `gcloud auth application-default login --impersonate-service-account` writes) and by `external_account`
 * files with `service_account_impersonation_url`. Internal; reached through `createGCPCredentialsFromJSON`.
 *
 * @module
 */
import { type AccessTokenSource, cacheAccessToken } from '../access-token.js'
import { badResponse, createCloudHTTP, jsonObject } from '../cloud-http.js'
import type { GCPCredentialOptions } from './credential-options.js'
import { credentialError, endpointURL, GCP_PROVIDER } from './token-endpoint.js'

/** IAM's default and largest token lifetimes (generateAccessToken refuses more than 12 h). */
const DEFAULT_LIFETIME_S = 3600
const MAX_LIFETIME_S = 43_200
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/

/** What to ask IAM for. */
export interface ImpersonationSettings {
  readonly url: string
  readonly scopes: readonly string[]
  readonly delegates?: readonly string[]
  readonly lifetimeSeconds?: number
}

/** The service account an impersonation URL names (for reports and the executable's environment), if it names one. */
export function impersonatedEmail(url: string): string | undefined {
  let path: string
  try {
    path = new URL(url).pathname
  } catch {
    return undefined
  }
  const m = /\/projects\/-\/serviceAccounts\/([^/]+@[^/]+):generateAccessToken$/.exec(path)
  if (!m) return undefined
  try {
    return decodeURIComponent(m[1]!)
  } catch {
    return undefined
  }
}

/** `service_account_impersonation.token_lifetime_seconds`: a whole number of seconds IAM can grant. */
export function lifetimeSeconds(value: unknown): number | undefined {
  if (value === undefined || value === null || value === 0) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_LIFETIME_S) {
    throw credentialError(`Google credentials have an invalid "token_lifetime_seconds" (1 to ${MAX_LIFETIME_S})`)
  }
  return value
}

/**
 * A token source whose tokens IAM issues for the service account, paid for with `source`'s token (itself cached:
 * the source token outlives several impersonated ones when the lifetime is short).
 */
export function impersonatedTokenSource(
  source: AccessTokenSource,
  settings: ImpersonationSettings,
  options: GCPCredentialOptions,
): AccessTokenSource {
  const now = options.now ?? Date.now
  const sourceToken = cacheAccessToken(source, now)
  const body = {
    lifetime: `${settings.lifetimeSeconds ?? DEFAULT_LIFETIME_S}s`,
    scope: [...settings.scopes],
    ...(settings.delegates && settings.delegates.length > 0 ? { delegates: [...settings.delegates] } : {}),
  }
  return async ({ signal }) => {
    const http = createCloudHTTP(GCP_PROVIDER, 'Google IAM Credentials', options)
    const res = await http({
      method: 'POST',
      url: settings.url,
      token: sourceToken,
      json: body,
      ...(signal ? { signal } : {}),
    })
    const doc = jsonObject(res, GCP_PROVIDER, 'IAM generateAccessToken response')
    const token = doc.accessToken
    if (typeof token !== 'string' || token === '' || /[\s\u0000-\u001f\u007f]/.test(token)) {
      throw badResponse(GCP_PROVIDER, 'IAM generateAccessToken response has no accessToken', res.status)
    }
    http.secrets.addTemporary(token)
    const expireTime = doc.expireTime
    const expiresAt = typeof expireTime === 'string' && RFC3339.test(expireTime) ? Date.parse(expireTime) : Number.NaN
    if (!Number.isFinite(expiresAt)) {
      throw badResponse(GCP_PROVIDER, 'IAM generateAccessToken response has no valid expireTime', res.status)
    }
    return { token, expiresAt }
  }
}

/** The parts of an `impersonated_service_account` file. */
export interface ImpersonatedServiceAccount {
  readonly url: string
  readonly delegates: readonly string[]
  readonly sourceCredentials: Record<string, unknown>
}

/** Read an `impersonated_service_account` file (Go's `google.go`: both fields required, delegates optional). */
export function parseImpersonatedServiceAccount(doc: Record<string, unknown>): ImpersonatedServiceAccount {
  const source = doc.source_credentials
  if (doc.service_account_impersonation_url === undefined || typeof source !== 'object' || source === null) {
    throw credentialError(
      'Google impersonated_service_account credentials lack "source_credentials" or "service_account_impersonation_url"',
    )
  }
  if (Array.isArray(source)) throw credentialError('Google credentials: "source_credentials" must be an object')
  const delegates = doc.delegates ?? []
  if (!Array.isArray(delegates) || !delegates.every((d) => typeof d === 'string' && d !== '')) {
    throw credentialError('Google impersonated_service_account credentials have invalid "delegates"')
  }
  return {
    url: endpointURL(doc.service_account_impersonation_url, 'service_account_impersonation_url'),
    delegates: delegates as string[],
    sourceCredentials: source as Record<string, unknown>,
  }
}
