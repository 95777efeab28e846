/**
 * IAM Identity Center (AWS SSO) profiles on disk: the profile's `sso_session` (with its `[sso-session NAME]` section)
 * or the legacy `sso_start_url`/`sso_region` keys, the access token the AWS CLI caches after `aws sso login` in
 * `~/.aws/sso/cache/<sha1 of the session name, or of the start URL for legacy profiles>.json`, and, for sessions,
 * the refresh of an expiring token with its refresh token (the cache file is rewritten, as the Go SDK's
 * `ssocreds.SSOTokenProvider` does). The HTTP calls are in `kms/aws/sso.ts`.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { readFile, rename, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import type { ServiceClientOptions } from '../http/service.js'
import { isJSONObject } from '../internal/json.js'
import { type AWSCredentialProvider, cacheAWSCredentials } from '../kms/aws/credentials.js'
import { getSSORoleCredentials, refreshSSOToken } from '../kms/aws/sso.js'
import { type AWSProfile, type AWSSharedConfig, nonEmpty } from './aws-shared-config.js'

/** Where an SSO profile gets its token and role. */
export interface AWSSSOConfig {
  readonly profileName: string
  /** `sso_session`, absent for legacy profiles. */
  readonly sessionName?: string
  readonly startUrl: string
  readonly region: string
  readonly accountId: string
  readonly roleName: string
}

/** Options of {@link createAWSSSOCredentials}. */
export interface AWSSSOCredentialsOptions extends ServiceClientOptions {
  /** Home directory holding `.aws/sso/cache`. */
  readonly homeDir: string
  readonly env: Readonly<Record<string, string | undefined>>
  /** Portal base URL (default `AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL`, then regional). */
  readonly ssoEndpoint?: string
  /** OIDC base URL for token refresh (default `AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL`, then regional). */
  readonly ssoOIDCEndpoint?: string
  readonly now?: () => Date
}

const REFRESH_BEFORE_MS = 5 * 60_000

/**
 * The SSO settings of a profile, checked as the Go SDK's `validateSSOConfiguration` does, or `undefined` when it has
 * none.
 *
 * @throws {CountersignError} ERR_KMS when a setting is missing, the session section does not exist, or the profile's
 *   own `sso_region`/`sso_start_url` disagree with its session's.
 * @example
 * ```ts
 * const sso = ssoConfigOf('dev', shared.profile('dev')!, shared)
 * ```
 */
export function ssoConfigOf(name: string, profile: AWSProfile, shared: AWSSharedConfig): AWSSSOConfig | undefined {
  const sessionName = nonEmpty(profile.sso_session)
  const legacy = ['sso_region', 'sso_account_id', 'sso_start_url', 'sso_role_name'].some((k) => nonEmpty(profile[k]))
  if (sessionName === undefined && !legacy) return undefined
  const missing: string[] = []
  let startUrl = nonEmpty(profile.sso_start_url)
  let region = nonEmpty(profile.sso_region)
  if (sessionName !== undefined) {
    const session = shared.ssoSession(sessionName)
    if (session === undefined) {
      throw bad(
        `AWS profile ${JSON.stringify(name)} names sso_session ${JSON.stringify(sessionName)}, but ${shared.configPath} has no [sso-session ${sessionName}] section`,
      )
    }
    for (const key of ['sso_start_url', 'sso_region'] as const) {
      const own = nonEmpty(profile[key])
      if (own !== undefined && own !== nonEmpty(session[key])) {
        throw bad(`${key} in AWS profile ${JSON.stringify(name)} must match ${key} in [sso-session ${sessionName}]`)
      }
    }
    startUrl = nonEmpty(session.sso_start_url)
    region = nonEmpty(session.sso_region)
  }
  if (startUrl === undefined) missing.push('sso_start_url')
  if (region === undefined) missing.push('sso_region')
  const accountId = nonEmpty(profile.sso_account_id)
  const roleName = nonEmpty(profile.sso_role_name)
  if (accountId === undefined) missing.push('sso_account_id')
  if (roleName === undefined) missing.push('sso_role_name')
  if (missing.length > 0) {
    throw bad(`AWS profile ${JSON.stringify(name)} is configured to use SSO but is missing ${missing.join(', ')}`)
  }
  return {
    profileName: name,
    ...(sessionName !== undefined ? { sessionName } : {}),
    startUrl: startUrl!,
    region: region!,
    accountId: accountId!,
    roleName: roleName!,
  }
}

/**
 * The AWS CLI's token cache file of a session (or legacy start URL): `~/.aws/sso/cache/<sha1 hex>.json`.
 *
 * @example
 * ```ts
 * const file = ssoTokenCachePath('/home/me', 'my-sso') // /home/me/.aws/sso/cache/<sha1>.json
 * ```
 */
export function ssoTokenCachePath(homeDir: string, key: string): string {
  return join(homeDir, '.aws', 'sso', 'cache', `${createHash('sha1').update(key).digest('hex')}.json`)
}

