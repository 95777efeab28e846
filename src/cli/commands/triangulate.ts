/** `triangulate`: print where cosign keeps an image's signatures, attestations or SBOM. @module */
import { CountersignError } from '../../errors.js'
import { resolveDigest } from '../../image/resolve.js'
import { referenceToString, repositoryName } from '../../oci/reference.js'
import { attachmentReference } from '../../signature/cosign-tags.js'
import type { FlagSpec } from '../args.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage, signatureRepository } from '../images.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  {
    name: 'type',
    type: 'string',
    default: 'signature',
    help: 'related object: signature, attestation, sbom or digest',
    values: ['signature', 'attestation', 'sbom', 'digest'],
  },
  REPORT_OUTPUT_FLAG,
  LOCAL_IMAGE_FLAG,
  ...REGISTRY_FLAGS,
]

const SUFFIX = { signature: 'sig', attestation: 'att', sbom: 'sbom' } as const

/** `triangulate`. */
export const triangulateCommand: Command = {
  name: 'triangulate',
  usage: 'countersign triangulate [--type signature|attestation|sbom|digest] IMAGE',
  description:
    'Outputs the located image reference: the tag where signatures (attestations, SBOMs) are stored, or the digest.\n\n' +
    '-o json prints one object: {"image", "type", "digest", "reference"} (reference is what the text output prints).',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const format = reportFormat(f)
    const type = String(f.type)
    if (type !== 'digest' && !(type in SUFFIX)) throw new CountersignError('ERR_INVALID_INPUT', `unknown type: ${type}`)
    const target = openImage(args[0]!, f, io)
    const digest = await resolveDigest(target.ref, target.store, undefined, {})
    const reference =
      type === 'digest'
        ? `${repositoryName(target.ref)}@${digest}`
        : referenceToString(
            attachmentReference(target.ref, digest, SUFFIX[type as keyof typeof SUFFIX], signatureRepository(io)),
          )
    // Ours (cosign's triangulate prints the reference only).
    if (format === 'json') writeReport(io.stdout, { image: args[0]!, type, digest, reference })
    else io.stdout.write(`${reference}\n`)
    return 0
  },
}
