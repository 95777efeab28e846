/** The Vault transit provider with the Vault CLI's Node-side conventions: `~/.vault-token`, TLS variables. @module */
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { CountersignError } from '../errors.js'
import {
  createHashiVaultKMSProvider,
  type HashiVaultAppRole,
  type HashiVaultKMSOptions,
  type HashiVaultKMSProvider,
} from '../kms/hashivault/index.js'
import type { KMSEnvironment } from '../kms/types.js'
import { createNodeFetch } from './fetch.js'

/**
 * Options for {@link hashiVaultKMSProviderFromEnvironment}: everything {@link HashiVaultKMSOptions} takes, with
 * `env` defaulting to `process.env`.
 *
 * Exported from `countersign/node`.
 */
export interface HashiVaultEnvironmentOptions extends Omit<HashiVaultKMSOptions, 'env'> {
  /** Environment (default `process.env`). */
  readonly env?: KMSEnvironment
  /** Home directory holding `.vault-token` (default `os.homedir()`). */
  readonly homeDir?: string
}

/** Go's strconv.ParseBool truth values, as the Vault client reads VAULT_SKIP_VERIFY. */
function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v.trim())
}

/** The `~/.vault-token` file `vault login` writes (the default token helper); undefined when absent or empty. */
async function readTokenFile(path: string): Promise<string | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    // The message names the file, never its content.
    throw new CountersignError('ERR_INVALID_INPUT', `reading the Vault token file ${path} failed`, {
      cause,
      details: { provider: 'hashivault', reason: 'token-file' },
    })
  }
  const token = text.trim()
  return token === '' ? undefined : token
}

/**
 * The HashiCorp Vault / OpenBao transit provider configured the way the Vault CLI is: `VAULT_ADDR` (or `BAO_ADDR`),
 * `VAULT_NAMESPACE`, `TRANSIT_SECRET_ENGINE_PATH`, `VAULT_KEY_PREFIX`; the token from `VAULT_TOKEN` (or
 * `BAO_TOKEN`), else an AppRole login with `VAULT_ROLE_ID` + `VAULT_SECRET_ID` (mount `VAULT_APPROLE_MOUNT`, default
 * `approle`; countersign's own variables), else the `~/.vault-token` file `vault login` writes. TLS follows
 * `VAULT_CACERT`, `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY` and `VAULT_SKIP_VERIFY`, unless `fetch` is given.
 *
 * @param options - Overrides; explicit `token`/`appRole` win over the environment.
 * @returns The provider.
 * @example
 * ```ts
 * import { createKMSSigner } from 'countersign/kms'
 * import { hashiVaultKMSProviderFromEnvironment } from 'countersign/node'
 * const signer = await createKMSSigner('hashivault://release', [hashiVaultKMSProviderFromEnvironment()])
 * ```
 *
 * Exported from `countersign/node`.
 */
export function hashiVaultKMSProviderFromEnvironment(
  options: HashiVaultEnvironmentOptions = {},
): HashiVaultKMSProvider {
  const { homeDir, ...rest } = options
  const env = options.env ?? process.env
  const envToken = [env.VAULT_TOKEN, env.BAO_TOKEN].some((t) => t !== undefined && t !== '')
  let appRole: HashiVaultAppRole | undefined = options.appRole
  if (appRole === undefined && options.token === undefined && !envToken && env.VAULT_ROLE_ID && env.VAULT_SECRET_ID) {
    appRole = {
      roleId: env.VAULT_ROLE_ID,
      secretId: env.VAULT_SECRET_ID,
      ...(env.VAULT_APPROLE_MOUNT ? { mountPath: env.VAULT_APPROLE_MOUNT } : {}),
    }
  }
  let fetchFn = options.fetch
  const cert = env.VAULT_CLIENT_CERT || undefined
  const key = env.VAULT_CLIENT_KEY || undefined
  if (fetchFn === undefined && (env.VAULT_CACERT || cert || key || truthy(env.VAULT_SKIP_VERIFY))) {
    fetchFn = createNodeFetch({
      env,
      ...(env.VAULT_CACERT ? { caFile: env.VAULT_CACERT } : {}),
      ...(cert !== undefined && key !== undefined ? { certFile: cert, keyFile: key } : {}),
      ...(truthy(env.VAULT_SKIP_VERIFY) ? { insecureSkipTLSVerify: true } : {}),
    })
  }
  const tokenFile = join(homeDir ?? homedir(), '.vault-token')
  return createHashiVaultKMSProvider({
    ...rest,
    env,
    ...(appRole !== undefined ? { appRole } : {}),
    ...(fetchFn !== undefined ? { fetch: fetchFn } : {}),
    tokenSource: options.tokenSource ?? (() => readTokenFile(tokenFile)),
  })
}
