/**
 * The flags of policy evaluation, shared by `policy verify` and the admission webhook: trusted roots for the
 * policies' authorities (default and by `trustRootRef` name), the transparency-log switch, and what happens to an
 * image no policy matches (policy-controller's `no-match-policy`); and the reading of the files they name, within
 * the size limits of docs/policy.md.
 * @module
 */
import { resolve } from 'node:path'
import { CountersignError, isCountersignError } from '../../errors.js'
import { quoteClipped } from '../../internal/bounded-text.js'
import { MAX_POLICY_FILE_BYTES, MAX_TRUSTED_ROOT_BYTES, readFileWithin } from '../../node/policy-files.js'
import type { NoMatchPolicy } from '../../policy/index.js'
import { parseTrustedRoot, type TrustedRoot } from '../../trust/trusted-root.js'
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
  help: 'images matching no policy: deny, allow or warn (default: deny with a ClusterImagePolicy, allow with only Kyverno policies)',
  values: ['deny', 'allow', 'warn'],
}

/**
 * `--trusted-root FILE`: the root of authorities that name none.
 *
 * @example
 * const trustedRoot = await loadTrustedRoot(stringFlag(flags, 'trusted-root'), io)
 */
export const POLICY_TRUSTED_ROOT_FLAG: FlagSpec = withHelp(
  TRUSTED_ROOT_FLAG,
  'trusted root for authorities without trustRootRef (default: from the TUF repository)',
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
      throw new CountersignError('ERR_INVALID_INPUT', `--trust-root expects NAME=FILE, got ${quoteClipped(spec)}`)
    }
    roots[spec.slice(0, eq)] = await loadPolicyTrustedRoot(spec.slice(eq + 1), io)
  }
  return roots
}

/**
 * `--trusted-root FILE` of policy evaluation (or one `--trust-root` file), read within 4 MiB before parsing (the
 * webhook reads it on every policy reload); the TUF repository's when no file is given (docs/tuf.md).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when unreadable, larger than 4 MiB, or not a trusted root.
 * @example
 * const trustedRoot = await loadPolicyTrustedRoot(stringFlag(flags, 'trusted-root'), io)
 */
export async function loadPolicyTrustedRoot(path: string | undefined, io: CliIO): Promise<TrustedRoot> {
  if (path === undefined || path === '') return loadTrustedRoot(path, io)
  return parseTrustedRoot(
    await readWithin(path, io, MAX_TRUSTED_ROOT_BYTES, { kind: 'trusted root', what: 'trusted root' }),
  )
}

/**
 * The `--policy FILE` files of `policy verify` (or, named otherwise, its `--resource` manifests), each refused
 * before it is read in full when over 4 MiB.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT naming the file when unreadable or over the limit.
 * @example
 * const files = await readPolicyFlagFiles(['policy.yaml'], io) // [{ path: 'policy.yaml', content: Uint8Array }]
 */
export async function readPolicyFlagFiles(
  paths: readonly string[],
  io: CliIO,
  names: { readonly kind: string; readonly what: string } = { kind: 'policy', what: 'policy file' },
): Promise<{ path: string; content: Uint8Array }[]> {
  const files: { path: string; content: Uint8Array }[] = []
  for (const p of paths) {
    files.push({ path: p, content: await readWithin(p, io, MAX_POLICY_FILE_BYTES, names) })
  }
  return files
}

/**
 * `path` (relative to the working directory) within `maxBytes`; errors name it as the user gave it: `reading <kind>
 * <path>: …` when unreadable, `<path>: <what> is larger than N bytes` when too large.
 */
async function readWithin(
  path: string,
  io: CliIO,
  maxBytes: number,
  names: { readonly kind: string; readonly what: string },
): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFileWithin(resolve(io.cwd, path), maxBytes, names.what, path))
  } catch (cause) {
    if (isCountersignError(cause)) throw cause
    throw new CountersignError('ERR_INVALID_INPUT', `reading ${names.kind} ${path}: ${(cause as Error).message}`, {
      cause,
    })
  }
}

/**
 * `--no-match-policy`: deny (policy-controller's default), allow or warn.
 *
 * @example
 * const noMatchPolicy = noMatchPolicyFlag(flags['no-match-policy'])
 */
export function noMatchPolicyFlag(value: unknown): NoMatchPolicy | undefined {
  if (value === undefined) return undefined
  if (value !== 'deny' && value !== 'allow' && value !== 'warn') {
    throw new CountersignError('ERR_INVALID_INPUT', '--no-match-policy must be deny, allow or warn')
  }
  return value
}
