/**
 * How a verb stores or finds what it attaches to an image: a Sigstore bundle referrer (cosign v3) or the legacy
 * `.sig`/`.att`/`.sbom` tags (`--new-bundle-format`, `--registry-referrers-mode`), and the legacy signature image's
 * creation time (`--record-creation-timestamp`).
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { FlagSpec, ParsedFlags } from '../args.js'
import type { CliIO } from '../context.js'

/**
 * `--new-bundle-format` (default true; read with {@link legacyFormatRequested}).
 *
 * @example
 * const flags: readonly FlagSpec[] = [withHelp(NEW_BUNDLE_FORMAT_FLAG, 'write a Sigstore bundle to --bundle')]
 */
export const NEW_BUNDLE_FORMAT_FLAG: FlagSpec = {
  name: 'new-bundle-format',
  type: 'bool',
  default: true,
  help: 'store a Sigstore bundle as an OCI 1.1 referrer (cosign v3 default; false: legacy .sig tag)',
}

/**
 * Whether `--new-bundle-format=false` asks for cosign's older storage form (only an explicit false does).
 *
 * @example
 * const format = legacyFormatRequested(flags) ? 'legacy' : 'bundle'
 */
export function legacyFormatRequested(flags: ParsedFlags): boolean {
  return flags['new-bundle-format'] === false
}

/**
 * `--record-creation-timestamp`: the legacy signature image gets the current time instead of none.
 *
 * @example
 * const flags: readonly FlagSpec[] = [RECORD_CREATION_TIMESTAMP_FLAG]
 */
export const RECORD_CREATION_TIMESTAMP_FLAG: FlagSpec = {
  name: 'record-creation-timestamp',
  type: 'bool',
  help: "set the signature image's creation time to now",
}

/**
 * The `created` option `--record-creation-timestamp` asks for (now), or nothing.
 *
 * @example
 * await signImage(ref, signer, { store, ...creationTimeFromFlags(flags) })
 */
export function creationTimeFromFlags(flags: ParsedFlags): { readonly created?: Date } {
  return flags['record-creation-timestamp'] === true ? { created: new Date() } : {}
}

/**
 * `--registry-referrers-mode legacy|oci-1-1` (read with {@link referrersMode}).
 *
 * @example
 * const flags: readonly FlagSpec[] = [withHelp(REGISTRY_REFERRERS_MODE_FLAG, 'legacy or oci-1-1')]
 */
export const REGISTRY_REFERRERS_MODE_FLAG: FlagSpec = {
  name: 'registry-referrers-mode',
  type: 'string',
  help: 'sbom: legacy (.sbom tag) or oci-1-1 (OCI 1.1 referrer; needs COSIGN_EXPERIMENTAL=1)',
}

/**
 * cosign's `--registry-referrers-mode` check: `oci-1-1` needs `COSIGN_EXPERIMENTAL=1`.
 *
 * @example
 * const referrer = referrersMode(flags, io) === 'oci-1-1'
 */
export function referrersMode(f: ParsedFlags, io: CliIO): 'legacy' | 'oci-1-1' {
  const mode = f['registry-referrers-mode']
  if (mode === undefined || mode === 'legacy') return 'legacy'
  if (mode !== 'oci-1-1') throw new CountersignError('ERR_INVALID_INPUT', 'must be one of "legacy", "oci-1-1"')
  const exp = io.env.COSIGN_EXPERIMENTAL
  if (exp !== '1' && exp?.toLowerCase() !== 'true') {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `in order to use  mode "${mode}", you must set COSIGN_EXPERIMENTAL=1`,
    )
  }
  return 'oci-1-1'
}
