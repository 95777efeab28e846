/**
 * `verify-blob-attestation`: verify a blob attestation bundle (what `attest-blob` writes), as cosign does: the DSSE
 * signature by key (file or KMS) or certificate identity, the transparency log unless `--insecure-ignore-tlog`, the
 * statement's subject digest against the blob (unless `--check-claims=false`), and the predicate type (`--type`).
 * @module
 */
import { resolvePredicateType } from '../../attestation/predicates.js'
import { parseStatement } from '../../attestation/statement.js'
import { CountersignError } from '../../errors.js'
import { type BundlePolicy, verifyBundle } from '../../verifier/verify-bundle.js'
import { type FlagSpec, withHelp } from '../args.js'
import { loadTrustedRoot } from '../context.js'
import { CHECK_CLAIMS_FLAG, PREDICATE_TYPE_FLAG } from '../flags/attestation.js'
import { VERIFICATION_KEYS_FLAG } from '../flags/key.js'
import { KEYLESS_FLAGS, sigstoreOptionsFromFlags } from '../flags/keyless.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { INSECURE_IGNORE_TLOG_FLAG } from '../flags/trust.js'
import { VERBOSE_FLAG } from '../flags/verbose.js'
import { loadVerificationKeys } from '../key-refs.js'
import { bundleVerificationReport } from '../report.js'
import type { Command } from './command.js'
import { readBlob, readInputFile } from './sign-blob.js'

const flags: readonly FlagSpec[] = [
  VERIFICATION_KEYS_FLAG,
  { name: 'bundle', type: 'string', help: 'the attestation bundle (from attest-blob)' },
  withHelp(PREDICATE_TYPE_FLAG, 'predicate type the attestation must have (alias or URI)'),
  withHelp(CHECK_CLAIMS_FLAG, 'check that the statement names the blob (its sha256)'),
  withHelp(INSECURE_IGNORE_TLOG_FLAG, 'ignore transparency log verification'),
  REPORT_OUTPUT_FLAG,
  ...KEYLESS_FLAGS,
  VERBOSE_FLAG,
]

/** `verify-blob-attestation`. */
export const verifyBlobAttestationCommand: Command = {
  name: 'verify-blob-attestation',
  usage:
    'countersign verify-blob-attestation --bundle FILE (--key PUB | --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL) [--type TYPE] BLOB',
  description:
    'Verify an attestation bundle of a blob (what attest-blob writes).\n\n' +
    '-o json prints one object once verified ("Verified OK" still goes to stderr; failures print nothing on stdout):\n' +
    '  {"verified": true, "blob": FILE|null, "bundle", "predicateType", "signer", "tlogEntries", "timestamps",\n' +
    '   "verifiedTimes"}',
  flags,
  async run({ flags: f, args }, io) {
    const checkClaims = f['check-claims'] !== false
    const format = reportFormat(f)
    if (args.length > 1 || (checkClaims && args.length !== 1)) {
      throw new CountersignError('ERR_INVALID_INPUT', 'exactly one blob is required (or --check-claims=false)')
    }
    if (typeof f.bundle !== 'string' || f.bundle === '') {
      throw new CountersignError('ERR_INVALID_INPUT', 'must specify --bundle')
    }
    const predicateType = resolvePredicateType(String(f.type))
    const keyFlags = f.key as string[]
    const hasKey = keyFlags.length > 0
    const ignoreTlog = f['insecure-ignore-tlog'] === true
    const sigstore = await sigstoreOptionsFromFlags(f, io, hasKey, ignoreTlog)
    if (!hasKey && sigstore.identity === undefined) {
      throw new CountersignError('ERR_INVALID_INPUT', 'either --key or --certificate-identity is required')
    }
    const keys = hasKey ? await loadVerificationKeys(keyFlags, io) : []
    const bundleBytes = await readInputFile(f.bundle, io)
    const artifact = checkClaims ? await readBlob(args[0]!, io) : undefined
    const trustedRoot = sigstore.trustedRoot ?? (await loadTrustedRoot(undefined, io))
    const keyless = keys.length === 0
    const options = {
      trustedRoot,
      tlogThreshold: ignoreTlog ? 0 : 1,
      ctlogThreshold: keyless && sigstore.insecureIgnoreSct !== true ? 1 : 0,
      ...(sigstore.useSignedTimestamps ? { signedTimestampThreshold: 1 } : {}),
      // Without the log, nothing may date the signature: check certificates now, as cosign (WithCurrentTime).
      ...(ignoreTlog ? { useCurrentTime: true } : {}),
      ...(sigstore.signatureBackend ? { signatureBackend: sigstore.signatureBackend } : {}),
    }
    const policies: BundlePolicy[] = keyless ? [{ identity: sigstore.identity! }] : keys.map((key) => ({ key }))
    let result: Awaited<ReturnType<typeof verifyBundle>> | undefined
    let lastError: unknown
    for (const policy of policies) {
      try {
        result = await verifyBundle(bundleBytes, artifact, { ...options, policy })
        break
      } catch (error) {
        lastError = error
      }
    }
    if (result === undefined) throw lastError
    const content = result.bundle.content
    if (content.type !== 'dsseEnvelope') {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'the bundle holds no DSSE envelope (not an attestation)')
    }
    // The same statement reader verify-attestation uses (a signed payload that is not a statement is refused).
    const statement = parseStatement(content.envelope.payload)
    if (statement.predicateType !== predicateType) {
      throw new CountersignError(
        'ERR_CLAIMS_INVALID',
        `the attestation's predicate type ${JSON.stringify(statement.predicateType)} is not ${predicateType}`,
      )
    }
    io.stderr.write('Verified OK\n')
    if (format === 'json') {
      // Ours (cosign's verify-blob-attestation prints no JSON).
      writeReport(io.stdout, {
        verified: true,
        blob: args[0] ?? null,
        bundle: f.bundle,
        predicateType: statement.predicateType,
        ...bundleVerificationReport(result),
      })
    }
    return 0
  },
}
