/**
 * STS `AssumeRole`: temporary credentials for a role, requested with other credentials (a profile's keys, SSO, a
 * credential process, another role). The Query API request (`POST /`, form-encoded, `Version=2011-06-15`) is signed
 * with SigV4 for service `sts` using the source credentials; the answer is the same XML as
 * `AssumeRoleWithWebIdentity`'s. This is what the AWS SDK for Go v2's `stscreds.AssumeRoleProvider` sends for a
 * profile's `role_arn`.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import { createServiceHTTP, type ServiceClientOptions } from '../../http/service.js'
import { utf8 } from '../../internal/bytes.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import { type AWSCredentialProvider, cacheAWSCredentials } from './credentials.js'
import { withAWSProvider } from './service-errors.js'
import { signAWSPost } from './sign-request.js'
import { stsCredentials, stsURL } from './web-identity.js'

/**
 * Options for {@link createAssumeRoleCredentials}.
 *
 * @example
 * ```ts
 * import type { AssumeRoleCredentialsOptions } from 'countersign/kms/aws'
 * const options: AssumeRoleCredentialsOptions = { roleArn, source: async () => baseKeys, region: 'eu-west-1' }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface AssumeRoleCredentialsOptions extends ServiceClientOptions {
  /** The role to assume (a profile's `role_arn`). */
  readonly roleArn: string
  /** The credentials that sign the `AssumeRole` request (the profile's `source_profile` or `credential_source`). */
  readonly source: AWSCredentialProvider
  /** `role_session_name`; default `countersign-<milliseconds>`. */
  readonly roleSessionName?: string
  /** `external_id`, for roles that a third party assumes. */
  readonly externalId?: string
  /** `duration_seconds` (900 to 43200); default 900, the Go SDK's default. */
  readonly durationSeconds?: number
  /** `mfa_serial`: the role's trust policy requires MFA. Needs {@link AssumeRoleCredentialsOptions.mfaTokenCode}. */
  readonly mfaSerial?: string
  /** Supplies the current code of the MFA device `mfaSerial` (asked on every refresh). Secret. */
  readonly mfaTokenCode?: (serialNumber: string) => Promise<string>
  /** STS region: the regional endpoint and the SigV4 scope; without one the global endpoint, signed for us-east-1. */
  readonly region?: string
  /** STS base URL overriding the one derived from the region (`AWS_ENDPOINT_URL_STS`, tests). */
  readonly endpoint?: string
  /** Clock for signatures, the cache and the default session name. */
  readonly now?: () => Date
}

/** Why a profile with `mfa_serial` is refused: there is no prompt to ask for the code. */
export const MFA_REFUSED =
  'needs an MFA code; countersign does not prompt — use a session from `aws sts get-session-token` or remove mfa_serial'

/**
 * Temporary credentials from STS `AssumeRole`, signed with `source`, cached until five minutes before they expire.
 *
 * @param options - Role, source credentials, session parameters and STS endpoint.
 * @returns A credential provider.
 * @throws {CountersignError} ERR_KMS (from the provider) when STS refuses (its error code is in the message and
 *   `details.awsError`), answers garbage, or `mfaSerial` is set without `mfaTokenCode`. No key, session token or MFA
 *   code is ever in a message.
 * @example
 * ```ts
 * import { createAssumeRoleCredentials } from 'countersign/kms/aws'
 * const credentials = createAssumeRoleCredentials({
 *   roleArn: 'arn:aws:iam::111122223333:role/signer',
 *   source: async () => ({ accessKeyId, secretAccessKey }),
 *   region: 'eu-west-1',
 * })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function createAssumeRoleCredentials(options: AssumeRoleCredentialsOptions): AWSCredentialProvider {
  if (typeof options?.roleArn !== 'string' || options.roleArn === '') {
    throw new CountersignError('ERR_INVALID_INPUT', 'AssumeRole needs a role ARN', { details: { provider: 'aws' } })
  }
  if (typeof options.source !== 'function') {
    throw new CountersignError('ERR_INVALID_INPUT', 'AssumeRole needs source credentials', {
      details: { provider: 'aws' },
    })
  }
  const duration = options.durationSeconds ?? 900
  if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
    throw new CountersignError('ERR_INVALID_INPUT', 'AssumeRole duration must be 900 to 43200 seconds', {
      details: { provider: 'aws' },
    })
  }
  const http = createServiceHTTP('AWS STS', 'ERR_KMS', options)
  const now = options.now ?? (() => new Date())
  const region = options.region
  const url = stsURL(options.endpoint, region)
  const assume: AWSCredentialProvider = async (callOptions) => {
    const form = new URLSearchParams({
      Action: 'AssumeRole',
      Version: '2011-06-15',
      RoleArn: options.roleArn,
      RoleSessionName: options.roleSessionName ?? `countersign-${now().getTime()}`,
      DurationSeconds: String(duration),
    })
    if (options.externalId) form.set('ExternalId', options.externalId)
    if (options.mfaSerial) {
      if (options.mfaTokenCode === undefined) {
        throw new CountersignError('ERR_KMS', `AWS role ${options.roleArn} ${MFA_REFUSED}`, {
          details: { provider: 'aws', reason: 'mfa-required' },
        })
      }
      const code = (await options.mfaTokenCode(options.mfaSerial)).trim()
      http.secrets.addTemporary(code)
      form.set('SerialNumber', options.mfaSerial)
      form.set('TokenCode', code)
    }
    const source = await options.source(callOptions)
    http.secrets.addTemporary(source.secretAccessKey, source.sessionToken)
    const body = utf8(form.toString())
    const headers = await signAWSPost(
      {
        url,
        headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'text/xml' },
        body,
      },
      source,
      { service: 'sts', region: region ?? 'us-east-1', now },
    )
    const res = await send(http, url, body, headers, callOptions?.signal)
    return stsCredentials(res, http.secrets, 'AssumeRole', `AssumeRole of ${options.roleArn}`)
  }
  return cacheAWSCredentials(assume, { now })
}

async function send(
  http: ReturnType<typeof createServiceHTTP>,
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
  signal: AbortSignalLike | undefined,
) {
  try {
    // A signed request may be repeated only within its signature's five minutes; the helper's retries are quick.
    return await http({
      method: 'POST',
      url,
      body,
      headers,
      maxBytes: 64 * 1024,
      acceptStatus: [400, 401, 403],
      ...(signal ? { signal } : {}),
    })
  } catch (cause) {
    throw withAWSProvider(cause)
  }
}
