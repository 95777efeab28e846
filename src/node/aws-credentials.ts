/**
 * AWS credentials and region the way the AWS SDK for Go v2 (which cosign uses) finds them, in the order of its
 * `config/resolve_credentials.go` (resolveCredentialChain, then resolveCredsFromProfile):
 *
 * 1. `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (`AWS_PROFILE` does not override them; the `sharedConfigProfile` option does);
 * 2. a web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`);
 * 3. the shared config/credentials files for `AWS_PROFILE` (or `default`): static keys, `source_profile` /
 *    `credential_source` role chaining, `web_identity_token_file`, SSO, `credential_process`
 *    (`aws-profile-credentials.ts`);
 * 4. container credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `_FULL_URI`), else
 * 5. EC2 instance metadata (IMDSv2).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { clipReason, createSecretSet } from '../http/redact.js'
import type { ServiceClientOptions } from '../http/service.js'
import { type AWSCredentialProvider, awsCredentialsFromEnv, cacheAWSCredentials } from '../kms/aws/credentials.js'
import { type AWSKMSProvider, type AWSKMSProviderOptions, createAWSKMSProvider } from '../kms/aws/provider.js'
import {
  type CredentialSourceListener,
  noCredentialsError,
  type TriedCredentialSource,
} from '../kms/credential-chain.js'
import { type ResolvedAWSSource, webIdentitySource } from './aws-credential-sources.js'
import { type AWSProfileContext, resolveAWSProfile } from './aws-profile-credentials.js'
import {
  type AWSRemoteCredentialsOptions,
  awsContainerCredentialsFromEnv,
  awsInstanceMetadataCredentials,
} from './aws-remote-credentials.js'
import { loadAWSSharedConfig, nonEmpty } from './aws-shared-config.js'
import { createNodeFetch } from './fetch.js'

/**
 * Options for {@link createAWSNodeCredentials} and {@link awsKMSProviderFromEnvironment}.
 *
 * @example
 * ```ts
 * import type { AWSNodeCredentialsOptions } from 'countersign/node'
 * const options: AWSNodeCredentialsOptions = { env: { ...process.env, AWS_PROFILE: 'release' } }
 * ```
 *
 * Exported from `countersign/node`.
 */
export interface AWSNodeCredentialsOptions extends ServiceClientOptions {
  /** Environment (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Home directory for `~/.aws` (default `$HOME`, else the OS home). */
  readonly homeDir?: string
  /**
   * Use this shared-config profile even when `AWS_ACCESS_KEY_ID` is set (the Go SDK's `WithSharedConfigProfile`).
   * `AWS_PROFILE` instead only picks the profile of step 3.
   */
  readonly sharedConfigProfile?: string
  /** STS base URL for web identity and AssumeRole (default `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, regional). */
  readonly stsEndpoint?: string
  /** SSO portal base URL (default `AWS_ENDPOINT_URL_SSO`, `AWS_ENDPOINT_URL`, then `portal.sso.REGION`). */
  readonly ssoEndpoint?: string
  /** SSO OIDC base URL for token refresh (default `AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL`, `oidc.REGION`). */
  readonly ssoOIDCEndpoint?: string
  /**
   * The current code of an MFA device, for profiles with `mfa_serial`. Without it such profiles are refused:
   * countersign does not prompt.
   */
  readonly mfaTokenCode?: (serialNumber: string) => Promise<string>
  /** Time a `credential_process` may run (default 60 s). */
  readonly processTimeoutMs?: number
  /** Told once which source the chain settled on (never a secret). */
  readonly onCredentialSource?: CredentialSourceListener
  /** Clock for the credential caches. */
  readonly now?: () => Date
}

