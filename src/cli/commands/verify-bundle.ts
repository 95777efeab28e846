/**
 * `verify-bundle`: verify one Sigstore bundle offline, speaking the sigstore-conformance client protocol so the
 * conformance suite (and any script) can drive countersign. Exit 0 when verified, 1 otherwise.
 * @module
 */
import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { CountersignError } from '../../errors.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import { nodeSignatureBackend } from '../../node/signature-backend.js'
import { parseTrustedRoot } from '../../trust/trusted-root.js'
import { type BundlePolicy, type BundleVerifierOptions, verifyBundle } from '../../verifier/verify-bundle.js'
import { type FlagSpec, withHelp } from '../args.js'
import { VERIFICATION_KEY_FLAG } from '../flags/key.js'
import { IDENTITY_FLAGS } from '../flags/keyless.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { OFFLINE_FLAG, TRUSTED_ROOT_FLAG } from '../flags/trust.js'
import { bundleVerificationReport } from '../report.js'
import { cliTrust, useOfflineTrust } from '../trust-source.js'
import type { Command } from './command.js'

/** The conformance protocol's wording for the keyless identity flags. */
const IDENTITY_HELP: Readonly<Record<string, string>> = {
  'certificate-identity': 'expected certificate SAN (exact)',
  'certificate-identity-regexp': 'expected certificate SAN (RE2 regexp, unanchored)',
  'certificate-oidc-issuer': 'expected OIDC issuer (exact)',
  'certificate-oidc-issuer-regexp': 'expected OIDC issuer (regexp)',
}

const flags: readonly FlagSpec[] = [
  { name: 'bundle', type: 'string', help: 'the Sigstore bundle (JSON file)' },
  withHelp(VERIFICATION_KEY_FLAG, 'path to the public key file (PEM) for managed-key bundles (files only here)'),
  ...IDENTITY_FLAGS.map((spec) => withHelp(spec, IDENTITY_HELP[spec.name]!)),
  withHelp(TRUSTED_ROOT_FLAG, 'trusted_root.json (default: from the TUF repository, see countersign initialize)'),
  OFFLINE_FLAG,
  { name: 'tlog-threshold', type: 'string', help: 'verified transparency-log entries required (default 1)' },
  { name: 'ctlog-threshold', type: 'string', help: 'verified SCTs required (default 1)' },
  { name: 'signed-timestamp-threshold', type: 'string', help: 'verified RFC 3161 timestamps required (default 0)' },
  { name: 'observer-timestamp-threshold', type: 'string', help: 'verified times of either kind required (default 1)' },
  REPORT_OUTPUT_FLAG,
]

const THRESHOLDS: readonly [string, keyof BundleVerifierOptions][] = [
  ['tlog-threshold', 'tlogThreshold'],
  ['ctlog-threshold', 'ctlogThreshold'],
  ['signed-timestamp-threshold', 'signedTimestampThreshold'],
  ['observer-timestamp-threshold', 'observerTimestampThreshold'],
]

/** `verify-bundle`. */
export const verifyBundleCommand: Command = {
  name: 'verify-bundle',
  usage:
    'countersign verify-bundle --bundle FILE [--key PUB | --certificate-identity[-regexp] X --certificate-oidc-issuer[-regexp] Y] [--trusted-root FILE] ARTIFACT_PATH | sha256:HEX | sha512:HEX',
  description:
    'Verify a Sigstore bundle offline (sigstore-conformance client protocol).\n\n' +
    '-o json prints one object once verified (failures print nothing on stdout; exit 1, the error on stderr):\n' +
    '  {"verified": true, "bundle", "artifact", "signer": {"type": "certificate", "subject", "subjectType", "issuer"}\n' +
    '   | {"type": "key", "key", "hint"?}, "tlogEntries", "timestamps", "verifiedTimes"}',
  flags,
  async run({ flags: f, args }, io) {
    const str = (n: string) => (typeof f[n] === 'string' ? (f[n] as string) : undefined)
    const format = reportFormat(f)
    const bundlePath = str('bundle')
    if (!bundlePath || args.length !== 1) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        'usage: verify-bundle --bundle FILE ARTIFACT_PATH|sha256:HEX|sha512:HEX',
      )
    }
    const read = (p: string) => readFile(resolve(io.cwd, p))
    const target = args[0]!
    const artifact = /^sha(256|512):[0-9a-f]+$/.test(target) ? { digest: target } : new Uint8Array(await read(target))
    if (f.offline === true) useOfflineTrust(io)
    const trustedRoot = str('trusted-root')
      ? parseTrustedRoot(await read(str('trusted-root')!))
      : (await cliTrust(io)).trustedRoot
    const subject = str('certificate-identity')
    const subjectRegExp = str('certificate-identity-regexp')
    const issuer = str('certificate-oidc-issuer')
    const issuerRegExp = str('certificate-oidc-issuer-regexp')
    const keyPath = str('key')
    if (!keyPath && !subject && !subjectRegExp) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        'one of --key, --certificate-identity or --certificate-identity-regexp is required',
      )
    }
    const policy: BundlePolicy = keyPath
      ? { key: parsePublicKey((await read(keyPath)).toString('utf8')) }
      : {
          identity: {
            ...(subject ? { subject } : {}),
            ...(subjectRegExp ? { subjectRegExp } : {}),
            ...(issuer ? { issuer } : {}),
            ...(issuerRegExp ? { issuerRegExp } : {}),
            ...(!issuer && !issuerRegExp ? { allowAnyIssuer: true } : {}),
          },
        }
    const options: Record<string, number> = {}
    for (const [flag, option] of THRESHOLDS) {
      const v = str(flag)
      if (v === undefined) continue
      if (!/^\d+$/.test(v)) throw new CountersignError('ERR_INVALID_INPUT', `--${flag} must be a non-negative integer`)
      options[option] = Number(v)
    }
    // Node's synchronous OpenSSL verify: same verdicts as Web Crypto, without a thread-pool hop per signature.
    const result = await verifyBundle(new Uint8Array(await read(bundlePath)), artifact, {
      trustedRoot,
      policy,
      ...options,
      signatureBackend: nodeSignatureBackend,
    })
    io.stderr.write('Verified OK\n')
    if (format === 'json') {
      // Ours: the conformance protocol has no output but the exit code.
      writeReport(io.stdout, {
        verified: true,
        bundle: bundlePath,
        artifact: target,
        ...bundleVerificationReport(result, keyPath),
      })
    }
    return 0
  },
}
