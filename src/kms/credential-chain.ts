/**
 * What every KMS credential chain (AWS, Google Cloud, Azure, Vault) shares: a report of the source that supplied
 * credentials (for `-d/--verbose`; never the secret itself) and the error a chain gives when no source had
 * credentials, naming the sources tried in order and why each was passed over.
 *
 * @module
 */
import { CountersignError } from '../errors.js'

/**
 * Which credential source a chain used: the provider, the source's name as its SDK documents it, and a detail that
 * is safe to print (a profile or role name, a file path, an endpoint) — never a key, token or password.
 *
 * @example
 * ```ts
 * import type { CredentialSourceReport } from 'countersign/kms'
 * const report: CredentialSourceReport = { provider: 'aws', source: 'ec2 instance metadata', detail: 'role build' }
 * ```
 *
 * Exported from `countersign/kms`.
 */
export interface CredentialSourceReport {
  /** `aws`, `gcp`, `azure` or `vault`. */
  readonly provider: string
  /** The source, e.g. `environment`, `sso`, `external_account`, `azure cli`, `kubernetes auth`. */
  readonly source: string
  /** A non-secret detail: profile, role, file, endpoint. */
  readonly detail?: string
}

/**
 * Called once when a chain settles on a source (and again when a refresh switches source). The CLI prints it with
 * `-d/--verbose`.
 *
 * @example
 * ```ts
 * import type { CredentialSourceListener } from 'countersign/kms'
 * const onCredentialSource: CredentialSourceListener = (r) => console.error(`${r.provider}: ${r.source}`)
 * ```
 *
 * Exported from `countersign/kms`.
 */
export type CredentialSourceListener = (report: CredentialSourceReport) => void

/**
 * A source a chain looked at and passed over, with why (`AWS_CONTAINER_CREDENTIALS_FULL_URI not set`, `no instance
 * metadata endpoint answered within 1 s`). The reason must not hold a secret.
 *
 * @example
 * ```ts
 * import type { TriedCredentialSource } from 'countersign/kms'
 * const tried: TriedCredentialSource = { source: 'environment', reason: 'AWS_ACCESS_KEY_ID not set' }
 * ```
 *
 * Exported from `countersign/kms`.
 */
export interface TriedCredentialSource {
  readonly source: string
  readonly reason: string
}

/**
 * The error of a chain with no credentials: `ERR_KMS`, naming every source tried, in order, with its reason.
 *
 * @param provider - Human name of the provider (`AWS`, `Google Cloud`, `Azure`, `Vault`).
 * @param tried - The sources in the order the chain tried them.
 * @returns The error to throw.
 * @example
 * ```ts
 * import { noCredentialsError } from 'countersign/kms'
 * throw noCredentialsError('AWS', [{ source: 'environment', reason: 'AWS_ACCESS_KEY_ID not set' }])
 * ```
 *
 * Exported from `countersign/kms`.
 */
export function noCredentialsError(provider: string, tried: readonly TriedCredentialSource[]): CountersignError {
  const list = tried.map((t, i) => `${i + 1}. ${t.source}: ${t.reason}`).join('; ')
  return new CountersignError('ERR_KMS', `no ${provider} credentials found; tried in order: ${list || 'nothing'}`)
}
