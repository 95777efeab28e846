/** `tree`: show everything attached to an image (signatures, attestations, SBOMs, referrers), as cosign does. @module */
import { formatAttachmentTree, getAttachmentTree } from '../../artifacts/tree.js'
import { CountersignError } from '../../errors.js'
import { referenceToString } from '../../oci/reference.js'
import { type FlagSpec, withHelp } from '../args.js'
import { openImage, signatureRepository } from '../context.js'
import { REGISTRY_REFERRERS_MODE_FLAG, referrersMode } from '../flags/attachment.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS } from '../flags/registry.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  {
    name: 'experimental-oci11',
    type: 'bool',
    default: true,
    help: 'list OCI 1.1 referrers too (deprecated in cosign; false ignores them)',
  },
  withHelp(
    REGISTRY_REFERRERS_MODE_FLAG,
    'legacy or oci-1-1 (needs COSIGN_EXPERIMENTAL=1; lists referrers even with --experimental-oci11=false)',
  ),
  LOCAL_IMAGE_FLAG,
  ...REGISTRY_FLAGS,
]

/** `tree`. */
export const treeCommand: Command = {
  name: 'tree',
  usage: 'countersign tree IMAGE',
  description:
    'Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const image = args[0]!
    const oci11 = referrersMode(f, io) === 'oci-1-1' || f['experimental-oci11'] !== false
    const target = openImage(image, f, io)
    const sigRepo = signatureRepository(io)
    const tree = await getAttachmentTree(target.ref, {
      store: target.store,
      referrers: oci11,
      ...(sigRepo ? { signatureRepository: sigRepo } : {}),
    })
    for (const e of tree.errors)
      io.stderr.write(`Error fetching artifact ${referenceToString(e.reference)}: ${e.message}\n`)
    io.stdout.write(formatAttachmentTree(tree, image))
    return 0
  },
}
