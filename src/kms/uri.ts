/** Recognise cosign's KMS key references by their URI scheme. @module */

/**
 * The KMS schemes cosign (sigstore/sigstore `pkg/signature/kms`) registers: AWS KMS, Google Cloud KMS, Azure Key
 * Vault, and HashiCorp Vault transit with its OpenBao alias.
 *
 * Exported from `countersign/kms`.
 */
export type KMSScheme = 'awskms' | 'gcpkms' | 'azurekms' | 'hashivault' | 'openbao'

/**
 * Every {@link KMSScheme}, in cosign's order.
 *
 * Exported from `countersign/kms`.
 */
export const KMS_SCHEMES: readonly KMSScheme[] = Object.freeze([
  'awskms',
  'gcpkms',
  'azurekms',
  'hashivault',
  'openbao',
])

/** Schemes that name another provider's keys: OpenBao speaks the Vault transit API (sigstore's `AlternativeScheme`). */
const ALIASES: Readonly<Record<string, string>> = Object.freeze({ openbao: 'hashivault' })

/**
 * The built-in KMS scheme of a key reference, or `undefined` when `uri` is not one (a file path, a URL, …). Matching
 * is by exact, case-sensitive prefix (`awskms://`), as cosign's `strings.HasPrefix`.
 *
 * @param uri - A `--key` value.
 * @returns The scheme without `://`, or `undefined`.
 * @example
 * ```ts
 * import { kmsScheme } from 'countersign/kms'
 * kmsScheme('hashivault://release') // 'hashivault'
 * kmsScheme('cosign.pub') // undefined
 * ```
 *
 * Exported from `countersign/kms`.
 */
export function kmsScheme(uri: string): KMSScheme | undefined {
  if (typeof uri !== 'string') return undefined
  return KMS_SCHEMES.find((s) => uri.startsWith(`${s}://`))
}

/**
 * Whether a key reference names a key in one of the built-in KMS providers (rather than a key file).
 *
 * @param ref - A `--key` value.
 * @returns True for `awskms://`, `gcpkms://`, `azurekms://`, `hashivault://` and `openbao://` references.
 * @example
 * ```ts
 * import { isKMSReference } from 'countersign/kms'
 * if (isKMSReference(flags.key)) signer = await createKMSSigner(flags.key, providers)
 * ```
 *
 * Exported from `countersign/kms`.
 */
export function isKMSReference(ref: string): boolean {
  return kmsScheme(ref) !== undefined
}

/** The scheme of any `name://…` reference (custom providers included), or undefined. Internal. */
export function uriScheme(uri: string): string | undefined {
  if (typeof uri !== 'string') return undefined
  return /^([a-z][a-z0-9+.-]*):\/\//.exec(uri)?.[1]
}

/** The provider scheme a reference's scheme resolves to (`openbao` → `hashivault`). Internal. */
export function canonicalScheme(scheme: string): string {
  return ALIASES[scheme] ?? scheme
}
