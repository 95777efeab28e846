/**
 * EC2 instance metadata credentials: the instance profile's role credentials from IMDS, fetched with an IMDSv2
 * session token the way the AWS SDK for Go v2 does (`feature/ec2/imds` + `credentials/ec2rolecreds`): `PUT
 * /latest/api/token`, then the role name from `GET /latest/meta-data/iam/security-credentials/`, then that role's
 * credentials. Fetch only, so it runs wherever a route to the instance's metadata endpoint exists.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { clipReason } from '../../http/redact.js'
import {
  createServiceHTTP,
  type ServiceClientOptions,
  type ServiceRequest,
  type ServiceResponse,
} from '../../http/service.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { isJSONObject } from '../../internal/json.js'
import { type AWSCredentialProvider, type AWSCredentials, cacheAWSCredentials } from './credentials.js'
import { credentialsJSONFields } from './credentials-json.js'
import { badAWSAnswer, withAWSProvider } from './service-errors.js'

const IPV4_ENDPOINT = 'http://169.254.169.254'
const IPV6_ENDPOINT = 'http://[fd00:ec2::254]'
const TOKEN_PATH = '/latest/api/token'
// Go v2's ec2rolecreds reads only this path; the newer `security-credentials-extended/` adds an AccountId that
// countersign has no use for, and asking it first would cost every instance without it a 404.
const ROLE_PATH = '/latest/meta-data/iam/security-credentials/'
const TOKEN_HEADER = 'X-aws-ec2-metadata-token'
const TTL_HEADER = 'X-aws-ec2-metadata-token-ttl-seconds'
const MAX_TTL_SECONDS = 21_600
const MAX_BODY = 64 * 1024
const SERVICE = 'EC2 instance metadata'

/**
 * Options for {@link createIMDSCredentials}. Off EC2 nothing answers, so the defaults fail fast: one second per
 * attempt until response headers arrive and one retry.
 *
 * @example
 * ```ts
 * import type { IMDSCredentialsOptions } from 'countersign/kms/aws'
 * const options: IMDSCredentialsOptions = { endpointMode: 'IPv6', disableV1Fallback: true }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface IMDSCredentialsOptions extends ServiceClientOptions {
  /** Base URL (`AWS_EC2_METADATA_SERVICE_ENDPOINT`); default from `endpointMode`. */
  readonly endpoint?: string
  /** `IPv4` (default, `http://169.254.169.254`) or `IPv6` (`http://[fd00:ec2::254]`). */
  readonly endpointMode?: 'IPv4' | 'IPv6'
  /**
   * Never send a request without a session token (`AWS_EC2_METADATA_V1_DISABLED=true`). By default, as in the Go
   * SDK, a token request answered 403/404/405 or not answered at all switches to IMDSv1 requests until IMDS asks
   * for a token again with a 401.
   */
  readonly disableV1Fallback?: boolean
  /** Lifetime asked for the session token, 1 to 21600 seconds (default 21600, the most IMDS grants). */
  readonly tokenTTLSeconds?: number
  /** Clock for the token and credential caches. */
  readonly now?: () => Date
}

