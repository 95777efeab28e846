/**
 * The flags of policy evaluation, shared by `policy verify` and the admission webhook: trusted roots for the
 * policies' authorities (default and by `trustRootRef` name), the transparency-log switch, and what happens to an
 * image no policy matches (policy-controller's `no-match-policy`).
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { NoMatchPolicy } from '../../policy/index.js'
import type { TrustedRoot } from '../../trust/trusted-root.js'
import { type FlagSpec, withHelp } from '../args.js'
import { type CliIO, loadTrustedRoot } from '../context.js'
import { INSECURE_IGNORE_TLOG_FLAG, TRUSTED_ROOT_FLAG } from './trust.js'

/**
 * `--no-match-policy deny|allow|warn` (read with {@link noMatchPolicyFlag}).
 *
 * @example
 * const flags: readonly FlagSpec[] = [NO_MATCH_POLICY_FLAG]
 */
export const NO_MATCH_POLICY_FLAG: FlagSpec = {
  name: 'no-match-policy',
  type: 'string',
  default: 'deny',
  help: 'images matching no policy: deny, allow or warn',
}

/**
 * `--trusted-root FILE`: the root of authorities that name none.
 *
 * @example
 * const trustedRoot = await loadTrustedRoot(stringFlag(flags, 'trusted-root'), io)
 */
export const POLICY_TRUSTED_ROOT_FLAG: FlagSpec = withHelp(
  TRUSTED_ROOT_FLAG,
  'trusted root for authorities without trustRootRef (default: the embedded Sigstore public-good root)',
)

/**
 * `--trust-root NAME=FILE`, repeatable (read with {@link loadNamedRoots}); a path may hold commas.
 *
 * @example
 * const trustedRoots = await loadNamedRoots(flags['trust-root'] as string[], io)
 */
export const TRUST_ROOT_FLAG: FlagSpec = {
  name: 'trust-root',
  type: 'strings',
  noSplit: true,
  help: 'NAME=FILE: a trusted root for trustRootRef NAME',
}

/**
 * `--insecure-ignore-tlog` for every authority of every policy.
 *
 * @example
 * const options = { ...(flags['insecure-ignore-tlog'] === true ? { insecureIgnoreTlog: true } : {}) }
 */
export const POLICY_INSECURE_IGNORE_TLOG_FLAG: FlagSpec = withHelp(
  INSECURE_IGNORE_TLOG_FLAG,
  'skip transparency log checks for every authority (private infrastructure without Rekor)',
)

/**
 * The policy flags in the admission webhook's order (`policy verify` interleaves them with its own).
 *
 * @example
 * const flags: readonly FlagSpec[] = [...WEBHOOK_FLAGS, ...REGISTRY_FLAGS, ...POLICY_FLAGS]
 */
export const POLICY_FLAGS: readonly FlagSpec[] = [
  NO_MATCH_POLICY_FLAG,
  POLICY_TRUSTED_ROOT_FLAG,
  TRUST_ROOT_FLAG,
  POLICY_INSECURE_IGNORE_TLOG_FLAG,
]

/**
 * `--trust-root NAME=FILE` values as named trusted roots (for `trustRootRef`).
 *
 * @example
 * const roots = await loadNamedRoots(['private=root.json'], io) // { private: TrustedRoot }
 */
export async function loadNamedRoots(specs: readonly string[], io: CliIO): Promise<Record<string, TrustedRoot>> {
  const roots: Record<string, TrustedRoot> = {}
  for (const spec of specs) {
    const eq = spec.indexOf('=')
    if (eq <= 0 || eq === spec.length - 1) {
      throw new CountersignError('ERR_INVALID_INPUT', `--trust-root expects NAME=FILE, got ${JSON.stringify(spec)}`)
    }
    roots[spec.slice(0, eq)] = await loadTrustedRoot(spec.slice(eq + 1), io)
  }
  return roots
}

/**
 * `--no-match-policy`: deny (policy-controller's default), allow or warn.
 *
 * @example
 * const noMatchPolicy = noMatchPolicyFlag(flags['no-match-policy'])
 */
export function noMatchPolicyFlag(value: unknown): NoMatchPolicy {
  if (value !== 'deny' && value !== 'allow' && value !== 'warn') {
    throw new CountersignError('ERR_INVALID_INPUT', '--no-match-policy must be deny, allow or warn')
  }
  return value
}
