/**
 * The trust flags of the Sigstore verbs: which trusted root service answers and signatures are checked against, and
 * which of its witnesses (transparency log, SCTs, timestamps) may be skipped or are required.
 * @module
 */
import type { FlagSpec } from '../args.js'

/**
 * `--trusted-root FILE` (read with `loadTrustedRoot`: absent or empty means the TUF repository's, docs/tuf.md).
 *
 * @example
 * const flags: readonly FlagSpec[] = [withHelp(TRUSTED_ROOT_FLAG, 'the trusted root of a private deployment')]
 */
export const TRUSTED_ROOT_FLAG: FlagSpec = {
  name: 'trusted-root',
  type: 'string',
  help: 'Sigstore trusted_root.json (default: from the TUF repository, see countersign initialize)',
}

/**
 * `--offline`: read trust material from the TUF cache only, never download it (cosign's flag, whose deprecated meaning
 * — no transparency-log look-ups — countersign's verification always has). Same as `COUNTERSIGN_TUF_OFFLINE=1`.
 *
 * @example
 * if (flags.offline === true) useOfflineTrust(io)
 */
export const OFFLINE_FLAG: FlagSpec = {
  name: 'offline',
  type: 'bool',
  help: 'use the TUF cache only, never download trust material (verification makes no log look-ups anyway)',
}

/**
 * `--insecure-ignore-tlog`: accept signatures without a verified transparency-log entry.
 *
 * @example
 * const ignoreTlog = flags['insecure-ignore-tlog'] === true
 */
export const INSECURE_IGNORE_TLOG_FLAG: FlagSpec = {
  name: 'insecure-ignore-tlog',
  type: 'bool',
  help: 'skip transparency log verification',
}

/**
 * `--insecure-ignore-sct`: accept a Fulcio certificate without an embedded SCT.
 *
 * @example
 * const flags: readonly FlagSpec[] = [INSECURE_IGNORE_SCT_FLAG]
 */
export const INSECURE_IGNORE_SCT_FLAG: FlagSpec = {
  name: 'insecure-ignore-sct',
  type: 'bool',
  help: 'do not require an embedded SCT in the certificate',
}

/**
 * `--use-signed-timestamps`: require a verified RFC 3161 timestamp.
 *
 * @example
 * const flags: readonly FlagSpec[] = [USE_SIGNED_TIMESTAMPS_FLAG]
 */
export const USE_SIGNED_TIMESTAMPS_FLAG: FlagSpec = {
  name: 'use-signed-timestamps',
  type: 'bool',
  help: 'require a verified RFC 3161 timestamp',
}