/**
 * The AWS default credential chain for Node, in the AWS SDK for Go v2's order: environment keys, web identity token
 * file, the shared config and credentials files (`AWS_PROFILE`, `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`:
 * static keys, role chaining, SSO, `credential_process`), container credentials, then EC2 instance metadata. The
 * source is chosen on the first call and reported to `onCredentialSource`; temporary credentials are fetched again
 * five minutes before they expire.
 *
 * @param options - Environment, home directory, endpoints, MFA code source, listener and HTTP options.
 * @returns A credential provider for `createAWSKMSProvider`.
 * @throws {CountersignError} ERR_KMS (from the provider) when no source has credentials (the message lists every
 *   source tried, in order, with why it was passed over; `details.reason: 'no-credentials'`), a profile is
 *   misconfigured, or the chosen source fails.
 * @example
 * ```ts
 * import { createAWSNodeCredentials } from 'countersign/node'
 * import { createAWSKMSProvider } from 'countersign/kms/aws'
 * const credentials = createAWSNodeCredentials({ onCredentialSource: (r) => console.error(r.source, r.detail) })
 * const aws = createAWSKMSProvider({ credentials, env: process.env })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createAWSNodeCredentials(options: AWSNodeCredentialsOptions = {}): AWSCredentialProvider {
  const env = options.env ?? process.env
  const withEnv: AWSNodeCredentialsOptions = { ...options, env }
  let chosen: Promise<{ source: ResolvedAWSSource; lastResort?: TriedCredentialSource[] }> | undefined
  let settled = false
  const choose = async () => {
    const tried: TriedCredentialSource[] = []
    const shared = await loadAWSSharedConfig(options, env)
    const explicit = options.sharedConfigProfile ?? nonEmpty(env.AWS_PROFILE)
    const profileName = explicit ?? 'default'
    // The selected profile's ec2_metadata_* settings apply to instance metadata (Go: the profile's SharedConfig).
    const remote: AWSRemoteCredentialsOptions = { ...withEnv, profile: shared.profile(profileName) ?? {} }
    const container = (): ResolvedAWSSource | undefined => {
      const provider = awsContainerCredentialsFromEnv(remote)
      return provider && { provider, source: 'container', label: 'container' }
    }
    const instanceMetadata = (): ResolvedAWSSource | undefined => {
      const provider = awsInstanceMetadataCredentials(remote)
      return provider && { provider, source: 'ec2 instance metadata', label: 'ec2 instance metadata' }
    }
    const ctx: AWSProfileContext = {
      options: withEnv,
      env,
      region:
        nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? nonEmpty(shared.profile(profileName)?.region),
      stsEndpoint: options.stsEndpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_STS) ?? nonEmpty(env.AWS_ENDPOINT_URL),
      shared,
      fallback: () => container() ?? instanceMetadata(),
      container: () => container()?.provider,
      instanceMetadata: () => instanceMetadata()?.provider,
    }
    // Go: a profile chosen in code (not AWS_PROFILE) comes before the environment's keys.
    if (options.sharedConfigProfile === undefined) {
      const keys = awsCredentialsFromEnv(env)
      if (keys !== undefined) {
        return {
          source: {
            provider: async () => keys,
            source: 'environment',
            detail: 'AWS_ACCESS_KEY_ID',
            label: 'environment',
          },
        }
      }
      tried.push({ source: 'environment', reason: 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set' })
      const tokenFile = nonEmpty(env.AWS_WEB_IDENTITY_TOKEN_FILE)
      if (tokenFile !== undefined) {
        return {
          source: webIdentitySource(ctx, tokenFile, nonEmpty(env.AWS_ROLE_ARN), nonEmpty(env.AWS_ROLE_SESSION_NAME)),
        }
      }
      tried.push({ source: 'web identity', reason: 'AWS_WEB_IDENTITY_TOKEN_FILE not set' })
    }
    if (shared.profile(profileName) === undefined) {
      if (explicit !== undefined) {
        throw new CountersignError(
          'ERR_KMS',
          `AWS profile ${JSON.stringify(profileName)} not found in the shared config files`,
          {
            details: { provider: 'aws', reason: 'profile-not-found' },
          },
        )
      }
      tried.push({
        source: `profile ${profileName}`,
        reason: `not in ${shared.configPath} or ${shared.credentialsPath}`,
      })
    } else {
      const fromProfile = resolveAWSProfile(profileName, ctx)
      if (fromProfile !== undefined) return { source: fromProfile }
      tried.push({
        source: `profile ${profileName}`,
        reason: 'sets no credentials (keys, role_arn, sso, credential_process)',
      })
    }
    const fromContainer = container()
    if (fromContainer !== undefined) return { source: fromContainer }
    tried.push({
      source: 'container',
      reason: 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI not set',
    })
    const fromIMDS = instanceMetadata()
    if (fromIMDS === undefined) {
      tried.push({ source: 'ec2 instance metadata', reason: 'disabled (AWS_EC2_METADATA_DISABLED)' })
      throw noCredentials(tried)
    }
    // The last resort: when it does not answer either, the error lists everything tried.
    return { source: fromIMDS, lastResort: tried }
  }
  let provider: AWSCredentialProvider | undefined
  return async (callOptions) => {
    chosen ??= choose().catch((error) => {
      chosen = undefined
      throw error
    })
    const { source, lastResort } = await chosen
    provider ??= cacheAWSCredentials(source.provider, options.now ? { now: options.now } : {})
    let credentials: Awaited<ReturnType<AWSCredentialProvider>>
    try {
      credentials = await provider(callOptions)
    } catch (error) {
      if (settled || lastResort === undefined) throw error
      chosen = undefined
      provider = undefined
      const why = error instanceof Error ? error.message : String(error)
      throw noCredentials([
        ...lastResort,
        { source: source.source, reason: clipReason(why, options.secrets ?? createSecretSet(), 300) },
      ])
    }
    if (!settled) {
      settled = true
      options.onCredentialSource?.({
        provider: 'aws',
        source: source.source,
        ...(source.detail !== undefined ? { detail: source.detail } : {}),
      })
    }
    return credentials
  }
}

/**
 * The region for AWS calls: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region` in the shared files.
 *
 * @param options - Environment, home directory and profile.
 * @returns The region, or `undefined` when none is configured.
 * @example
 * ```ts
 * import { resolveAWSRegion } from 'countersign/node'
 * const region = await resolveAWSRegion()
 * ```
 *
 * Exported from `countersign/node`.
 */
