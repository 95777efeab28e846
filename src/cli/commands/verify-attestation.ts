/** `verify-attestation`: verify image attestations by key or certificate identity, with cosign's output. @module */
import { CountersignError, isCountersignError } from '../../errors.js'
import { verifyImageAttestations } from '../../image/verify-attestation.js'
import type { HashAlgorithm } from '../../keys/index.js'
import type { FlagSpec } from '../args.js'
import { loadVerificationKeys, openImage, REGISTRY_FLAGS, signatureRepository } from '../context.js'
import {
  checkedLines,
  digestAlgorithmFlag,
  KEYLESS_FLAGS,
  outputFlag,
  sigstoreOptionsFromFlags,
} from '../keyless-flags.js'
import { kmsVerifyDefaults } from '../kms.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  { name: 'key', type: 'strings', help: 'path to a public key file; repeat (or comma-separate) for several keys' },
  {
    name: 'type',
    type: 'string',
    default: 'custom',
    help: 'predicate type to accept (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or a URI',
  },
  { name: 'insecure-ignore-tlog', type: 'bool', help: 'skip transparency log verification' },
  { name: 'check-claims', type: 'bool', default: true, help: 'check that a statement subject is the image digest' },
  {
    name: 'output',
    short: 'o',
    type: 'string',
    default: 'json',
    help: 'output format: json or text (attestations are always printed as their envelope JSON, as cosign does)',
  },
  {
    name: 'signature-digest-algorithm',
    type: 'string',
    help: "digest algorithm: sha256, sha384 or sha512 (default sha256, or the KMS key's own)",
  },
  { name: 'local-image', type: 'bool', help: 'IMAGE is a path to an OCI layout on disk' },
  ...KEYLESS_FLAGS,
  ...REGISTRY_FLAGS,
]

/** Failures cosign reports with exit code 1 (its ErrNoMatchingAttestations has no exit code of its own). */
const EXIT_1 = ['ERR_NO_SIGNATURES', 'ERR_NO_MATCHING_SIGNATURES', 'ERR_CLAIMS_INVALID'] as const

/** `verify-attestation`. */
export const verifyAttestationCommand: Command = {
  name: 'verify-attestation',
  usage:
    'countersign verify-attestation (--key cosign.pub | --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL) [--trusted-root FILE] [--insecure-ignore-tlog] [--type TYPE] IMAGE...',
  description:
    'Verify the attestations on the supplied container images (registry reference or oci:DIR[:tag|@digest]).',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one image is required')
    // Checked for cosign's error text; cosign prints the envelopes the same way for either format.
    outputFlag(f.output)
    const kmsDefaults = await kmsVerifyDefaults(f.key as string[], io)
    const hash = digestAlgorithmFlag(f['signature-digest-algorithm']) ?? kmsDefaults.hash ?? 'sha256'
    const keyFlags = f.key as string[]
    const hasKey = keyFlags.length > 0
    const sigstore = await sigstoreOptionsFromFlags(f, io, hasKey, f['insecure-ignore-tlog'] === true)
    const keys = hasKey ? await loadVerificationKeys(keyFlags, io) : []
    const sigRepo = signatureRepository(io)
    for (const image of args) {
      const target = openImage(image, f, io)
      let result: Awaited<ReturnType<typeof verifyImageAttestations>>
      try {
        result = await verifyImageAttestations(target.ref, {
          store: target.store,
          keys,
          predicateType: String(f.type),
          ...sigstore,
          checkClaims: f['check-claims'] !== false,
          hash: hash as HashAlgorithm,
          ...(kmsDefaults.rsaPadding ? { verifyOptions: { rsaPadding: kmsDefaults.rsaPadding } } : {}),
          ...(sigRepo ? { signatureRepository: sigRepo } : {}),
        })
      } catch (e) {
        if (!EXIT_1.some((code) => isCountersignError(e, code))) throw e
        io.stderr.write(`Error: ${(e as Error).message}\n`)
        return 1
      }
      const lines = [
        `\nVerification for ${image} --`,
        'The following checks were performed on each of these signatures:',
      ]
      if (f['check-claims'] !== false) lines.push('  - The cosign claims were validated')
      lines.push(...checkedLines(sigstore, hasKey))
      io.stderr.write(`${lines.join('\n')}\n`)
      if (f.verbose === true && !target.layout) io.stderr.write(`${target.requests()} registry requests\n`)
      // cosign prints each attestation's envelope JSON on its own line, whatever --output says.
      for (const c of result.verified) io.stdout.write(`${new TextDecoder().decode(c.envelopeJSON)}\n`)
    }
    return 0
  },
}
