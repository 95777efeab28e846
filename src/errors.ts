/**
 * The one error class of countersign, with stable string codes.
 *
 * Exported from `countersign/errors`.
 *
 * @module
 */

/**
 * Every code countersign throws. Codes are public API: adding one is a minor release, renaming or removing
 * one is a major release.
 *
 * - `ERR_INVALID_INPUT`: malformed input (JSON, PEM, DER, flags, annotations).
 * - `ERR_UNSUPPORTED_ALGORITHM`: a key type, curve, hash or size countersign does not accept.
 * - `ERR_KEY_INVALID`: a key that parses but is not usable (wrong curve point, SEC1 inside a cosign key, …).
 * - `ERR_KEY_DECRYPT`: an encrypted private key could not be decrypted (wrong password or corrupt ciphertext).
 * - `ERR_PASSWORD_REQUIRED`: a password is needed and none could be obtained (no COSIGN_PASSWORD, no TTY).
 * - `ERR_FILE_EXISTS`: refusing to overwrite a file without an explicit force option.
 * - `ERR_OCI_REFERENCE_INVALID`: an image reference that does not parse.
 * - `ERR_OCI_DIGEST_MISMATCH`: content whose digest differs from the one it was fetched by.
 * - `ERR_OCI_MANIFEST_INVALID`: a manifest or index that is not valid JSON of a known media type.
 * - `ERR_OCI_SIZE_LIMIT`: a manifest or blob larger than the configured limit.
 * - `ERR_OCI_NOT_FOUND`: the manifest, tag, blob or repository does not exist.
 * - `ERR_OCI_UNAUTHORIZED`: the registry refused the credentials (401/403).
 * - `ERR_OCI_HTTP`: any other registry failure; `details.status` and `details.registryErrors` say more.
 * - `ERR_NETWORK`: the request did not reach the server or the connection broke.
 * - `ERR_ABORTED`: the caller's AbortSignal fired.
 * - `ERR_SIGNATURE_INVALID`: a signature does not verify.
 * - `ERR_CLAIMS_INVALID`: a signature verifies but its payload does not match (digest, annotations).
 * - `ERR_NO_SIGNATURES`: the image has no signatures at all (cosign exit code 10).
 * - `ERR_NO_MATCHING_SIGNATURES`: signatures exist but none verifies (cosign exit code 12).
 * - `ERR_TLOG_REQUIRED`: the operation needs a transparency log, which was not configured or disabled.
 * - `ERR_DSSE_INVALID`, `ERR_BUNDLE_INVALID`, `ERR_CERT_CHAIN_INVALID`, `ERR_CERT_EXPIRED`,
 *   `ERR_TLOG_INCLUSION_PROOF`, `ERR_TLOG_ENTRY_MISMATCH`, `ERR_TIMESTAMP_INVALID`, `ERR_FULCIO_HTTP`,
 *   `ERR_REKOR_HTTP`, `ERR_POLICY_DENIED`: Sigstore verification, keyless signing and policy.
 * - `ERR_TIMESTAMP_HTTP`: a timestamp authority failed or answered with something that is not a timestamp.
 * - `ERR_OIDC_TOKEN`: no identity token could be obtained, or the token is malformed, expired or not for Sigstore.
 * - `ERR_OIDC_LOGIN`: the interactive OIDC login failed (denied, state mismatch, token endpoint error).
 * - `ERR_CONFIRMATION_REQUIRED`: publishing an identity to a public log needs confirmation (`--yes`) and none came.
 * - `ERR_KMS`: a key-management service refused or failed a request (`details.status`, `details.provider`).
 * - `ERR_TUF_UNAVAILABLE`: the TUF mirror could not be reached (or `offline` was asked) and no usable cache exists.
 * - `ERR_TUF_INVALID`: TUF metadata or a target is malformed, of the wrong type, or missing from the repository.
 * - `ERR_TUF_THRESHOLD`: TUF metadata is not signed by enough of its role's keys.
 * - `ERR_TUF_ROLLBACK`: TUF metadata older than what is already trusted (a rollback or freeze attack).
 * - `ERR_TUF_EXPIRED`: the newest TUF metadata available has expired (a freeze, or a mirror that stopped updating).
 * - `ERR_TUF_TARGET_MISMATCH`: a TUF target or metadata file whose length or hash differs from what was signed.
 * - `ERR_DEPENDENCY_MISSING`: a feature needs an optional peer dependency that is not installed (`details.package`,
 *   `details.reason: 'not-installed'`), or, for a synchronous call, not loaded yet (`'not-loaded'`); the message
 *   says what to install or call: CEL policy conditions (`@bufbuild/cel`) and Kyverno `{{ }}` conditions
 *   (`@jmespath-community/jmespath`).
 *
 * Exported from `countersign/errors`.
 */