/**
 * Role credentials for an SSO profile, fetched again five minutes before they expire (the token file is read again
 * each time, so a fresh `aws sso login` is picked up).
 *
 * @throws {CountersignError} ERR_KMS (from the provider) with `details.reason: 'sso-token'` when no token is cached
 *   or it has expired and cannot be refreshed: the message says to run `aws sso login`.
 * @example
 * ```ts
 * const credentials = createAWSSSOCredentials(ssoConfigOf('dev', profile, shared)!, { homeDir, env })
 * ```
 */
export function createAWSSSOCredentials(sso: AWSSSOConfig, options: AWSSSOCredentialsOptions): AWSCredentialProvider {
  const env = options.env
  const now = options.now ?? (() => new Date())
  const portal = options.ssoEndpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_SSO) ?? nonEmpty(env.AWS_ENDPOINT_URL)
  const oidc = options.ssoOIDCEndpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_SSO_OIDC) ?? nonEmpty(env.AWS_ENDPOINT_URL)
  const file = ssoTokenCachePath(options.homeDir, sso.sessionName ?? sso.startUrl)
  const login = `run \`aws sso login --profile ${sso.profileName}\``
  const what =
    sso.sessionName !== undefined ? `SSO session ${JSON.stringify(sso.sessionName)}` : `SSO start URL ${sso.startUrl}`
  const tokenError = (why: string, cause?: unknown) =>
    new CountersignError('ERR_KMS', `AWS ${what} (profile ${JSON.stringify(sso.profileName)}): ${why}; ${login}`, {
      ...(cause !== undefined ? { cause } : {}),
      details: { provider: 'aws', reason: 'sso-token' },
    })

  const accessToken = async (signal: AbortSignal | undefined): Promise<string> => {
    let doc: unknown
    try {
      doc = JSON.parse(await readFile(file, 'utf8'))
    } catch (cause) {
      const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT'
      throw tokenError(missing ? `no cached token in ${file}` : `the cached token ${file} is unreadable`)
    }
    const token = isJSONObject(doc) && typeof doc.accessToken === 'string' ? doc.accessToken : ''
    const expiresAt = isJSONObject(doc) && typeof doc.expiresAt === 'string' ? new Date(doc.expiresAt) : undefined
    if (!isJSONObject(doc) || token === '' || expiresAt === undefined || Number.isNaN(expiresAt.getTime())) {
      throw tokenError(`the cached token ${file} lacks accessToken or expiresAt`)
    }
    options.secrets?.addTemporary(token)
    const left = expiresAt.getTime() - now().getTime()
    if (left > REFRESH_BEFORE_MS) return token
    const { clientId, clientSecret, refreshToken } = doc
    const refreshable =
      sso.sessionName !== undefined &&
      typeof clientId === 'string' &&
      typeof clientSecret === 'string' &&
      typeof refreshToken === 'string' &&
      clientId !== '' &&
      clientSecret !== '' &&
      refreshToken !== ''
    if (!refreshable) {
      if (left > 0) return token
      throw tokenError(`the cached token expired at ${expiresAt.toISOString()}`)
    }
    options.secrets?.addTemporary(clientSecret, refreshToken)
    try {
      const fresh = await refreshSSOToken({
        ...options,
        clientId,
        clientSecret,
        refreshToken,
        region: sso.region,
        ...(oidc !== undefined ? { endpoint: oidc } : {}),
        now,
        ...(signal ? { signal } : {}),
      })
      options.secrets?.addTemporary(fresh.accessToken, fresh.refreshToken)
      const updated = {
        ...doc,
        accessToken: fresh.accessToken,
        // RFC 3339 without fractions, as the Go SDK writes it.
        expiresAt: fresh.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...(fresh.refreshToken !== undefined ? { refreshToken: fresh.refreshToken } : {}),
      }
      await storeToken(file, updated).catch(() => {
        // The new token works for this process; the file keeps the old one and the next run refreshes again.
      })
      return fresh.accessToken
    } catch (cause) {
      // Still valid for a while: use it, and try the refresh again next time.
      if (left > 0) return token
      if (cause instanceof CountersignError && cause.details?.reason === 'sso-token')
        throw tokenError('the cached token expired and could not be refreshed', cause)
      throw cause
    }
  }

  const fetchRole: AWSCredentialProvider = async (callOptions) => {
    const signal = callOptions?.signal as AbortSignal | undefined
    const token = await accessToken(signal)
    try {
      return await getSSORoleCredentials({
        ...options,
        accessToken: token,
        accountId: sso.accountId,
        roleName: sso.roleName,
        region: sso.region,
        ...(portal !== undefined ? { endpoint: portal } : {}),
        ...(signal ? { signal } : {}),
      })
    } catch (cause) {
      if (cause instanceof CountersignError && cause.details?.reason === 'sso-token') {
        throw tokenError('the portal refused the cached token', cause)
      }
      throw cause
    }
  }
  return cacheAWSCredentials(fetchRole, { now })
}

/** Replace the cache file atomically, keeping its mode (the CLI writes it 0600). */
async function storeToken(file: string, doc: Record<string, unknown>): Promise<void> {
  const mode = (await stat(file)).mode & 0o777
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`
  await writeFile(tmp, `${JSON.stringify(doc)}\n`, { mode })
  await rename(tmp, file)
}

function bad(message: string): CountersignError {
  return new CountersignError('ERR_KMS', message, { details: { provider: 'aws', reason: 'sso-config' } })
}
