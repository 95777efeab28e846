/**
 * The Vault auth method a process is configured for by its environment, as a credential source of the Vault
 * provider's chain (after `VAULT_TOKEN`, before the token helper and `~/.vault-token`):
 *
 * | `VAULT_AUTH_METHOD` | Login | Inputs |
 * |---|---|---|
 * | `jwt` | JWT/OIDC auth, `auth/<VAULT_AUTH_PATH or jwt>/login` | `VAULT_AUTH_ROLE` (optional), the JWT from `VAULT_AUTH_JWT`, else the file `VAULT_AUTH_JWT_FILE`, else GitHub Actions (`ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`, audience `VAULT_AUTH_JWT_AUDIENCE`) |
 * | `kubernetes` | Kubernetes auth, `auth/<VAULT_AUTH_PATH or kubernetes>/login` | `VAULT_AUTH_ROLE`, the service-account token file (`VAULT_AUTH_JWT_FILE`, default `/var/run/secrets/kubernetes.io/serviceaccount/token`), read again at each login |
 * | `approle` (or unset with both AppRole variables) | AppRole, `auth/<VAULT_AUTH_PATH, VAULT_APPROLE_MOUNT or approle>/login` | `VAULT_ROLE_ID`, `VAULT_SECRET_ID` |
 * | `token` | none: tokens only | |
 *
 * `VAULT_AUTH_ROLE` and `VAULT_AUTH_PATH` are the names GitLab CI's Vault integration reads (`secrets:vault`);
 * `VAULT_AUTH_METHOD` is the name bank-vaults' vault-env reads. Internal to `countersign/node`.
 *
 * @module
 */
import { readFile } from 'node:fs/promises'
import { CountersignError } from '../errors.js'
import type { SecretSet } from '../http/redact.js'
import type { FetchFunction } from '../internal/host-types.js'
import type { HashiVaultCredential, HashiVaultCredentialSource, HashiVaultLogin } from '../kms/hashivault/index.js'
import type { KMSEnvironment } from '../kms/types.js'
import { githubActionsIdentityToken } from '../oidc/providers.js'

/** Where Kubernetes mounts a pod's service-account token (Vault's `api/auth/kubernetes` default too). */
export const KUBERNETES_SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/** Options of {@link vaultAuthMethodSource}. */
export interface VaultAuthMethodOptions {
  readonly env: KMSEnvironment
  /** Transport for the GitHub Actions token endpoint (default `globalThis.fetch`). */
  readonly fetch?: FetchFunction
  /** The process's secret set: JWTs fetched from GitHub join it. */
  readonly secrets?: SecretSet
}

function invalid(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, {
    details: { provider: 'hashivault', reason: 'auth-method' },
  })
}

function set(v: string | undefined): v is string {
  return v !== undefined && v.trim() !== ''
}

/** A JWT read from `file` at every call; the file's content is never quoted, only its path. */
function jwtFromFile(file: string): () => Promise<string> {
  return async () => {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', `reading the JWT file ${file} for the Vault login failed`, {
        cause,
        details: { provider: 'hashivault', reason: 'jwt-file' },
      })
    }
    return text.trim()
  }
}

/** GitHub's default `aud` for Actions tokens is the URL of the repository owner; vault-action relies on it too. */
function githubDefaultAudience(env: KMSEnvironment): string | undefined {
  const owner = env.GITHUB_REPOSITORY_OWNER
  if (!set(owner)) return undefined
  return `${(env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '')}/${owner}`
}

function jwtLogin(options: VaultAuthMethodOptions, role: string | undefined, mount: string | undefined) {
  const { env } = options
  const base = { method: 'jwt' as const, ...(role ? { role } : {}), ...(mount ? { mountPath: mount } : {}) }
  if (set(env.VAULT_AUTH_JWT)) return { ...base, jwt: env.VAULT_AUTH_JWT.trim(), jwtSource: 'VAULT_AUTH_JWT' }
  if (set(env.VAULT_AUTH_JWT_FILE)) {
    return { ...base, jwt: jwtFromFile(env.VAULT_AUTH_JWT_FILE), jwtSource: env.VAULT_AUTH_JWT_FILE }
  }
  if (set(env.ACTIONS_ID_TOKEN_REQUEST_URL) && set(env.ACTIONS_ID_TOKEN_REQUEST_TOKEN)) {
    const audience = set(env.VAULT_AUTH_JWT_AUDIENCE) ? env.VAULT_AUTH_JWT_AUDIENCE : githubDefaultAudience(env)
    if (audience === undefined) {
      throw invalid(
        "VAULT_AUTH_METHOD=jwt in GitHub Actions needs VAULT_AUTH_JWT_AUDIENCE (the role's bound_audiences) when GITHUB_REPOSITORY_OWNER is not set",
      )
    }
    const provider = githubActionsIdentityToken({
      env,
      audience,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.secrets ? { secrets: options.secrets } : {}),
    })
    return { ...base, jwt: provider, jwtSource: `GitHub Actions, audience ${audience}` }
  }
  return undefined
}

