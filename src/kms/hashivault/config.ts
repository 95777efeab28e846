/** Options of the Vault transit provider and how they combine with the environment. @module */
import { CountersignError } from '../../errors.js'
import type { AbortSignalLike } from '../../internal/host-types.js'
import type { CredentialSourceListener } from '../credential-chain.js'
import type { KMSCallOptions, KMSEnvironment } from '../types.js'

/**
 * AppRole credentials (`POST /v1/auth/<mount>/login`).
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultAppRole {
  readonly roleId: string
  /** Secret: never logged. */
  readonly secretId: string
  /** The AppRole auth mount (default `approle`). */
  readonly mountPath?: string
}

/**
 * A login with a JWT: Vault's JWT/OIDC auth method (`method: 'jwt'`, a CI identity token) or its Kubernetes auth
 * method (`method: 'kubernetes'`, a service-account token). Both are `POST /v1/auth/<mount>/login {role, jwt}`.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultJWTLogin {
  readonly method: 'jwt' | 'kubernetes'
  /** The Vault role; required for `kubernetes`, optional for `jwt` (Vault then uses the mount's `default_role`). */
  readonly role?: string
  /** The auth mount (default: the method's name, `jwt` or `kubernetes`). */
  readonly mountPath?: string
  /**
   * The JWT, or a function asked at every login: projected service-account tokens and CI tokens expire, so a
   * re-login reads a fresh one. Secret: never logged.
   */
  readonly jwt: string | ((options?: { readonly signal?: AbortSignalLike }) => Promise<string>)
  /** Where the JWT comes from, for the credential-source report (a file path, `GitHub Actions`); never the JWT. */
  readonly jwtSource?: string
}

/**
 * An AppRole login as a {@link HashiVaultLogin}.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultAppRoleLogin extends HashiVaultAppRole {
  readonly method: 'approle'
}

/**
 * A Vault auth-method login; the token it issues is renewed (`auth/token/renew-self`) or replaced by a new login
 * before its lease ends.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export type HashiVaultLogin = HashiVaultJWTLogin | HashiVaultAppRoleLogin

/**
 * What a {@link HashiVaultCredentialSource} found: a token used as given, a login to perform, or nothing (`skip`,
 * with the reason the no-credentials error gives). `detail` is reported with the source; it must hold no secret.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export type HashiVaultCredential =
  | { readonly token: string; readonly detail?: string }
  | { readonly login: HashiVaultLogin; readonly detail?: string }
  | { readonly skip: string }

/**
 * One place a Vault token can come from (the Node adapter's auth method from the environment, token helper and
 * `~/.vault-token` are such sources). The chain asks each in order, once, until one does not skip.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultCredentialSource {
  /** The source's name in reports and in the no-credentials error (`kubernetes auth`, `token helper`). */
  readonly source: string
  resolve(options?: { readonly signal?: AbortSignalLike }): Promise<HashiVaultCredential>
}

