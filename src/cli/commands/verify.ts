/** `verify`: verify image signatures by key or certificate identity, with cosign's output shape. @module */
import { CountersignError } from '../../errors.js'
import { type SignatureCheck, verifyImage } from '../../image/verify.js'
import { goMarshal, goObject } from '../../internal/go-json.js'
import { referenceToString } from '../../oci/reference.js'
import type { Reference } from '../../oci/types.js'
import { type FlagSpec, withHelp } from '../args.js'
import { ANNOTATIONS_FLAG, annotationsFromFlags } from '../flags/annotations.js'
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
  withHelp(ANNOTATIONS_FLAG, 'key=value annotations every signature must carry'),
  INSECURE_IGNORE_TLOG_FLAG,
  JSON_OUTPUT_FLAG,
  SIGNATURE_DIGEST_ALGORITHM_FLAG,
  LOCAL_IMAGE_FLAG,
  ...KEYLESS_FLAGS,
  ...REGISTRY_FLAGS,
]

/** `verify`. */
export const verifyCommand: Command = {
  name: 'verify',
  usage:
    'countersign verify (--key cosign.pub | --certificate-identity[-regexp] ID --certificate-oidc-issuer[-regexp] URL) [--trusted-root FILE] [--insecure-ignore-tlog] [-a key=value]... IMAGE...',
  description: 'Verify signatures on the supplied container images (registry reference or oci:DIR[:tag|@digest]).',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'at least one image is required')
    const output = outputFlag(f.output)
    const { hasKey, sigstore, options } = await imageVerificationFromFlags(f, io)
    const annotations = annotationsFromFlags(f)
    const sigRepo = signatureRepository(io)
    for (const image of args) {
      const target = openImage(image, f, io)
      const result = await verifyImage(target.ref, {
        store: target.store,
        annotations,
        ...options,
        ...(sigRepo ? { signatureRepository: sigRepo } : {}),
      })
      const lines = [
        `\nVerification for ${image} --`,
        'The following checks were performed on each of these signatures:',
      ]
      if (Object.keys(annotations).length > 0) lines.push('  - The specified annotations were verified.')
      lines.push('  - The cosign claims were validated', ...checkedLines(sigstore, hasKey))
      io.stderr.write(`${lines.join('\n')}\n`)
      reportRegistryRequests(target, f, io)
      if (output === 'text') {
        for (const c of result.verified) io.stdout.write(`${new TextDecoder().decode(c.payload)}\n`)
      } else {
        const items = result.verified.map((c) => verificationOutput(c, target.ref, result.digest))
        io.stdout.write(`\n${goMarshal(items)}\n`)
      }
    }
    return 0
  },
}

/**
 * One element of cosign's JSON output. Legacy signatures print their signed payload's fields; for bundles cosign
 * synthesises the same shape from the reference, the digest, the statement's predicate type and its annotations.
 */
function verificationOutput(c: SignatureCheck, ref: Reference, digest: string) {
  const critical = (identity: string, type: string) =>
    goObject([
      ['identity', goObject([['docker-reference', identity]])],
      ['image', goObject([['docker-manifest-digest', digest]])],
      ['type', type],
    ])
  if (c.format === 'bundle') {
    const hex = digest.slice(digest.indexOf(':') + 1)
    const subject = c.statement?.subject.find((s) => Object.values(s.digest ?? {}).includes(hex))
    return goObject([
      ['critical', critical(referenceToString(ref), c.statement?.predicateType ?? '')],
      ['optional', subject?.annotations ?? {}],
    ])
  }
  // cosign adds the certificate's subject and issuer to a legacy keyless signature's `optional`.
  const optional = c.identity
    ? {
        ...(c.claims!.optional ?? {}),
        Subject: c.identity.subject,
        Issuer: c.identity.issuer ?? '',
        '1.3.6.1.4.1.57264.1.1': c.identity.issuer ?? '',
      }
    : c.claims!.optional
  return goObject([
    ['critical', critical(c.claims!.critical.identity['docker-reference'], c.claims!.critical.type)],
    ['optional', optional],
  ])
}
