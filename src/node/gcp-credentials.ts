/**
 * Google Application Default Credentials in Node: the credential file named by `GOOGLE_APPLICATION_CREDENTIALS`,
 * else gcloud's `application_default_credentials.json`, else the metadata server, in the order of Google's Go
 * client (`golang.org/x/oauth2/google.FindDefaultCredentials`), which cosign uses. Files may hold any type the Go
 * client reads (service accounts, users, workload identity federation, impersonation); `external_account` files get
 * Node's file reader and executable runner. The chain reports the source it settles on and, when none has
 * credentials, names every source it tried.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import { createSecretSet } from '../http/redact.js'
import type { AccessTokenSource } from '../kms/access-token.js'
import {
  type CredentialSourceListener,
  noCredentialsError,
  type TriedCredentialSource,
} from '../kms/credential-chain.js'
import {
  createGCPCredentialsFromJSON,
  createGCPMetadataCredentials,
  describeGCPCredentials,
  type GCPCredentialOptions,
} from '../kms/gcp/credentials.js'
import { gcpKMSEndpointFromEnvironment } from '../kms/gcp/endpoint-override.js'
import { createGCPKMSProvider, type GCPKMSProvider, type GCPKMSProviderOptions } from '../kms/gcp/provider.js'
import type { KMSEnvironment } from '../kms/types.js'
import { createGCPExecutableRunner, readGCPCredentialSourceFile } from './gcp-external-account.js'

/** The provider name in {@link CredentialSourceListener} reports. */
const REPORTED_PROVIDER = 'gcp'
const CHAIN_NAME = 'Google Cloud'

/**
 * Options for {@link createGoogleDefaultCredentials}.
 *
 * Exported from `countersign/node`.
 */
export interface GoogleDefaultCredentialsOptions extends GCPCredentialOptions {
  /** Environment (default `process.env`). */
  readonly env?: KMSEnvironment
  /** Told which source the chain settled on (`{ provider: 'gcp', source, detail }`); never given a secret. */
  readonly onCredentialSource?: CredentialSourceListener
}

/** gcloud's well-known ADC file: `$CLOUDSDK_CONFIG`, `%APPDATA%\gcloud` on Windows, else `~/.config/gcloud`. */
function wellKnownFile(env: KMSEnvironment): string {
  const dir =
    env.CLOUDSDK_CONFIG ||
    (process.platform === 'win32' && env.APPDATA
      ? join(env.APPDATA, 'gcloud')
      : join(env.HOME || homedir(), '.config', 'gcloud'))
  return join(dir, 'application_default_credentials.json')
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new CountersignError('ERR_INVALID_INPUT', `cannot read Google credentials file ${path}`, { cause: e })
  }
}

/**
 * Application Default Credentials as a token source. The source is chosen on first use: the file in
 * `GOOGLE_APPLICATION_CREDENTIALS` (which must exist), else gcloud's ADC file if present, else the metadata server
 * (`GCE_METADATA_HOST`). Files may hold `service_account`, `authorized_user`, `external_account` (credential source
 * `file`, `url` or `executable`; executables only with `GOOGLE_EXTERNAL_ACCOUNT_ALLOW_EXECUTABLES=1`),
 * `external_account_authorized_user` or `impersonated_service_account` credentials.
 *
 * @param options - Environment, fetch, retries, clock, secret set and the source listener.
 * @returns A {@link AccessTokenSource | BearerTokenSource} for `createGCPKMSProvider({ credentials })`.
 * @throws {CountersignError} (from the source) ERR_KMS naming every source tried when none has credentials;
 *   ERR_INVALID_INPUT when `GOOGLE_APPLICATION_CREDENTIALS` names a missing or malformed file.
 * @example
 * ```ts
 * import { createGCPKMSProvider } from 'countersign/kms/gcp'
 * import { createGoogleDefaultCredentials } from 'countersign/node'
 * const kms = createGCPKMSProvider({ credentials: createGoogleDefaultCredentials() })
 * ```
 *
 * Exported from `countersign/node`.
 */
export function createGoogleDefaultCredentials(options: GoogleDefaultCredentialsOptions = {}): AccessTokenSource {
  return defaultCredentialsChain(options, [])
}