async function kubernetesLogin(
  env: KMSEnvironment,
  role: string | undefined,
  mount: string | undefined,
): Promise<HashiVaultCredential> {
  if (!set(role)) throw invalid('VAULT_AUTH_METHOD=kubernetes needs VAULT_AUTH_ROLE (the Vault role to log in as)')
  const explicit = set(env.VAULT_AUTH_JWT_FILE)
  const file = explicit ? env.VAULT_AUTH_JWT_FILE! : KUBERNETES_SERVICE_ACCOUNT_TOKEN
  if (!explicit) {
    // Outside a pod the default file is absent: pass over the source, as for a missing ~/.vault-token.
    try {
      await readFile(file)
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return { skip: `${file} not found (not in a pod?)` }
    }
  }
  const login: HashiVaultLogin = {
    method: 'kubernetes',
    role,
    ...(mount ? { mountPath: mount } : {}),
    jwt: jwtFromFile(file),
    jwtSource: file,
  }
  return { login }
}

/**
 * The auth method of `VAULT_AUTH_METHOD` (see the module table) as a credential source. The environment is read
 * when the source is made; a bad configuration (an unknown method, Kubernetes without a role) is ERR_INVALID_INPUT
 * when the chain reaches the source.
 *
 * @example
 * ```ts
 * const source = vaultAuthMethodSource({ env: process.env })
 * ```
 */
export function vaultAuthMethodSource(options: VaultAuthMethodOptions): HashiVaultCredentialSource {
  const { env } = options
  const raw = env.VAULT_AUTH_METHOD?.trim().toLowerCase() ?? ''
  const role = set(env.VAULT_AUTH_ROLE) ? env.VAULT_AUTH_ROLE.trim() : undefined
  const mount = set(env.VAULT_AUTH_PATH) ? env.VAULT_AUTH_PATH.trim() : undefined
  const appRole = set(env.VAULT_ROLE_ID) && set(env.VAULT_SECRET_ID)
  // Before VAULT_AUTH_METHOD existed, both AppRole variables alone selected AppRole; they still do.
  const method = raw === '' && appRole ? 'approle' : raw
  return {
    source: method === '' || method === 'token' ? 'auth method' : `${method} auth`,
    async resolve(): Promise<HashiVaultCredential> {
      switch (method) {
        case '':
          return { skip: 'VAULT_AUTH_METHOD not set' }
        case 'token':
          return { skip: 'VAULT_AUTH_METHOD=token: no login, tokens only' }
        case 'jwt': {
          const login = jwtLogin(options, role, mount)
          if (login !== undefined) return { login }
          return {
            skip: 'no JWT: VAULT_AUTH_JWT, VAULT_AUTH_JWT_FILE and ACTIONS_ID_TOKEN_REQUEST_URL not set (in GitHub Actions the job needs "permissions: id-token: write")',
          }
        }
        case 'kubernetes':
          return kubernetesLogin(env, role, mount)
        case 'approle': {
          if (!appRole) return { skip: 'VAULT_AUTH_METHOD=approle but VAULT_ROLE_ID or VAULT_SECRET_ID not set' }
          const at = mount ?? (set(env.VAULT_APPROLE_MOUNT) ? env.VAULT_APPROLE_MOUNT.trim() : undefined)
          return {
            login: {
              method: 'approle',
              roleId: env.VAULT_ROLE_ID!.trim(),
              secretId: env.VAULT_SECRET_ID!.trim(),
              ...(at ? { mountPath: at } : {}),
            },
          }
        }
        default:
          throw invalid(`VAULT_AUTH_METHOD must be jwt, kubernetes, approle or token, not ${JSON.stringify(raw)}`)
      }
    },
  }
}