/**
 * Credentials of the IAM role attached to this EC2 instance (its instance profile), cached until five minutes
 * before they expire. As in the Go SDK the expiry is capped at one hour from the fetch, so long-lived role
 * credentials are picked up again hourly; the session token is kept for its lifetime and fetched again when IMDS
 * answers 401. Every credential and token learned is added to `secrets`.
 *
 * @param options - Endpoint, IMDSv1 fallback, token lifetime, fetch and clock.
 * @returns A credential provider.
 * @throws {CountersignError} ERR_INVALID_INPUT for an endpoint that is not an http(s) URL; ERR_KMS (from the
 *   provider) when no metadata endpoint answers (`details.reason: 'no-credentials'`), the instance has no role, or
 *   IMDS refuses or answers with garbage. Messages never carry a token or a key.
 * @example
 * ```ts
 * import { createAWSKMSProvider, createIMDSCredentials } from 'countersign/kms/aws'
 * const aws = createAWSKMSProvider({ credentials: createIMDSCredentials(), region: 'eu-west-1' })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function createIMDSCredentials(options: IMDSCredentialsOptions = {}): AWSCredentialProvider {
  const base = endpointOf(options)
  const ttl = options.tokenTTLSeconds ?? MAX_TTL_SECONDS
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS) {
    throw new RangeError('"tokenTTLSeconds" must be an integer from 1 to 21600')
  }
  const now = options.now ?? (() => new Date())
  const http = createServiceHTTP(SERVICE, 'ERR_KMS', {
    ...options,
    timeoutMs: options.timeoutMs ?? 1_000,
    retry: options.retry ?? { attempts: 1, baseDelayMs: 100, maxDelayMs: 1_000 },
  })
  let token: { readonly value: string; readonly expires: number } | undefined
  /** Token requests are off (IMDSv1) until a 401 says IMDS wants one again. */
  let v1 = false

  const send = async (request: ServiceRequest): Promise<ServiceResponse> => {
    try {
      return await http(request)
    } catch (e) {
      throw withProvider(e)
    }
  }

  const sessionToken = async (signal: AbortSignalLike | undefined): Promise<string | undefined> => {
    if (v1) return undefined
    const at = now().getTime()
    if (token !== undefined && token.expires > at) return token.value
    let res: ServiceResponse
    try {
      res = await http({
        method: 'PUT',
        url: `${base}${TOKEN_PATH}`,
        headers: { [TTL_HEADER]: String(ttl) },
        acceptStatus: [400, 403, 404, 405],
        maxBytes: 4_096,
        ...(signal ? { signal } : {}),
      })
    } catch (e) {
      // A container behind a hop limit of 1 never sees the token answer, while IMDSv1 GETs still work (Go SDK).
      if (isNetworkError(e) && options.disableV1Fallback !== true) {
        v1 = true
        return undefined
      }
      throw withProvider(e)
    }
    if (res.status >= 200 && res.status < 300) {
      const value = res.text().trim()
      if (value === '' || /[\r\n]/.test(value)) throw bad('the IMDSv2 token answer is empty', res.status)
      http.secrets.addTemporary(value)
      const granted = Number(res.headers.get(TTL_HEADER))
      const life = Number.isInteger(granted) && granted > 0 ? Math.min(granted, ttl) : ttl
      token = { value, expires: at + life * 1_000 }
      return value
    }
    // 403/404/405: IMDSv2 is off or not there; 400 is terminal (Go SDK).
    if (res.status !== 400 && options.disableV1Fallback !== true) {
      v1 = true
      return undefined
    }
    const why = res.status === 400 ? '' : ' and the IMDSv1 fallback is disabled (AWS_EC2_METADATA_V1_DISABLED)'
    throw new CountersignError('ERR_KMS', `${SERVICE}: the IMDSv2 token request failed with HTTP ${res.status}${why}`, {
      details: { provider: 'aws', status: res.status },
    })
  }

  /** GET a metadata path; a 401 (expired token, or IMDSv2 required after a fallback) gets one new token. */
  const get = async (path: string, signal: AbortSignalLike | undefined): Promise<ServiceResponse> => {
    for (let attempt = 0; ; attempt++) {
      const value = await sessionToken(signal)
      const res = await send({
        method: 'GET',
        url: `${base}${path}`,
        headers: value !== undefined ? { [TOKEN_HEADER]: value } : {},
        acceptStatus: [401, 404],
        maxBytes: MAX_BODY,
        ...(signal ? { signal } : {}),
      })
      if (res.status === 401 && attempt === 0) {
        token = undefined
        v1 = false
        continue
      }
      if (res.status === 401) {
        throw new CountersignError('ERR_KMS', `${SERVICE}: GET ${path} was refused (HTTP 401) with a new token`, {
          details: { provider: 'aws', status: 401 },
        })
      }
      return res
    }
  }

  const fetchCredentials: AWSCredentialProvider = async (callOptions) => {
    const signal = callOptions?.signal
    const list = await get(ROLE_PATH, signal)
    const role = list.status === 404 ? '' : (list.text().split(/\r?\n/)[0] ?? '').trim()
    if (role === '') {
      throw new CountersignError('ERR_KMS', `${SERVICE}: this instance has no IAM role (instance profile) attached`, {
        details: { provider: 'aws', status: list.status, reason: 'no-credentials' },
      })
    }
    const name = clipReason(role, http.secrets, 128)
    const res = await get(`${ROLE_PATH}${encodeURIComponent(role)}`, signal)
    if (res.status === 404) throw bad(`role ${JSON.stringify(name)} has no credentials`, 404)
    let doc: unknown
    try {
      doc = res.json()
    } catch (e) {
      throw withProvider(e)
    }
    if (!isJSONObject(doc)) throw bad(`the credentials of role ${JSON.stringify(name)} are not a JSON object`, 200)
    const fields = credentialsJSONFields(doc, http.secrets)
    const code = fields.code ?? ''
    if (code.toLowerCase() !== 'success') {
      const reason = clipReason(`${code || 'no Code'}${fields.message ? `: ${fields.message}` : ''}`, http.secrets, 300)
      throw new CountersignError('ERR_KMS', `${SERVICE}: no credentials for role ${JSON.stringify(name)}: ${reason}`, {
        details: { provider: 'aws', status: res.status, awsError: clipReason(code, http.secrets, 100) },
      })
    }
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = fields
    if (!accessKeyId || !secretAccessKey || !sessionToken || !expiration || Number.isNaN(expiration.getTime())) {
      throw bad(
        `the credentials of role ${JSON.stringify(name)} lack AccessKeyId, SecretAccessKey, Token or Expiration`,
        200,
      )
    }
    // Go SDK: refresh instance-profile credentials at least hourly.
    const cap = now().getTime() + 60 * 60_000
    const credentials: AWSCredentials = {
      accessKeyId,
      secretAccessKey,
      sessionToken,
      expiration: expiration.getTime() > cap ? new Date(cap) : expiration,
    }
    return Object.freeze(credentials)
  }
  return cacheAWSCredentials(fetchCredentials, { now })
}

