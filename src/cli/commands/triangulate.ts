/** `triangulate`: print where cosign keeps an image's signatures, attestations or SBOM. @module */
import { CountersignError } from '../../errors.js'
import { resolveDigest } from '../../image/resolve.js'
import { referenceToString, repositoryName } from '../../oci/reference.js'
import { attachmentReference } from '../../signature/cosign-tags.js'
import type { FlagSpec } from '../args.js'
import { openImage, signatureRepository } from '../context.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS } from '../flags/registry.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  {
    name: 'type',
    type: 'string',
    default: 'signature',
    help: 'related object: signature, attestation, sbom or digest',
  },
  LOCAL_IMAGE_FLAG,
  ...REGISTRY_FLAGS,
]

const SUFFIX = { signature: 'sig', attestation: 'att', sbom: 'sbom' } as const

/** `triangulate`. */
export const triangulateCommand: Command = {
  name: 'triangulate',
  usage: 'countersign triangulate [--type signature|attestation|sbom|digest] IMAGE',
  description: 'Outputs the located cosign image reference (the tag where signatures are stored).',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const type = String(f.type)
    if (type !== 'digest' && !(type in SUFFIX)) throw new CountersignError('ERR_INVALID_INPUT', `unknown type: ${type}`)
    const target = openImage(args[0]!, f, io)
    const digest = await resolveDigest(target.ref, target.store, undefined, {})
    if (type === 'digest') {
      io.stdout.write(`${repositoryName(target.ref)}@${digest}\n`)
      return 0
    }
    const ref = attachmentReference(target.ref, digest, SUFFIX[type as keyof typeof SUFFIX], signatureRepository(io))
    io.stdout.write(`${referenceToString(ref)}\n`)
    return 0
  },
}
