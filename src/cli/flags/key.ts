/**
 * The `--key` flag in its three forms: the private key a signing verb signs with, and the public key (or keys) a
 * verifying verb checks against. Each is a file path, `env://NAME` (the PEM in an environment variable) or a KMS
 * reference (`awskms://…`, `hashivault://…`, see `docs/kms.md`); `src/cli/key-refs.ts` and `src/cli/kms.ts` read
 * them. The help names every form, the KMS schemes taken from the list the loader itself dispatches on.
 * @module
 */
import { KMS_SCHEMES } from '../../kms/uri.js'
import type { FlagSpec } from '../args.js'

/** `awskms://, gcpkms://, azurekms://, hashivault://, openbao://`: every KMS scheme a `--key` may use. */
const KMS_FORMS = KMS_SCHEMES.map((s) => `${s}://`).join(', ')

/**
 * The help of a `--key` flag: what the file holds, then the other reference forms.
 *
 * @example
 * keyHelp('path to the private key file') // 'path to the private key file, env://NAME (…) or a KMS key URI: awskms://, …'
 */
export function keyHelp(file: string): string {
  return `${file}, env://NAME (the PEM in environment variable NAME) or a KMS key URI: ${KMS_FORMS} (see docs/kms.md)`
}

/**
 * `--key` of `sign`, `attest`, `sign-blob`, `attest-blob` and `public-key`: one private key (absent: keyless).
 *
 * @example
 * const flags: readonly FlagSpec[] = [SIGNING_KEY_FLAG, ...SIGNING_FLAGS]
 */
export const SIGNING_KEY_FLAG: FlagSpec = { name: 'key', type: 'string', help: keyHelp('path to the private key file') }

/**
 * `--key` of the blob verbs that check one public key (`verify-blob`, `verify-bundle`).
 *
 * @example
 * const flags: readonly FlagSpec[] = [VERIFICATION_KEY_FLAG, ...KEYLESS_FLAGS]
 */
export const VERIFICATION_KEY_FLAG: FlagSpec = {
  name: 'key',
  type: 'string',
  help: keyHelp('path to the public key file'),
}

/**
 * `--key` of the verbs that accept several public keys (repeated or comma-separated); any one may verify.
 *
 * @example
 * const flags: readonly FlagSpec[] = [VERIFICATION_KEYS_FLAG, ...KEYLESS_FLAGS]
 */
export const VERIFICATION_KEYS_FLAG: FlagSpec = {
  name: 'key',
  type: 'strings',
  help: `${keyHelp('path to a public key file')}; repeat (or comma-separate) for several keys, any one may verify`,
}
