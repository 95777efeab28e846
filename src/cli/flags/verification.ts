/**
 * What `verify` and `verify-attestation` read alike: the public keys (files or KMS), the keyless identity, the trust
 * flags and `--signature-digest-algorithm`, turned into the options of an image verification.
 * @module
 */
import { CountersignError } from '../../errors.js'
import type { HashAlgorithm, PublicKey, VerifyOptions } from '../../keys/types.js'
import type { SigstoreVerificationOptions } from '../../verifier/sigstore-check.js'
import type { FlagSpec, ParsedFlags } from '../args.js'
import type { CliIO } from '../context.js'
import { loadVerificationKeys } from '../key-refs.js'
import { kmsVerifyDefaults } from '../kms.js'
import { sigstoreOptionsFromFlags } from './keyless.js'

/**
 * `--signature-digest-algorithm` of the image verbs (read with {@link digestAlgorithmFlag}).
 *
 * @example
 * const flags: readonly FlagSpec[] = [VERIFICATION_KEYS_FLAG, SIGNATURE_DIGEST_ALGORITHM_FLAG]
 */
export const SIGNATURE_DIGEST_ALGORITHM_FLAG: FlagSpec = {
  name: 'signature-digest-algorithm',
  type: 'string',
  help: "digest algorithm: sha256, sha384 or sha512 (default sha256, or the KMS key's own)",
}

/**
 * `--signature-digest-algorithm`: sha256 (cosign's default), sha384 or sha512; `undefined` when not given.
 *
 * @example
 * const hash = digestAlgorithmFlag(flags['signature-digest-algorithm']) ?? 'sha256'
 */
export function digestAlgorithmFlag(value: unknown): HashAlgorithm | undefined {
  if (value === undefined) return undefined
  const hash = String(value)
  if (hash !== 'sha256' && hash !== 'sha384' && hash !== 'sha512') {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported digest algorithm: ${hash}`)
  }
  return hash
}

/** The verification options every image verb passes on (spread into `verifyImage` / `verifyImageAttestations`). */
export interface ImageVerificationOptions extends SigstoreVerificationOptions {
  readonly keys: PublicKey[]
  readonly hash: HashAlgorithm
  /** RSA-PSS padding for a KMS key that signs with it (cosign verifies a KMS key with its own scheme). */
  readonly verifyOptions?: VerifyOptions
}

/** What {@link imageVerificationFromFlags} read. */
export interface ImageVerificationFlags {
  readonly hasKey: boolean
  /** The Sigstore part alone, for cosign's "checks performed" header (`checkedLines`). */
  readonly sigstore: SigstoreVerificationOptions
  readonly options: ImageVerificationOptions
}

/**
 * Read `--key` (several, files or KMS), `--signature-digest-algorithm` (default: the KMS key's hash, else sha256),
 * `--insecure-ignore-tlog` and the keyless flags, in the order whose first failure cosign reports.
 *
 * @example
 * const { hasKey, sigstore, options } = await imageVerificationFromFlags(flags, io)
 * const result = await verifyImage(target.ref, { store: target.store, ...options })
 */
export async function imageVerificationFromFlags(f: ParsedFlags, io: CliIO): Promise<ImageVerificationFlags> {
  const keyFlags = f.key as string[]
  const kmsDefaults = await kmsVerifyDefaults(keyFlags, io)
  const hash = digestAlgorithmFlag(f['signature-digest-algorithm']) ?? kmsDefaults.hash ?? 'sha256'
  const hasKey = keyFlags.length > 0
  const sigstore = await sigstoreOptionsFromFlags(f, io, hasKey, f['insecure-ignore-tlog'] === true)
  const keys = hasKey ? await loadVerificationKeys(keyFlags, io) : []
  return {
    hasKey,
    sigstore,
    options: {
      keys,
      ...sigstore,
      hash,
      ...(kmsDefaults.rsaPadding ? { verifyOptions: { rsaPadding: kmsDefaults.rsaPadding } } : {}),
    },
  }
}
