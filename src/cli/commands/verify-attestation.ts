/** `verify-attestation`: verify image attestations by key or certificate identity, with cosign's output. @module */
import { CountersignError, isCountersignError } from '../../errors.js'
import { verifyImageAttestations } from '../../image/verify-attestation.js'
import { type FlagSpec, withHelp } from '../args.js'
import { CHECK_CLAIMS_FLAG, PREDICATE_TYPE_FLAG } from '../flags/attestation.js'
import { VERIFICATION_KEYS_FLAG } from '../flags/key.js'
import { checkedLines, KEYLESS_FLAGS } from '../flags/keyless.js'
import { JSON_OUTPUT_FLAG, outputFlag } from '../flags/output.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS, reportRegistryRequests } from '../flags/registry.js'
import { INSECURE_IGNORE_TLOG_FLAG } from '../flags/trust.js'
import { imageVerificationFromFlags, SIGNATURE_DIGEST_ALGORITHM_FLAG } from '../flags/verification.js'
import { openImage, signatureRepository } from '../images.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  VERIFICATION_KEYS_FLAG,
  withHelp(
    PREDICATE_TYPE_FLAG,
    'predicate type to accept (slsaprovenance|slsaprovenance02|slsaprovenance1|link|spdx|spdxjson|cyclonedx|vuln|openvex|custom) or a URI',
  ),
  INSECURE_IGNORE_TLOG_FLAG,
  CHECK_CLAIMS_FLAG,
  withHelp(
    JSON_OUTPUT_FLAG,
    'output format: json or text (attestations are always printed as their envelope JSON, as cosign does)',
  ),
  SIGNATURE_DIGEST_ALGORITHM_FLAG,
  LOCAL_IMAGE_FLAG,
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
    const { hasKey, sigstore, options } = await imageVerificationFromFlags(f, io)
    const sigRepo = signatureRepository(io)
    for (const image of args) {
      const target = openImage(image, f, io)
      let result: Awaited<ReturnType<typeof verifyImageAttestations>>
      try {
        result = await verifyImageAttestations(target.ref, {
          store: target.store,
          predicateType: String(f.type),
          ...options,
          checkClaims: f['check-claims'] !== false,
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
      reportRegistryRequests(target, f, io)
      // cosign prints each attestation's envelope JSON on its own line, whatever --output says.
      for (const c of result.verified) io.stdout.write(`${new TextDecoder().decode(c.envelopeJSON)}\n`)
    }
    return 0
  },
}
