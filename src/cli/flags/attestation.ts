/** The in-toto flags of the attestation verbs: the predicate, its type, and the subject check. @module */
import type { FlagSpec } from '../args.js'

/**
 * `--predicate FILE`: the predicate to wrap in a statement and sign.
 *
 * @example
 * const flags: readonly FlagSpec[] = [SIGNING_KEY_FLAG, PREDICATE_FLAG, PREDICATE_TYPE_FLAG]
 */
export const PREDICATE_FLAG: FlagSpec = { name: 'predicate', type: 'string', help: 'path to the predicate file' }

/**
 * `--type`: a cosign predicate alias or a predicate type URI, `custom` by default (`resolvePredicateType` reads it).
 *
 * @example
 * const predicateType = resolvePredicateType(String(flags.type))
 */
export const PREDICATE_TYPE_FLAG: FlagSpec = {
  name: 'type',
  type: 'string',
  default: 'custom',
  help: 'predicate type (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or a URI',
}

/**
 * `--check-claims` (default true): the statement's subject must name the verified artifact.
 *
 * @example
 * const checkClaims = flags['check-claims'] !== false
 */
export const CHECK_CLAIMS_FLAG: FlagSpec = {
  name: 'check-claims',
  type: 'bool',
  default: true,
  help: 'check that a statement subject is the image digest',
}
