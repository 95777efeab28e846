/**
 * IAM Identity Center (AWS SSO) over HTTP: the portal's `GetRoleCredentials` (an SSO access token to a role's
 * temporary credentials) and the OIDC service's `CreateToken` with a refresh token (a new access token once the
 * cached one runs out). Reading and rewriting the AWS CLI's token cache (`~/.aws/sso/cache`) is the Node adapter's
 * job; these calls take and return plain values. Formats from aws-sdk-go-v2 `service/sso` (`GET
 * /federation/credentials`, header `x-amz-sso_bearer_token`) and `service/ssooidc` (`POST /token`).
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { clipReason } from '../../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions, type ServiceResponse } from '../../http/service.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { isJSONObject } from '../../internal/json.js'
import type { AWSCredentials } from './credentials.js'
import { dnsSuffix } from './web-identity.js'

/**
 * Options for {@link getSSORoleCredentials}.
 *
 * @example
 * ```ts
 * import type { SSORoleCredentialsOptions } from 'countersign/kms/aws'
 * const options: SSORoleCredentialsOptions = { accessToken, accountId: '111122223333', roleName: 'Signer', region: 'eu-west-1' }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface SSORoleCredentialsOptions extends ServiceClientOptions {
  /** The SSO access token (`accessToken` of the CLI's cache file). Secret. */
  readonly accessToken: string
  /** `sso_account_id`. */
  readonly accountId: string
  /** `sso_role_name`. */
  readonly roleName: string
  /** `sso_region`: the portal is `https://portal.sso.REGION.amazonaws.com`. */
  readonly region: string
  /** Portal base URL overriding the regional one (`AWS_ENDPOINT_URL_SSO`, tests). */
  readonly endpoint?: string
  readonly signal?: AbortSignalLike
}

/**
 * Exchange an SSO access token for a role's temporary credentials (`GetRoleCredentials`).
 *
 * @param options - Token, account, role, region and endpoint.
 * @returns The role's credentials with their expiry.
 * @throws {CountersignError} ERR_KMS: `details.reason: 'sso-token'` when the portal rejects the token (expired or
 *   signed out: run `aws sso login`), otherwise the portal's error type in `details.awsError`. Never the token.
 * @example
 * ```ts
 * import { getSSORoleCredentials } from 'countersign/kms/aws'
 * const credentials = await getSSORoleCredentials({ accessToken, accountId, roleName, region: 'eu-west-1' })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export async function getSSORoleCredentials(options: SSORoleCredentialsOptions): Promise<AWSCredentials> {
  const http = createServiceHTTP('AWS SSO', 'ERR_KMS', options)
  const base = options.endpoint ?? `https://portal.sso.${options.region}.${dnsSuffix(options.region)}`
  const query = new URLSearchParams({ account_id: options.accountId, role_name: options.roleName })
  const res = await http({
    method: 'GET',
    url: `${base.replace(/\/+$/, '')}/federation/credentials?${query}`,
    headers: { 'x-amz-sso_bearer_token': options.accessToken },
    secrets: [options.accessToken],
    maxBytes: 64 * 1024,
    acceptStatus: [400, 401, 403, 404],
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch(withProvider)
  if (res.status !== 200) {
    const type = errorType(res)
    if (res.status === 401) {
      throw new CountersignError(
        'ERR_KMS',
        `AWS SSO rejected the access token (${type || 'HTTP 401'}): the SSO session has expired or was signed out; run \`aws sso login\``,
        { details: { provider: 'aws', status: 401, awsError: type, reason: 'sso-token' } },
      )
    }
    const message = clipReason(messageOf(res), http.secrets, 200)
    throw new CountersignError(
      'ERR_KMS',
      `AWS SSO GetRoleCredentials for role ${options.roleName} in account ${options.accountId} failed with HTTP ${res.status}: ${type || 'unknown error'}${message ? `: ${message}` : ''}`,
      { details: { provider: 'aws', status: res.status, awsError: type } },
    )
  }
  const doc = res.json()
  const rc = isJSONObject(doc) && isJSONObject(doc.roleCredentials) ? doc.roleCredentials : undefined
  const ok =
    rc !== undefined &&
    typeof rc.accessKeyId === 'string' &&
    rc.accessKeyId !== '' &&
    typeof rc.secretAccessKey === 'string' &&
    rc.secretAccessKey !== '' &&
    typeof rc.sessionToken === 'string' &&
    typeof rc.expiration === 'number' &&
    Number.isFinite(rc.expiration)
  if (!ok) {
    throw new CountersignError('ERR_KMS', 'AWS SSO GetRoleCredentials answered without usable credentials', {
      details: { provider: 'aws', status: 200, reason: 'invalid-response' },
    })
  }
  const credentials = Object.freeze({
    accessKeyId: rc.accessKeyId as string,
    secretAccessKey: rc.secretAccessKey as string,
    sessionToken: rc.sessionToken as string,
    // Milliseconds since the epoch (ssocreds: time.Unix(0, Expiration*int64(time.Millisecond))).
    expiration: new Date(rc.expiration as number),
  })
  http.secrets.addTemporary(credentials.secretAccessKey, credentials.sessionToken)
  return credentials
}

/**
 * Options for {@link refreshSSOToken}: the registered client and refresh token the AWS CLI keeps in its cache file
 * for an `sso-session`.
 *
 * @example
 * ```ts
 * import type { RefreshSSOTokenOptions } from 'countersign/kms/aws'
 * const options: RefreshSSOTokenOptions = { clientId, clientSecret, refreshToken, region: 'eu-west-1' }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface RefreshSSOTokenOptions extends ServiceClientOptions {
  readonly clientId: string
  /** Secret. */
  readonly clientSecret: string
  /** Secret. */
  readonly refreshToken: string
  /** `sso_region`: the OIDC service is `https://oidc.REGION.amazonaws.com`. */
  readonly region: string
  /** OIDC base URL overriding the regional one (`AWS_ENDPOINT_URL_SSO_OIDC`, tests). */
  readonly endpoint?: string
  /** Clock for `expiresAt`. */
  readonly now?: () => Date
  readonly signal?: AbortSignalLike
}

