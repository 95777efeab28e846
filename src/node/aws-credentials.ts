/**
 * AWS credentials and region the way the AWS SDK for Go v2 (which cosign uses) finds them: `AWS_ACCESS_KEY_ID`
 * variables, then a web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), then the shared
 * config/credentials files for `AWS_PROFILE` (or `default`). As in the Go SDK, `AWS_PROFILE` does not override
 * access-key variables. Container and instance-metadata credentials are not read.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import type { ServiceClientOptions } from '../http/service.js'
import { type AWSCredentialProvider, type AWSCredentials, awsCredentialsFromEnv } from '../kms/aws/credentials.js'
import { type AWSKMSProvider, type AWSKMSProviderOptions, createAWSKMSProvider } from '../kms/aws/provider.js'
import { createWebIdentityCredentials } from '../kms/aws/web-identity.js'
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
  /** STS base URL for web identity (default `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, then regional STS). */
  readonly stsEndpoint?: string
  /** Clock for the credential cache. */
  readonly now?: () => Date
}

type Profile = Readonly<Record<string, string>>

/**
 * The AWS default credential chain for Node: environment keys, web identity token file, shared config and
 * credentials files (`AWS_PROFILE`, `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`). The source is chosen on the
 * first call; temporary credentials are cached until five minutes before they expire.
 *
 * @param options - Environment, home directory, STS endpoint and HTTP options.
 * @returns A credential provider for `createAWSKMSProvider`.
 * @throws {CountersignError} ERR_KMS (from the provider) when no source has credentials or a profile uses a source
 *   countersign does not implement (`source_profile`, `credential_process`, SSO).
 * @example
 * ```ts
 * import { createAWSNodeCredentials } from 'countersign/node'
 * import { createAWSKMSProvider } from 'countersign/kms/aws'
 * const aws = createAWSKMSProvider({ credentials: createAWSNodeCredentials(), env: process.env })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createAWSNodeCredentials(options: AWSNodeCredentialsOptions = {}): AWSCredentialProvider {
  const env = options.env ?? process.env
  let chosen: Promise<AWSCredentialProvider> | undefined
  const choose = async (): Promise<AWSCredentialProvider> => {
    const fromEnv = awsCredentialsFromEnv(env)
    if (fromEnv !== undefined) return async () => fromEnv
    const tokenFile = nonEmpty(env.AWS_WEB_IDENTITY_TOKEN_FILE)
    if (tokenFile !== undefined) {
      return webIdentity(options, env, tokenFile, nonEmpty(env.AWS_ROLE_ARN), nonEmpty(env.AWS_ROLE_SESSION_NAME))
    }
    const { name, profile } = await loadProfile(options, env)
    if (profile === undefined) return noCredentials(name)
    const accessKeyId = profile.aws_access_key_id
    const secretAccessKey = profile.aws_secret_access_key
    if (accessKeyId && secretAccessKey) {
      const sessionToken = profile.aws_session_token
      const c: AWSCredentials = { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
      return async () => c
    }
    for (const key of ['source_profile', 'credential_source', 'credential_process', 'sso_session', 'sso_start_url']) {
      if (profile[key] !== undefined) {
        return unsupported(`AWS profile ${JSON.stringify(name)} uses ${key}, which countersign does not support`)
      }
    }
    if (profile.web_identity_token_file) {
      return webIdentity(options, env, profile.web_identity_token_file, profile.role_arn, profile.role_session_name)
    }
    return noCredentials(name)
  }
  return async (callOptions) => {
    chosen ??= choose().catch((error) => {
      chosen = undefined
      throw error
    })
    return (await chosen)(callOptions)
  }
}

/**
 * The region for AWS calls: `AWS_REGION`, `AWS_DEFAULT_REGION`, then the profile's `region` in the shared files.
 *
 * @param options - Environment and home directory.
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
  options: Pick<AWSNodeCredentialsOptions, 'env' | 'homeDir'> = {},
): Promise<string | undefined> {
  const env = options.env ?? process.env
  const fromEnv = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION)
  if (fromEnv !== undefined) return fromEnv
  const { profile } = await loadProfile(options, env).catch(() => ({ profile: undefined }))
  return nonEmpty(profile?.region)
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
  const { homeDir: _h, stsEndpoint: _s, ...rest } = options
  return createAWSKMSProvider({
    ...rest,
    env,
    fetch,
    credentials: options.credentials ?? createAWSNodeCredentials({ ...options, env, fetch }),
    region:
      options.region ?? (() => resolveAWSRegion({ env, ...(options.homeDir ? { homeDir: options.homeDir } : {}) })),
  })
}

function webIdentity(
  options: AWSNodeCredentialsOptions,
  env: Readonly<Record<string, string | undefined>>,
  tokenFile: string,
  roleArn: string | undefined,
  roleSessionName: string | undefined,
): AWSCredentialProvider {
  if (roleArn === undefined || roleArn === '') {
    return unsupported('a web identity token file is set but no role ARN (AWS_ROLE_ARN or role_arn)')
  }
  let region: Promise<string | undefined> | undefined
  const endpoint = options.stsEndpoint ?? nonEmpty(env.AWS_ENDPOINT_URL_STS) ?? nonEmpty(env.AWS_ENDPOINT_URL)
  let provider: AWSCredentialProvider | undefined
  return async (callOptions) => {
    region ??= resolveAWSRegion({ env, ...(options.homeDir ? { homeDir: options.homeDir } : {}) })
    const r = await region
    provider ??= createWebIdentityCredentials({
      ...options,
      roleArn,
      ...(roleSessionName ? { roleSessionName } : {}),
      ...(r !== undefined ? { region: r } : {}),
      ...(endpoint !== undefined ? { endpoint } : {}),
      token: async () => {
        try {
          return await readFile(tokenFile, 'utf8')
        } catch (cause) {
          throw new CountersignError('ERR_KMS', `cannot read the web identity token file ${tokenFile}`, {
            cause,
            details: { provider: 'aws', reason: 'web-identity-token' },
          })
        }
      },
    })
    return provider(callOptions)
  }
}

async function loadProfile(
  options: Pick<AWSNodeCredentialsOptions, 'homeDir'>,
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ name: string; profile: Profile | undefined }> {
  const home = options.homeDir ?? (nonEmpty(env.HOME) || homedir())
  const explicit = nonEmpty(env.AWS_PROFILE)
  const name = explicit ?? 'default'
  const configPath = nonEmpty(env.AWS_CONFIG_FILE) ?? join(home, '.aws', 'config')
  const credentialsPath = nonEmpty(env.AWS_SHARED_CREDENTIALS_FILE) ?? join(home, '.aws', 'credentials')
  const config = parseINI(await readOptional(configPath))
  const credentials = parseINI(await readOptional(credentialsPath))
  // config names sections `[profile NAME]` (and `[default]`); the credentials file uses bare `[NAME]`.
  const fromConfig = config.get(`profile ${name}`) ?? (name === 'default' ? config.get('default') : undefined)
  const fromCredentials = credentials.get(name)
  if (fromConfig === undefined && fromCredentials === undefined) {
    if (explicit !== undefined) {
      throw new CountersignError(
        'ERR_KMS',
        `AWS profile ${JSON.stringify(name)} not found in the shared config files`,
        {
          details: { provider: 'aws', reason: 'profile-not-found' },
        },
      )
    }
    return { name, profile: undefined }
  }
  // The credentials file wins over the config file for the same key (both SDKs).
  return { name, profile: { ...(fromConfig ?? {}), ...(fromCredentials ?? {}) } }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
    throw new CountersignError('ERR_KMS', `cannot read AWS shared config file ${path}`, {
      cause: error,
      details: { provider: 'aws', reason: 'config-file' },
    })
  }
}

/** The AWS INI dialect: `[section]`, `key = value`, `#`/`;` comment lines, keys case-insensitive. */
function parseINI(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>()
  let current: Record<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const section = /^\[\s*([^\]]+?)\s*\]$/.exec(line)
    if (section) {
      const name = section[1]!.replace(/\s+/g, ' ')
      current = sections.get(name) ?? {}
      sections.set(name, current)
      continue
    }
    const eq = line.indexOf('=')
    // Lines without `=` and nested sub-properties (indented `key =` under `s3 =`) carry nothing we read.
    if (current === undefined || eq <= 0 || /^\s/.test(raw)) continue
    const key = line.slice(0, eq).trim().toLowerCase()
    const value = line.slice(eq + 1).trim()
    if (!Object.hasOwn(current, key)) current[key] = value
  }
  return sections
}

function noCredentials(profile: string): AWSCredentialProvider {
  return unsupported(
    `no AWS credentials: none in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE or profile ${JSON.stringify(profile)} (container and instance metadata credentials are not supported)`,
  )
}

function unsupported(message: string): AWSCredentialProvider {
  return async () => {
    throw new CountersignError('ERR_KMS', message, { details: { provider: 'aws', reason: 'no-credentials' } })
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim()
  return t === undefined || t === '' ? undefined : t
}