export type ErrorCode =
  | 'ERR_INVALID_INPUT'
  | 'ERR_UNSUPPORTED_ALGORITHM'
  | 'ERR_KEY_INVALID'
  | 'ERR_KEY_DECRYPT'
  | 'ERR_PASSWORD_REQUIRED'
  | 'ERR_FILE_EXISTS'
  | 'ERR_OCI_REFERENCE_INVALID'
  | 'ERR_OCI_DIGEST_MISMATCH'
  | 'ERR_OCI_MANIFEST_INVALID'
  | 'ERR_OCI_SIZE_LIMIT'
  | 'ERR_OCI_NOT_FOUND'
  | 'ERR_OCI_UNAUTHORIZED'
  | 'ERR_OCI_HTTP'
  | 'ERR_NETWORK'
  | 'ERR_ABORTED'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_CLAIMS_INVALID'
  | 'ERR_NO_SIGNATURES'
  | 'ERR_NO_MATCHING_SIGNATURES'
  | 'ERR_TLOG_REQUIRED'
  | 'ERR_DSSE_INVALID'
  | 'ERR_BUNDLE_INVALID'
  | 'ERR_CERT_CHAIN_INVALID'
  | 'ERR_CERT_EXPIRED'
  | 'ERR_TLOG_INCLUSION_PROOF'
  | 'ERR_TLOG_ENTRY_MISMATCH'
  | 'ERR_TIMESTAMP_INVALID'
  | 'ERR_FULCIO_HTTP'
  | 'ERR_REKOR_HTTP'
  | 'ERR_POLICY_DENIED'
  | 'ERR_TIMESTAMP_HTTP'
  | 'ERR_OIDC_TOKEN'
  | 'ERR_OIDC_LOGIN'
  | 'ERR_CONFIRMATION_REQUIRED'
  | 'ERR_KMS'
  | 'ERR_TUF_UNAVAILABLE'
  | 'ERR_TUF_INVALID'
  | 'ERR_TUF_THRESHOLD'
  | 'ERR_TUF_ROLLBACK'
  | 'ERR_TUF_EXPIRED'
  | 'ERR_TUF_TARGET_MISMATCH'
  | 'ERR_DEPENDENCY_MISSING'

/**
 * Options for {@link CountersignError}.
 *
 * Exported from `countersign/errors`.
 */
export interface CountersignErrorOptions {
  /** The underlying error, kept for debugging; never contains secrets. */
  readonly cause?: unknown
  /** Structured, machine-readable context (HTTP status, registry error bodies, per-signature reasons). */
  readonly details?: Readonly<Record<string, unknown>>
}

/**
 * The error countersign throws for every failure that is not a programming mistake.
 *
 * @example
 * ```ts
 * import { CountersignError } from 'countersign/errors'
 * throw new CountersignError('ERR_INVALID_INPUT', 'annotation must be key=value')
 * ```
 *
 * Exported from `countersign/errors`.
 */
export class CountersignError extends Error {
  /** Stable code; switch on it rather than on the message. */
  readonly code: ErrorCode
  /** Structured context, if any. */
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: ErrorCode, message: string, options?: CountersignErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'CountersignError'
    this.code = code
    this.details = options?.details
  }
}

/**
 * True when `value` is a {@link CountersignError} (optionally with the given code). Works across package
 * copies and realms, where `instanceof` does not.
 *
 * @example
 * ```ts
 * import { isCountersignError } from 'countersign/errors'
 * try { await verify() } catch (e) { if (isCountersignError(e, 'ERR_NO_SIGNATURES')) process.exitCode = 10 }
 * ```
 *
 * Exported from `countersign/errors`.
 */
export function isCountersignError(value: unknown, code?: ErrorCode): value is CountersignError {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { name?: unknown; code?: unknown }
  return v.name === 'CountersignError' && typeof v.code === 'string' && (code === undefined || v.code === code)
}