export async function resolveAWSRegion(
  options: Pick<AWSNodeCredentialsOptions, 'env' | 'homeDir' | 'sharedConfigProfile'> = {},
): Promise<string | undefined> {
  const env = options.env ?? process.env
  const fromEnv = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION)
  if (fromEnv !== undefined) return fromEnv
  const shared = await loadAWSSharedConfig(options, env).catch(() => undefined)
  return nonEmpty(shared?.profile(options.sharedConfigProfile ?? nonEmpty(env.AWS_PROFILE) ?? 'default')?.region)
}

/**
 * The `awskms` provider configured the way the AWS CLI and cosign are: credentials from
 * {@link createAWSNodeCredentials}, region from {@link resolveAWSRegion}, endpoints from `AWS_ENDPOINT_URL_KMS`/
 * `AWS_ENDPOINT_URL`, and Node's fetch (proxies; `AWS_TLS_INSECURE_SKIP_VERIFY=1` turns TLS verification off, as in
 * cosign).
 *
 * @param options - Environment and overrides of the provider options.
 * @returns The provider for `awskms://` references.
 * @example
 * ```ts
 * import { awsKMSProviderFromEnvironment } from 'countersign/node'
 * const aws = awsKMSProviderFromEnvironment({ env: process.env })
 * const signer = await aws.createSigner('awskms:///alias/release')
 * ```
 *
 * Exported from `countersign/node`.
 */
export function awsKMSProviderFromEnvironment(
  options: AWSNodeCredentialsOptions & Omit<AWSKMSProviderOptions, 'env'> = {},
): AWSKMSProvider {
  const env = options.env ?? process.env
  const fetch =
    options.fetch ?? createNodeFetch({ env, insecureSkipTLSVerify: env.AWS_TLS_INSECURE_SKIP_VERIFY === '1' })
  // One set for the chain's clients and KMS's: a session token STS issued is redacted from KMS errors too.
  const secrets = options.secrets ?? createSecretSet()
  const {
    homeDir: _h,
    stsEndpoint: _s,
    ssoEndpoint: _e,
    ssoOIDCEndpoint: _o,
    sharedConfigProfile: _p,
    mfaTokenCode: _m,
    processTimeoutMs: _t,
    onCredentialSource: _l,
    ...rest
  } = options
  return createAWSKMSProvider({
    ...rest,
    env,
    fetch,
    secrets,
    credentials: options.credentials ?? createAWSNodeCredentials({ ...options, env, fetch, secrets }),
    region:
      options.region ??
      (() =>
        resolveAWSRegion({
          env,
          ...(options.homeDir ? { homeDir: options.homeDir } : {}),
          ...(options.sharedConfigProfile ? { sharedConfigProfile: options.sharedConfigProfile } : {}),
        })),
  })
}

function noCredentials(tried: readonly TriedCredentialSource[]): CountersignError {
  const error = noCredentialsError('AWS', tried)
  return new CountersignError('ERR_KMS', error.message, {
    details: { provider: 'aws', reason: 'no-credentials', tried: tried.map((t) => t.source) },
  })
}
