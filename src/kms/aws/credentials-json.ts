/**
 * The credentials JSON that AWS's credential endpoints answer (the ECS and EKS Pod Identity agents, EC2 instance
 * metadata): `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`, and the `Code` and `Message` IMDS adds.
 * Internal to `countersign/kms/aws`.
 *
 * @module
 */
import type { SecretSet } from '../../http/secret-set.js'

/** The fields of a credentials answer; a string field that is absent, empty or not a string is `undefined`. */
export interface CredentialsJSONFields {
  readonly accessKeyId: string | undefined
  readonly secretAccessKey: string | undefined
  readonly sessionToken: string | undefined
  /** `Expiration` as a date (an invalid one when it is not a date). */
  readonly expiration: Date | undefined
  readonly code: string | undefined
  readonly message: string | undefined
}

/**
 * Read the fields of a credentials answer. The secret key and the session token join `secrets` first, so that no
 * message the caller builds while checking the answer can quote them; which fields are required is the caller's rule.
 *
 * @example
 * ```ts
 * const fields = credentialsJSONFields(res.json() as Record<string, unknown>, http.secrets)
 * if (!fields.accessKeyId || !fields.secretAccessKey) throw new Error('incomplete credentials')
 * ```
 */
export function credentialsJSONFields(
  doc: Readonly<Record<string, unknown>>,
  secrets: SecretSet,
): CredentialsJSONFields {
  const str = (k: string) => (typeof doc[k] === 'string' && doc[k] !== '' ? (doc[k] as string) : undefined)
  secrets.addTemporary(str('SecretAccessKey'), str('Token'))
  const expiration = str('Expiration')
  return {
    accessKeyId: str('AccessKeyId'),
    secretAccessKey: str('SecretAccessKey'),
    sessionToken: str('Token'),
    expiration: expiration !== undefined ? new Date(expiration) : undefined,
    code: str('Code'),
    message: str('Message'),
  }
}
