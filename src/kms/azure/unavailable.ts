/**
 * "This credential source does not apply here", as azidentity's `credentialUnavailableError`: the default chain
 * passes over such a source and tries the next one, while any other failure (a rejected secret, a token endpoint
 * error) ends the chain. Internal to the Azure credential code (portable and Node).
 *
 * @module
 */
import { CountersignError } from '../../errors.js'

/**
 * An ERR_KMS saying the source is not available, with `details.reason` `no-credentials`. `reason` is printed in the
 * chain's final error, so it must never hold a secret.
 *
 * @example
 * ```ts
 * throw credentialUnavailable('Azure CLI (az) not found on PATH')
 * ```
 */
export function credentialUnavailable(reason: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_KMS', reason, {
    ...(cause !== undefined ? { cause } : {}),
    details: { provider: 'azurekms', reason: 'no-credentials' },
  })
}

/**
 * Whether `e` says the source is not available (so a chain goes on to the next one).
 *
 * @example
 * ```ts
 * if (!isCredentialUnavailable(e)) throw e
 * ```
 */
export function isCredentialUnavailable(e: unknown): e is CountersignError {
  return e instanceof CountersignError && e.code === 'ERR_KMS' && e.details?.reason === 'no-credentials'
}
