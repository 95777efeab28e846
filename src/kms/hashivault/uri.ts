/** `hashivault://KEY` and `openbao://KEY` references, parsed as sigstore's hashivault provider does. @module */
import { CountersignError } from '../../errors.js'

/**
 * A parsed Vault transit key reference.
 *
 * Exported from `countersign/kms/hashivault`.
 */
export interface HashiVaultKeyReference {
  /** `hashivault` or `openbao` (both speak the same transit API). */
  readonly scheme: 'hashivault' | 'openbao'
  /** The transit key name. */
  readonly name: string
}

// sigstore's referenceRegex: one key name of word characters, with `-` and `.` allowed inside. No slashes, so the
// transit mount comes from TRANSIT_SECRET_ENGINE_PATH, never from the URI. (`\w` means [0-9A-Za-z_] in Go and here.)
const REFERENCE = /^(hashivault|openbao):\/\/(\w(?:[\w.-]*\w)?)$/

/**
 * Parse a Vault transit key reference: `hashivault://NAME` or `openbao://NAME`, where NAME is word characters with
 * `-` and `.` allowed inside (sigstore's `^(?:hashivault|openbao)://\w(([\w-.]+)?\w)?$`).
 *
 * @param uri - The reference.
 * @returns The scheme and key name.
 * @throws {CountersignError} ERR_INVALID_INPUT for anything else.
 * @example
 * ```ts
 * import { parseHashiVaultURI } from 'countersign/kms/hashivault'
 * parseHashiVaultURI('hashivault://release-key') // { scheme: 'hashivault', name: 'release-key' }
 * ```
 *
 * Exported from `countersign/kms/hashivault`.
 */
export function parseHashiVaultURI(uri: string): HashiVaultKeyReference {
  if (typeof uri !== 'string') throw new TypeError('uri must be a string')
  const m = REFERENCE.exec(uri)
  if (m === null) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      'HashiCorp Vault key reference must be hashivault://<key> (or openbao://<key>): one transit key name of letters, digits, _, - and .',
      { details: { provider: 'hashivault', reason: 'invalid-uri' } },
    )
  }
  return Object.freeze({ scheme: m[1] as 'hashivault' | 'openbao', name: m[2]! })
}
