/** Options of the Vault transit provider and how they combine with the environment. @module */
import { CountersignError } from '../../errors.js'
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
 * Options for {@link createHashiVaultKMSProvider}. Explicit options win over the environment.
 *
 * Token order: `token`, `appRole` login, `VAULT_TOKEN`, `BAO_TOKEN`, then `tokenSource` (in Node,
 * `hashiVaultKMSProviderFromEnvironment` reads `~/.vault-token` there, as the Vault CLI's default token helper does).
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
  /** Last token source, asked only when nothing else gave one (e.g. a token helper). */
  readonly tokenSource?: () => Promise<string | undefined>
  /** Vault Enterprise / OpenBao namespace, sent as `X-Vault-Namespace`; default `VAULT_NAMESPACE`, then `BAO_NAMESPACE`. */
  readonly namespace?: string
  /** Mount path of the transit engine; default `TRANSIT_SECRET_ENGINE_PATH`, then `transit`. */
  readonly transitPath?: string
  /** Sign with this key version instead of the latest (sigstore's key-version option). */
  readonly keyVersion?: number
  /** Clock for token lease expiry (default `Date.now`). */
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