/** ADC after the sources in `before` (which the caller already passed over). */
function defaultCredentialsChain(
  options: GoogleDefaultCredentialsOptions,
  before: readonly TriedCredentialSource[],
): AccessTokenSource {
  const env = options.env ?? process.env
  const { onCredentialSource, ...rest } = options
  const hosted: GCPCredentialOptions = {
    ...rest,
    env,
    readFile: options.readFile ?? readGCPCredentialSourceFile,
    runExecutable: options.runExecutable ?? createGCPExecutableRunner({ env }),
  }
  const fromFile = (text: string, where: string): AccessTokenSource => {
    const source = createGCPCredentialsFromJSON(text, hosted)
    const { type, detail } = describeGCPCredentials(text)
    onCredentialSource?.({ provider: REPORTED_PROVIDER, source: type, detail: detail ? `${where}; ${detail}` : where })
    return source
  }
  let chosen: Promise<AccessTokenSource> | undefined
  const choose = async (): Promise<AccessTokenSource> => {
    const tried = [...before]
    const named = env.GOOGLE_APPLICATION_CREDENTIALS
    if (named) {
      // As in the Go client, a named file that cannot be used is an error, not a reason to look further.
      const text = await readIfExists(named)
      if (text === undefined) {
        throw new CountersignError('ERR_INVALID_INPUT', `GOOGLE_APPLICATION_CREDENTIALS names a missing file: ${named}`)
      }
      return fromFile(text, `GOOGLE_APPLICATION_CREDENTIALS ${named}`)
    }
    tried.push({ source: 'GOOGLE_APPLICATION_CREDENTIALS', reason: 'not set' })
    const wellKnown = wellKnownFile(env)
    const text = await readIfExists(wellKnown)
    if (text !== undefined) return fromFile(text, `gcloud application default credentials ${wellKnown}`)
    tried.push({ source: 'gcloud application default credentials', reason: `${wellKnown} does not exist` })
    const host = env.GCE_METADATA_HOST || 'metadata.google.internal'
    const metadata = createGCPMetadataCredentials({ ...rest, env })
    tried.push({ source: 'metadata server', reason: `nothing answered at ${host} (not on Google Cloud)` })
    let reported = false
    return async (call) => {
      try {
        const token = await metadata(call)
        if (!reported) onCredentialSource?.({ provider: REPORTED_PROVIDER, source: 'metadata server', detail: host })
        reported = true
        return token
      } catch (e) {
        if (!(e instanceof CountersignError && e.details?.reason === 'no-credentials')) throw e
        // Look again next time: a credentials file may have appeared since.
        chosen = undefined
        throw noCredentialsError(CHAIN_NAME, tried)
      }
    }
  }
  return async (call) => {
    chosen ??= choose().catch((e) => {
      chosen = undefined
      throw e
    })
    return (await chosen)(call)
  }
}

/**
 * Options for {@link gcpKMSProviderFromEnvironment}.
 *
 * Exported from `countersign/node`.
 */
export interface GCPKMSProviderFromEnvironmentOptions extends GCPKMSProviderOptions {
  /** Environment (default `process.env`). */
  readonly env?: KMSEnvironment
  /** Told which source the chain settled on (`{ provider: 'gcp', source, detail }`); never given a secret. */
  readonly onCredentialSource?: CredentialSourceListener
}

/**
 * The Google Cloud KMS provider with Node's credential chain: `accessToken`/`credentials` options, then
 * `GOOGLE_OAUTH_ACCESS_TOKEN`, then Application Default Credentials ({@link createGoogleDefaultCredentials}). The
 * endpoint is the `endpoint` option, else gcloud's `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS`, else Cloud KMS's
 * public endpoint.
 *
 * @param options - Provider options; `env` defaults to `process.env`.
 * @returns The provider for `gcpkms://` references.
 * @throws {CountersignError} ERR_INVALID_INPUT when `CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDKMS` is malformed.
 * @example
 * ```ts
 * import { gcpKMSProviderFromEnvironment } from 'countersign/node'
 * const kms = gcpKMSProviderFromEnvironment({ onCredentialSource: (r) => console.error(r.source, r.detail) })
 * const signer = await kms.createSigner('gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/versions/1')
 * ```
 *
 * Exported from `countersign/node`.
 */
export function gcpKMSProviderFromEnvironment(options: GCPKMSProviderFromEnvironmentOptions = {}): GCPKMSProvider {
  const { onCredentialSource, ...providerOptions } = options
  const env = options.env ?? process.env
  // One set for the provider and the chain: a token the chain learns is redacted from the provider's errors too.
  const secrets = options.secrets ?? createSecretSet()
  const endpoint = options.endpoint ?? gcpKMSEndpointFromEnvironment(env)
  const base = { ...providerOptions, env, secrets, ...(endpoint !== undefined ? { endpoint } : {}) }
  const fixed =
    options.accessToken !== undefined
      ? 'accessToken option'
      : options.credentials
        ? 'credentials option'
        : env.GOOGLE_OAUTH_ACCESS_TOKEN
          ? 'GOOGLE_OAUTH_ACCESS_TOKEN'
          : undefined
  if (fixed !== undefined) {
    onCredentialSource?.({ provider: REPORTED_PROVIDER, source: fixed })
    return createGCPKMSProvider(base)
  }
  const { fetch, retry, timeoutMs, userAgent, sleep, now } = options
  const credentials = defaultCredentialsChain(
    {
      env,
      secrets,
      ...(fetch ? { fetch } : {}),
      ...(retry ? { retry } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(userAgent !== undefined ? { userAgent } : {}),
      ...(sleep ? { sleep } : {}),
      ...(now ? { now } : {}),
      ...(onCredentialSource ? { onCredentialSource } : {}),
    },
    [{ source: 'GOOGLE_OAUTH_ACCESS_TOKEN', reason: 'not set' }],
  )
  return createGCPKMSProvider({ ...base, credentials })
}
