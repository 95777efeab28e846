/** The `-d/--verbose` flag, shared by every verb that talks to a registry or a KMS. @module */
import type { FlagSpec } from '../args.js'

/**
 * `-d/--verbose` (cosign's debug flag): registry requests and the KMS credential source a run settled on, on stderr
 * (never a secret). Verbs without registry flags that can use a KMS key take it alone.
 *
 * @example
 * ```ts
 * const flags: readonly FlagSpec[] = [...SIGNING_FLAGS, VERBOSE_FLAG]
 * ```
 */
export const VERBOSE_FLAG: FlagSpec = {
  name: 'verbose',
  short: 'd',
  type: 'bool',
  help: 'log registry requests and the credential sources used to stderr',
}
