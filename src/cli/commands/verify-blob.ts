/** `verify-blob`: verify a blob's signature or bundle by key or certificate identity, with cosign's messages. @module */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { decodeBlobSignature, verifyBlob } from '../../blob/verify-blob.js'
import { CountersignError } from '../../errors.js'
import { utf8 } from '../../internal/bytes.js'
import type { HashAlgorithm } from '../../keys/types.js'
import { type FlagSpec, stringFlag, withHelp } from '../args.js'
import type { CliIO } from '../context.js'
import { legacyFormatRequested, NEW_BUNDLE_FORMAT_FLAG } from '../flags/attachment.js'
import { VERIFICATION_KEY_FLAG } from '../flags/key.js'
import { KEYLESS_FLAGS, sigstoreOptionsFromFlags } from '../flags/keyless.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { INSECURE_IGNORE_TLOG_FLAG } from '../flags/trust.js'
import { VERBOSE_FLAG } from '../flags/verbose.js'
import { digestAlgorithmFlag, SIGNATURE_DIGEST_ALGORITHM_FLAG } from '../flags/verification.js'
import { loadVerificationKeys } from '../key-refs.js'
import { bundleVerificationReport, identityReport } from '../report.js'
import type { Command } from './command.js'
import { readBlob, readInputFile } from './sign-blob.js'

const flags: readonly FlagSpec[] = [
  VERIFICATION_KEY_FLAG,
  { name: 'signature', type: 'string', help: 'signature content or path' },
  { name: 'bundle', type: 'string', help: 'path to bundle FILE' },
  withHelp(INSECURE_IGNORE_TLOG_FLAG, 'ignore transparency log verification'),
  { name: 'private-infrastructure', type: 'bool', help: 'deprecated alias of --insecure-ignore-tlog' },
  withHelp(
    NEW_BUNDLE_FORMAT_FLAG,
    'expect a Sigstore bundle in --bundle (false: only the older base64Signature bundle)',
  ),
  withHelp(
    SIGNATURE_DIGEST_ALGORITHM_FLAG,
    'digest algorithm: sha256, sha384 or sha512 (default: from the bundle, else the key)',
  ),
  { name: 'certificate', type: 'string', help: 'keyless: a detached certificate (not supported; use --bundle)' },
  REPORT_OUTPUT_FLAG,
  ...KEYLESS_FLAGS,
  VERBOSE_FLAG,
]

/** A `--signature` value is a file path when such a file exists, else the signature itself (cosign's rule). */
async function readSignature(value: string, io: CliIO): Promise<Uint8Array> {
  let content: Uint8Array
  try {
    content = new Uint8Array(await readFile(resolve(io.cwd, value)))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    // A long base64 value can be an invalid file name (ENAMETOOLONG); either way it is the signature itself.
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'ENAMETOOLONG') return readInputFile(value, io)
    content = utf8(value)
  }
  return decodeBlobSignature(content)
}

/** `verify-blob`. */
export const verifyBlobCommand: Command = {
  name: 'verify-blob',
  usage:
    'countersign verify-blob (--key cosign.pub [--insecure-ignore-tlog] (--bundle FILE | --signature SIG) | --bundle FILE --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL [--trusted-root FILE]) BLOB',
  description:
    'Verify a signature on the supplied blob (a file, or - for stdin).\n\n' +
    '-o json prints one object once verified ("Verified OK" still goes to stderr; failures print nothing on stdout):\n' +
    '  {"verified": true, "blob", "source": "bundle"|"legacy-bundle"|"signature", "signer", "tlogEntries", "timestamps",\n' +
    '   "verifiedTimes"} (the lists are empty when only the key was checked, with --insecure-ignore-tlog)',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', `accepts 1 arg(s), received ${args.length}`)
    const format = reportFormat(f)
    const str = (name: string) => stringFlag(f, name)
    const key = str('key')
    if (key === undefined && str('certificate') === undefined && str('bundle') === undefined) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        'provide a key with --key or --sk, a certificate to verify against with --certificate, or a bundle with --bundle',
      )
    }
    if (key !== undefined && (str('certificate-identity') || str('certificate-identity-regexp'))) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        'exactly one of: key reference (--key) or certificate identity (--certificate-identity or --certificate-identity-regexp), must be provided',
      )
    }
    if (str('certificate') !== undefined) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        'verification with a detached --certificate is not supported; give a Sigstore bundle with --bundle',
      )
    }
    const hashFlag = digestAlgorithmFlag(str('signature-digest-algorithm'))
    const privateInfra = f['private-infrastructure'] === true
    const ignoreTlog = f['insecure-ignore-tlog'] === true || privateInfra
    if (ignoreTlog && !privateInfra) {
      io.stderr.write(
        'WARNING: Skipping tlog verification is an insecure practice that lacks transparency and auditability verification for the blob.\n',
      )
    }
    const sigstore = await sigstoreOptionsFromFlags(f, io, key !== undefined, ignoreTlog)
    const keys = key !== undefined ? await loadVerificationKeys([key], io) : []
    const signature = str('signature')
    const bundle = str('bundle')
    const result = await verifyBlob(await readBlob(args[0]!, io), {
      keys,
      ...sigstore,
      ...(signature !== undefined ? { signature: await readSignature(signature, io) } : {}),
      ...(bundle !== undefined ? { bundle: await readInputFile(bundle, io) } : {}),
      bundleFormat: legacyFormatRequested(f) ? 'legacy' : 'auto',
      ...(hashFlag !== undefined ? { hash: hashFlag as HashAlgorithm } : {}),
    })
    io.stderr.write('Verified OK\n')
    if (format === 'json') {
      // Ours (cosign's verify-blob prints no JSON).
      const proved = result.verification
        ? bundleVerificationReport(result.verification, key)
        : {
            signer: result.identity ? identityReport(result.identity) : { type: 'key' as const, key },
            tlogEntries: [],
            timestamps: [],
            verifiedTimes: [],
          }
      writeReport(io.stdout, { verified: true, blob: args[0]!, source: result.source, ...proved })
    }
    return 0
  },
}