/**
 * A refreshed SSO access token.
 *
 * @example
 * ```ts
 * import type { RefreshedSSOToken } from 'countersign/kms/aws'
 * const token: RefreshedSSOToken = { accessToken, expiresAt: new Date(Date.now() + 3600_000) }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface RefreshedSSOToken {
  readonly accessToken: string
  readonly expiresAt: Date
  /** A rotated refresh token, when the service issued one. */
  readonly refreshToken?: string
}

/**
 * Refresh an SSO access token with OIDC `CreateToken` (`grantType: refresh_token`), as the Go SDK's
 * `ssocreds.SSOTokenProvider` does for `sso-session` profiles.
 *
 * @param options - Client registration, refresh token, region and endpoint.
 * @returns The new access token and its expiry.
 * @throws {CountersignError} ERR_KMS with `details.reason: 'sso-token'` when the refresh is refused (run
 *   `aws sso login`). Never a token or the client secret.
 * @example
 * ```ts
 * import { refreshSSOToken } from 'countersign/kms/aws'
 * const { accessToken, expiresAt } = await refreshSSOToken({ clientId, clientSecret, refreshToken, region: 'eu-west-1' })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export async function refreshSSOToken(options: RefreshSSOTokenOptions): Promise<RefreshedSSOToken> {
  const http = createServiceHTTP('AWS SSO OIDC', 'ERR_KMS', options)
  const base = options.endpoint ?? `https://oidc.${options.region}.${dnsSuffix(options.region)}`
  const res = await http({
    method: 'POST',
    url: `${base.replace(/\/+$/, '')}/token`,
    json: {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      grantType: 'refresh_token',
      refreshToken: options.refreshToken,
    },
    secrets: [options.clientSecret, options.refreshToken],
    maxBytes: 64 * 1024,
    acceptStatus: [400, 401, 403],
    ...(options.signal ? { signal: options.signal } : {}),
  }).catch(withProvider)
  const doc = res.status === 200 ? res.json() : undefined
  if (
    !isJSONObject(doc) ||
    typeof doc.accessToken !== 'string' ||
    doc.accessToken === '' ||
    typeof doc.expiresIn !== 'number'
  ) {
    const type = res.status === 200 ? 'invalid response' : errorType(res) || `HTTP ${res.status}`
    throw new CountersignError(
      'ERR_KMS',
      `AWS SSO could not refresh the access token (${type}); run \`aws sso login\``,
      {
        details: { provider: 'aws', status: res.status, reason: 'sso-token' },
      },
    )
  }
  const now = options.now ?? (() => new Date())
  const refreshed = {
    accessToken: doc.accessToken,
    expiresAt: new Date(now().getTime() + doc.expiresIn * 1000),
    ...(typeof doc.refreshToken === 'string' && doc.refreshToken !== '' ? { refreshToken: doc.refreshToken } : {}),
  }
  http.secrets.addTemporary(refreshed.accessToken, refreshed.refreshToken)
  return refreshed
}

/** The error type of a JSON service failure (`x-amzn-errortype` or `__type`/`error`), reduced to a safe name. */
function errorType(res: ServiceResponse): string {
  let doc: unknown
  try {
    doc = res.json()
  } catch {
    doc = undefined
  }
  const raw =
    res.headers.get('x-amzn-errortype') ??
    (isJSONObject(doc)
      ? typeof doc.__type === 'string'
        ? doc.__type
        : typeof doc.error === 'string'
          ? doc.error
          : ''
      : '')
  return (raw.split(':')[0] ?? '')
    .replace(/^.*#/, '')
    .replace(/[^A-Za-z0-9_.-]/g, '')
    .slice(0, 100)
}

function messageOf(res: ServiceResponse): string {
  try {
    const doc = res.json()
    if (isJSONObject(doc)) return typeof doc.message === 'string' ? doc.message : String(doc.Message ?? '')
  } catch {
    // Not JSON: no message to quote.
  }
  return ''
}

function withProvider(cause: unknown): never {
  if (cause instanceof CountersignError && cause.code === 'ERR_KMS') {
    throw new CountersignError('ERR_KMS', cause.message, {
      cause,
      details: { ...(cause.details ?? {}), provider: 'aws' },
    })
  }
  throw cause
}
