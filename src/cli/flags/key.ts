/**
 * The `--key` flag in its three forms: the private key a signing verb signs with, and the public key (or keys) a
 * verifying verb checks against. Each is a file path or a KMS reference (`awskms://…`, `hashivault://…`, see
 * `docs/kms.md`); `src/cli/context.ts` and `src/cli/kms.ts` read them.
 * @module
 */
import type { FlagSpec } from '../args.js'

/**
 * `--key` of `sign`, `attest`, `sign-blob`, `attest-blob` and `public-key`: one private key (absent: keyless).
 *
 * @example
 * const flags: readonly FlagSpec[] = [SIGNING_KEY_FLAG, ...SIGNING_FLAGS]
 */
export const SIGNING_KEY_FLAG: FlagSpec = { name: 'key', type: 'string', help: 'path to the private key file' }

/**
 * `--key` of the blob verbs that check one public key (`verify-blob`, `verify-bundle`).
 *
 * @example
 * const flags: readonly FlagSpec[] = [VERIFICATION_KEY_FLAG, ...KEYLESS_FLAGS]
 */
export const VERIFICATION_KEY_FLAG: FlagSpec = { name: 'key', type: 'string', help: 'path to the public key file' }

/**
 * `--key` of the verbs that accept several public keys (repeated or comma-separated); any one may verify.
 *
 * @example
 * const flags: readonly FlagSpec[] = [VERIFICATION_KEYS_FLAG, ...KEYLESS_FLAGS]
 */
export const VERIFICATION_KEYS_FLAG: FlagSpec = {
  name: 'key',
  type: 'strings',
  help: 'path to a public key file; repeat (or comma-separate) for several keys',
}
