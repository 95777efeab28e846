/**
 * Google Application Default Credentials in Node: the credential file named by `GOOGLE_APPLICATION_CREDENTIALS`,
 * else gcloud's `application_default_credentials.json`, else the metadata server, in the order of Google's Go
 * client (`golang.org/x/oauth2/google.FindDefaultCredentials`), which cosign uses.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import type { AccessTokenSource } from '../kms/access-token.js'
import {
  createGCPCredentialsFromJSON,
  createGCPMetadataCredentials,
  type GCPCredentialOptions,
} from '../kms/gcp/credentials.js'
import { createGCPKMSProvider, type GCPKMSProvider, type GCPKMSProviderOptions } from '../kms/gcp/provider.js'
import type { KMSEnvironment } from '../kms/types.js'

/**
 * Options for {@link createGoogleDefaultCredentials}.
 *
 * Exported from `countersign/node`.
 */
export interface GoogleDefaultCredentialsOptions extends GCPCredentialOptions {
  /** Environment (default `process.env`). */
  readonly env?: KMSEnvironment
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
 * (`GCE_METADATA_HOST`). Files may hold `service_account` or `authorized_user` credentials.
 *
 * @param options - Environment, fetch, retries and clock.
 * @returns A {@link AccessTokenSource | BearerTokenSource} for `createGCPKMSProvider({ credentials })`.
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
  const env = options.env ?? process.env
  let chosen: Promise<AccessTokenSource> | undefined
  const choose = async (): Promise<AccessTokenSource> => {
    const named = env.GOOGLE_APPLICATION_CREDENTIALS
    if (named) {
      const text = await readIfExists(named)
      if (text === undefined) {
        throw new CountersignError('ERR_INVALID_INPUT', `GOOGLE_APPLICATION_CREDENTIALS names a missing file: ${named}`)
      }
      return createGCPCredentialsFromJSON(text, options)
    }
    const text = await readIfExists(wellKnownFile(env))
    if (text !== undefined) return createGCPCredentialsFromJSON(text, options)
    return createGCPMetadataCredentials({ ...options, env })
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
}

/**
 * The Google Cloud KMS provider with Node's credential chain: `accessToken`/`credentials` options, then
 * `GOOGLE_OAUTH_ACCESS_TOKEN`, then Application Default Credentials ({@link createGoogleDefaultCredentials}).
 *
 * @param options - Provider options; `env` defaults to `process.env`.
 * @returns The provider for `gcpkms://` references.
 * @example
 * ```ts
 * import { gcpKMSProviderFromEnvironment } from 'countersign/node'
 * const kms = gcpKMSProviderFromEnvironment()
 * const signer = await kms.createSigner('gcpkms://projects/p/locations/global/keyRings/r/cryptoKeys/k/versions/1')
 * ```
 *
 * Exported from `countersign/node`.
 */
export function gcpKMSProviderFromEnvironment(options: GCPKMSProviderFromEnvironmentOptions = {}): GCPKMSProvider {
  const env = options.env ?? process.env
  if (options.accessToken !== undefined || options.credentials || env.GOOGLE_OAUTH_ACCESS_TOKEN) {
    return createGCPKMSProvider({ ...options, env })
  }
  const { fetch, retry, timeoutMs, userAgent, sleep, now } = options
  const credentials = createGoogleDefaultCredentials({
    env,
    ...(fetch ? { fetch } : {}),
    ...(retry ? { retry } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(userAgent !== undefined ? { userAgent } : {}),
    ...(sleep ? { sleep } : {}),
    ...(now ? { now } : {}),
  })
  return createGCPKMSProvider({ ...options, env, credentials })
}