/**
 * Options for {@link createHashiVaultKMSProvider}. Explicit options win over the environment.
 *
 * Credential order: `token`; an `appRole` login; a `login` (JWT or Kubernetes auth); `VAULT_TOKEN`, then
 * `BAO_TOKEN`; then each of `credentialSources` (in Node, `hashiVaultKMSProviderFromEnvironment` puts the auth
 * method configured by `VAULT_AUTH_METHOD`, the token helper of `~/.vault` and `~/.vault-token` there); then
 * `tokenSource`.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultKMSOptions extends KMSCallOptions {
  /** Environment variables: `VAULT_ADDR`/`BAO_ADDR`, `VAULT_TOKEN`/`BAO_TOKEN`, `VAULT_NAMESPACE`/`BAO_NAMESPACE`,
   * `TRANSIT_SECRET_ENGINE_PATH`, `VAULT_KEY_PREFIX`. Nothing is read from `process.env` unless passed here. */
  readonly env?: KMSEnvironment
  /** Vault address (`https://vault.example:8200`); default `VAULT_ADDR`, then `BAO_ADDR`. */
  readonly address?: string
  /** A Vault token (sent as `X-Vault-Token`). Secret: never logged. */
  readonly token?: string
  /** Log in with AppRole; the token is cached until shortly before its lease ends. */
  readonly appRole?: HashiVaultAppRole
  /** Log in with JWT or Kubernetes auth (or AppRole); the token is renewed or replaced before its lease ends. */
  readonly login?: HashiVaultLogin
  /** Further sources asked in order after `VAULT_TOKEN`/`BAO_TOKEN` (see {@link HashiVaultCredentialSource}). */
  readonly credentialSources?: readonly HashiVaultCredentialSource[]
  /** Last token source, asked only when nothing else gave one (e.g. a token helper). */
  readonly tokenSource?: () => Promise<string | undefined>
  /** Told once which source supplied the token (never the token itself); the CLI prints it with `-d`. */
  readonly onCredentialSource?: CredentialSourceListener
  /** Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`; default `VAULT_NAMESPACE`, then `BAO_NAMESPACE`. */
  readonly namespace?: string
  /** Mount path of the transit engine; default `TRANSIT_SECRET_ENGINE_PATH`, then `transit`. */
  readonly transitPath?: string
  /** Sign with this key version instead of the latest (sigstore's key-version option). */
  readonly keyVersion?: number
  /** Clock for token lease expiry and renewal (default `Date.now`). */
  readonly now?: () => number
}

/** The resolved, validated configuration. Internal. */
export interface VaultConfig {
  /** Origin and base path without a trailing slash. */
  readonly address: string
  readonly namespace: string | undefined
  /** Transit mount, URL-encoded segment by segment. */
  readonly transitPath: string
  /** The version `VAULT_KEY_PREFIX` (`vault:vN:`) selects for verification, if set. */
  readonly verifyVersion: number | undefined
}

function invalid(message: string, reason: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', message, { details: { provider: 'hashivault', reason } })
}

function nonEmpty(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => typeof v === 'string' && v !== '')
}

/** A version number from options: a positive safe integer. */
export function checkVersion(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw invalid(`${what} must be a positive integer`, 'invalid-key-version')
  }
  return value
}

/** Resolve address, namespace, transit mount and VAULT_KEY_PREFIX; throws ERR_INVALID_INPUT for bad values. */
export function resolveConfig(options: HashiVaultKMSOptions): VaultConfig {
  const env = options.env ?? {}
  const raw = nonEmpty(options.address, env.VAULT_ADDR, env.BAO_ADDR)
  if (raw === undefined) throw invalid('VAULT_ADDR or BAO_ADDR is not set', 'no-address')
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw invalid('the Vault address is not a URL', 'invalid-address')
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username !== '' || url.password !== '') {
    throw invalid('the Vault address must be an http(s) URL without credentials', 'invalid-address')
  }
  const address = `${url.origin}${url.pathname.replace(/\/+$/, '')}`
  const mount = nonEmpty(options.transitPath, env.TRANSIT_SECRET_ENGINE_PATH) ?? 'transit'
  const segments = mount.split('/').filter((s) => s !== '')
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..')) {
    throw invalid('TRANSIT_SECRET_ENGINE_PATH is not a mount path', 'invalid-transit-path')
  }
  const prefix = env.VAULT_KEY_PREFIX
  let verifyVersion: number | undefined
  if (prefix !== undefined && prefix !== '') {
    // sigstore prepends this to signatures it sends to Vault's verify endpoint; it names the key version.
    const m = /^vault:v([0-9]{1,15}):$/.exec(prefix)
    if (m === null || Number(m[1]) < 1) throw invalid('VAULT_KEY_PREFIX must look like vault:v1:', 'invalid-key-prefix')
    verifyVersion = Number(m[1])
  }
  return Object.freeze({
    address,
    namespace: nonEmpty(options.namespace, env.VAULT_NAMESPACE, env.BAO_NAMESPACE),
    transitPath: segments.map(encodeURIComponent).join('/'),
    verifyVersion,
  })
}
