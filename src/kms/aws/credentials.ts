/**
 * AWS credentials for request signing: the static/temporary key triple, credentials from environment variables, and
 * a cache that keeps temporary credentials until shortly before they expire. File- and token-based sources (shared
 * config, web identity token files) are Node-only and live in `countersign/node`.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import type { KMSEnvironment } from '../types.js'

/**
 * An AWS access key, with the session token of temporary (STS) credentials. Secret: never log it.
 *
 * @example
 * ```ts
 * import type { AWSCredentials } from 'countersign/kms/aws'
 * const credentials: AWSCredentials = { accessKeyId: 'AKIA…', secretAccessKey: '…' }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface AWSCredentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
  /** When temporary credentials stop working; absent for long-term keys. */
  readonly expiration?: Date
}

/**
 * Produces credentials on demand (called before every signed request; wrap slow sources with
 * {@link cacheAWSCredentials}).
 *
 * @example
 * ```ts
 * import type { AWSCredentialProvider } from 'countersign/kms/aws'
 * const provider: AWSCredentialProvider = async () => ({ accessKeyId, secretAccessKey })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export type AWSCredentialProvider = (options?: { readonly signal?: AbortSignalLike }) => Promise<AWSCredentials>

/**
 * Credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (or the Go SDK's older `AWS_ACCESS_KEY`/
 * `AWS_SECRET_KEY`) and `AWS_SESSION_TOKEN`, the first source of the AWS SDKs' default chain.
 *
 * @param env - Environment variables (`process.env` in Node).
 * @returns The credentials, or `undefined` when the key pair is not set.
 * @example
 * ```ts
 * import { awsCredentialsFromEnv } from 'countersign/kms/aws'
 * const credentials = awsCredentialsFromEnv({ AWS_ACCESS_KEY_ID: 'AKIA…', AWS_SECRET_ACCESS_KEY: '…' })
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function awsCredentialsFromEnv(env: KMSEnvironment): AWSCredentials | undefined {
  const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID) ?? nonEmpty(env.AWS_ACCESS_KEY)
  const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY) ?? nonEmpty(env.AWS_SECRET_KEY)
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined
  const sessionToken = nonEmpty(env.AWS_SESSION_TOKEN)
  return Object.freeze({ accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) })
}

/** `AWS_REGION`, then `AWS_DEFAULT_REGION` (the Go SDK's order). */
export function regionFromEnv(env: KMSEnvironment): string | undefined {
  return nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION)
}

/**
 * Options for {@link cacheAWSCredentials}.
 *
 * @example
 * ```ts
 * import type { CacheAWSCredentialsOptions } from 'countersign/kms/aws'
 * const options: CacheAWSCredentialsOptions = { refreshBeforeMs: 60_000 }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface CacheAWSCredentialsOptions {
  /** Refresh this long before `expiration` (default 5 minutes, the SDKs' window for temporary credentials). */
  readonly refreshBeforeMs?: number
  /** Clock (default `Date.now`). */
  readonly now?: () => Date
}

/**
 * Wrap a credential source so that it is asked once: long-term credentials are kept, temporary ones until
 * `refreshBeforeMs` before they expire. Concurrent callers share one request; failures are not cached.
 *
 * @param provider - The source (e.g. STS web identity).
 * @param options - The refresh window and clock.
 * @returns A provider that answers from the cache while the credentials are fresh.
 * @example
 * ```ts
 * import { cacheAWSCredentials } from 'countersign/kms/aws'
 * const credentials = cacheAWSCredentials(fetchFromMyBroker)
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function cacheAWSCredentials(
  provider: AWSCredentialProvider,
  options: CacheAWSCredentialsOptions = {},
): AWSCredentialProvider {
  const window = options.refreshBeforeMs ?? 5 * 60_000
  const now = options.now ?? (() => new Date())
  let cached: AWSCredentials | undefined
  let pending: Promise<AWSCredentials> | undefined
  const fresh = (c: AWSCredentials) => c.expiration === undefined || c.expiration.getTime() - window > now().getTime()
  return async (callOptions) => {
    if (cached !== undefined && fresh(cached)) return cached
    if (pending === undefined) {
      pending = provider(callOptions)
        .then((c) => {
          cached = checkCredentials(c)
          return cached
        })
        .finally(() => {
          pending = undefined
        })
    }
    return pending
  }
}

/** Turn an option value (credentials or a provider) into a provider, checking what it yields. */
export function toCredentialProvider(value: AWSCredentials | AWSCredentialProvider): AWSCredentialProvider {
  if (typeof value === 'function') return async (options) => checkCredentials(await value(options))
  const checked = checkCredentials(value)
  return async () => checked
}

/** Reject malformed credentials without echoing any of their values. */
export function checkCredentials(c: AWSCredentials): AWSCredentials {
  const ok =
    typeof c === 'object' &&
    c !== null &&
    typeof c.accessKeyId === 'string' &&
    c.accessKeyId !== '' &&
    typeof c.secretAccessKey === 'string' &&
    c.secretAccessKey !== '' &&
    (c.sessionToken === undefined || typeof c.sessionToken === 'string') &&
    (c.expiration === undefined || (c.expiration instanceof Date && !Number.isNaN(c.expiration.getTime())))
  if (!ok) {
    throw new CountersignError('ERR_KMS', 'AWS credentials are malformed (accessKeyId and secretAccessKey required)', {
      details: { provider: 'aws', reason: 'credentials' },
    })
  }
  return c
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim()
  return t === undefined || t === '' ? undefined : t
}
