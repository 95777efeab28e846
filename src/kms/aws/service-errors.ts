/**
 * Errors the AWS credential and KMS clients share: failures of the service HTTP helper tagged with the provider,
 * and answers that are not what the endpoint's protocol promises. Internal to `countersign/kms/aws`.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'

/**
 * An ERR_KMS from the service HTTP helper (a 5xx after its retries, a body over the limit) with `details.provider`
 * set, `suffix` appended to its message; anything else is returned as it is.
 *
 * @example
 * ```ts
 * const res = await http(request).catch((e) => {
 *   throw withAWSProvider(e)
 * })
 * ```
 */
export function withAWSProvider(cause: unknown, suffix = ''): unknown {
  if (cause instanceof CountersignError && cause.code === 'ERR_KMS' && cause.details?.provider === undefined) {
    return new CountersignError('ERR_KMS', `${cause.message}${suffix}`, {
      cause,
      details: { ...(cause.details ?? {}), provider: 'aws' },
    })
  }
  return cause
}

/**
 * The error for an answer of `service` that is not what its protocol promises (`details.reason: 'bad-response'`).
 *
 * @example
 * ```ts
 * throw badAWSAnswer('EC2 instance metadata', 'the role list is empty', 200)
 * ```
 */
export function badAWSAnswer(service: string, what: string, status: number): CountersignError {
  return new CountersignError('ERR_KMS', `${service}: ${what}`, {
    details: { provider: 'aws', status, reason: 'bad-response' },
  })
}