function endpointOf(options: IMDSCredentialsOptions): string {
  const mode = options.endpointMode ?? 'IPv4'
  if (mode !== 'IPv4' && mode !== 'IPv6') {
    throw new CountersignError('ERR_INVALID_INPUT', 'the EC2 metadata endpoint mode must be IPv4 or IPv6', {
      details: { provider: 'aws' },
    })
  }
  const raw = options.endpoint ?? (mode === 'IPv6' ? IPV6_ENDPOINT : IPV4_ENDPOINT)
  let url: URL | undefined
  try {
    url = new URL(raw)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) {
    throw new CountersignError('ERR_INVALID_INPUT', 'the EC2 metadata endpoint must be an http(s) URL', {
      details: { provider: 'aws' },
    })
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`
}

function isNetworkError(e: unknown): boolean {
  return e instanceof CountersignError && e.code === 'ERR_NETWORK'
}

/** Network failures mean there is no metadata endpoint here; service errors get `details.provider`. */
function withProvider(e: unknown): unknown {
  if (isNetworkError(e)) {
    const err = e as CountersignError
    return new CountersignError(
      'ERR_KMS',
      `no EC2 instance metadata endpoint answered (${err.message}); off EC2, set AWS_EC2_METADATA_DISABLED=true to skip this source`,
      { cause: e, details: { provider: 'aws', reason: 'no-credentials' } },
    )
  }
  return withAWSProvider(e)
}

function bad(what: string, status: number): CountersignError {
  return badAWSAnswer(SERVICE, what, status)
}
