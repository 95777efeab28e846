/**
 * `awskms://` key references, parsed exactly as sigstore/sigstore `pkg/signature/kms/aws` does (same four regular
 * expressions, tried in the same order), plus the region an ARN names.
 *
 * @module
 */
import { CountersignError } from '../../errors.js'

/**
 * A parsed `awskms://[ENDPOINT]/{key-id | alias/NAME | key ARN | alias ARN}` reference.
 *
 * @example
 * ```ts
 * import { parseAWSKMSURI } from 'countersign/kms/aws'
 * const ref: AWSKMSReference = parseAWSKMSURI('awskms:///alias/release')
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export interface AWSKMSReference {
  /** The reference as given. */
  readonly uri: string
  /** `host[:port]` between `awskms://` and the key part; empty when absent (`awskms:///…`). */
  readonly endpoint: string
  /** What is sent as `KeyId`: the key id, key ARN, `alias/NAME` or alias ARN. */
  readonly keyId: string
  /** `alias/NAME` for alias references (also for alias ARNs), needed to create the key. */
  readonly alias?: string
  /** The region of an ARN reference (`arn:aws:kms:REGION:…`). */
  readonly region?: string
  /** Which form the reference has. */
  readonly kind: 'key-id' | 'key-arn' | 'alias-name' | 'alias-arn'
}

// The expressions of sigstore's client.go, kept textually identical (RE2 and ECMAScript agree on these).
const UUID = 'm?r?k?-?[A-Fa-f0-9]{8}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{4}-?[A-Fa-f0-9]{12}'
const ARN = 'arn:(?:aws|aws-us-gov|aws-cn):kms:[a-z0-9-]+:\\d{12}:'
const HOST = '([^/]*)/'
const FORMS: readonly (readonly [AWSKMSReference['kind'], RegExp])[] = [
  ['key-id', new RegExp(`^awskms://${HOST}(${UUID})$`)],
  ['key-arn', new RegExp(`^awskms://${HOST}(${ARN}key/${UUID})$`)],
  ['alias-name', new RegExp(`^awskms://${HOST}((alias/.*))$`)],
  ['alias-arn', new RegExp(`^awskms://${HOST}(${ARN}(alias/.*))$`)],
]
const ARN_REGION = /^arn:[a-z-]+:kms:([a-z0-9-]+):/

/**
 * Parse an `awskms://` key reference. The endpoint is optional (`awskms:///alias/x`); when present it replaces the
 * regional AWS endpoint (sigstore sends `https://ENDPOINT`).
 *
 * @param uri - The reference, e.g. `awskms:///arn:aws:kms:us-east-2:111122223333:key/1234abcd-…`.
 * @returns The endpoint, `KeyId`, alias and ARN region.
 * @throws {CountersignError} ERR_INVALID_INPUT when the reference matches none of sigstore's forms.
 * @example
 * ```ts
 * import { parseAWSKMSURI } from 'countersign/kms/aws'
 * parseAWSKMSURI('awskms://localhost:4566/alias/release')
 * // { endpoint: 'localhost:4566', keyId: 'alias/release', alias: 'alias/release', kind: 'alias-name', … }
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export function parseAWSKMSURI(uri: string): AWSKMSReference {
  if (typeof uri !== 'string') throw new TypeError('uri must be a string')
  for (const [kind, re] of FORMS) {
    const m = re.exec(uri)
    if (!m) continue
    const keyId = m[2]!
    const region = ARN_REGION.exec(keyId)?.[1]
    return Object.freeze({
      uri,
      endpoint: m[1]!,
      keyId,
      kind,
      ...(m[3] !== undefined ? { alias: m[3] } : {}),
      ...(region !== undefined ? { region } : {}),
    })
  }
  throw new CountersignError(
    'ERR_INVALID_INPUT',
    'kms specification should be in the format awskms://[ENDPOINT]/[ID/ALIAS/ARN] (endpoint optional)',
    { details: { provider: 'aws' } },
  )
}
