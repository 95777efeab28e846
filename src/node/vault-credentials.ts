/**
 * The Vault transit provider with the Vault CLI's Node-side conventions: the credential chain (`VAULT_TOKEN`, the
 * auth method of `VAULT_AUTH_METHOD`, the token helper of `~/.vault`, `~/.vault-token`) and the TLS variables.
 * @module
 */
import { homedir } from 'node:os'
import {
  createHashiVaultKMSProvider,
  type HashiVaultKMSOptions,
  type HashiVaultKMSProvider,
} from '../kms/hashivault/index.js'
import type { KMSEnvironment } from '../kms/types.js'
import { createNodeFetch } from './fetch.js'
import { vaultAuthMethodSource } from './vault-auth-env.js'
import { vaultTokenHelperSources } from './vault-token-helper.js'

/**
 * Options for {@link hashiVaultKMSProviderFromEnvironment}: everything {@link HashiVaultKMSOptions} takes (with
 * `onCredentialSource` to learn which source gave the token), with `env` defaulting to `process.env`. Giving
 * `credentialSources` replaces the Node sources (auth method, token helper, `~/.vault-token`).
 *
 * Exported from `countersign/node`.
 */
export interface HashiVaultEnvironmentOptions extends Omit<HashiVaultKMSOptions, 'env'> {
  /** Environment (default `process.env`). */
  readonly env?: KMSEnvironment
  /** Home directory holding `.vault` and `.vault-token` (default `os.homedir()`). */
  readonly homeDir?: string
}

/** Go's strconv.ParseBool truth values, as the Vault client reads VAULT_SKIP_VERIFY. */
function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v.trim())
}

/**
 * The HashiCorp Vault / OpenBao transit provider configured the way the Vault CLI is: `VAULT_ADDR` (or `BAO_ADDR`),
 * `VAULT_NAMESPACE`, `TRANSIT_SECRET_ENGINE_PATH`, `VAULT_KEY_PREFIX`. The token comes from the first source that
 * has one: `VAULT_TOKEN` (or `BAO_TOKEN`); the login `VAULT_AUTH_METHOD` configures (`jwt` with `VAULT_AUTH_ROLE`,
 * `VAULT_AUTH_PATH` and the JWT from `VAULT_AUTH_JWT`, `VAULT_AUTH_JWT_FILE` or GitHub Actions; `kubernetes` with
 * the pod's service-account token; `approle` with `VAULT_ROLE_ID` + `VAULT_SECRET_ID`, also selected by those two
 * alone); the token helper `~/.vault` (or `VAULT_CONFIG_PATH`) names; the `~/.vault-token` file `vault login`
 * writes. Login tokens are renewed before their lease ends. TLS follows `VAULT_CACERT`,
 * `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY` and `VAULT_SKIP_VERIFY`, unless `fetch` is given.
 *
 * @param options - Overrides; explicit `token`, `appRole` and `login` win over the environment.
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
  const credentialSources = options.credentialSources ?? [
    // GitHub's token endpoint is not Vault: it gets the caller's fetch, never the one built for Vault's TLS.
    vaultAuthMethodSource({
      env,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.secrets ? { secrets: options.secrets } : {}),
    }),
    ...vaultTokenHelperSources({ env, homeDir: homeDir ?? homedir() }),
  ]
  return createHashiVaultKMSProvider({
    ...rest,
    env,
    ...(fetchFn !== undefined ? { fetch: fetchFn } : {}),
    credentialSources,
  })
}
