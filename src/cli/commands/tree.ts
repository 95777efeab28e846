/** `tree`: show everything attached to an image (signatures, attestations, SBOMs, referrers), as cosign does. @module */
import { type AttachmentTree, formatAttachmentTree, getAttachmentTree } from '../../artifacts/tree.js'
import { CountersignError } from '../../errors.js'
import { referenceToString } from '../../oci/reference.js'
import type { Descriptor } from '../../oci/types.js'
import { type FlagSpec, withHelp } from '../args.js'
import { REGISTRY_REFERRERS_MODE_FLAG, referrersMode } from '../flags/attachment.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { LOCAL_IMAGE_FLAG, REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage, signatureRepository } from '../images.js'
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
  REPORT_OUTPUT_FLAG,
  LOCAL_IMAGE_FLAG,
  ...REGISTRY_FLAGS,
]

/** `tree`. */
export const treeCommand: Command = {
  name: 'tree',
  usage: 'countersign tree IMAGE',
  description:
    'Display supply chain security related artifacts for an image such as signatures, SBOMs and attestations\n\n' +
    '-o json prints one object (layers are {"mediaType", "digest", "size"}; errors are referrers that could not be read):\n' +
    '  {"image", "digest", "tags": [{"kind": "sig"|"att"|"sbom", "reference", "manifestDigest", "layers"}],\n' +
    '   "referrers": [{"artifactType", "reference", "layers"}], "errors": [{"reference", "message"}]}',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const format = reportFormat(f)
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
    if (format === 'json') writeReport(io.stdout, treeReport(tree, image))
    else io.stdout.write(formatAttachmentTree(tree, image))
    return 0
  },
}

/** `tree -o json` (ours: cosign's tree prints text only). */
function treeReport(tree: AttachmentTree, image: string) {
  const layers = (ls: readonly Descriptor[]) =>
    ls.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size }))
  return {
    image,
    digest: tree.digest,
    tags: tree.tags.map((t) => ({
      kind: t.kind,
      reference: referenceToString(t.reference),
      manifestDigest: t.manifestDigest,
      layers: layers(t.layers),
    })),
    referrers: tree.referrers.map((r) => ({
      artifactType: r.artifactType,
      reference: referenceToString(r.reference),
      layers: layers(r.layers),
    })),
    errors: tree.errors.map((e) => ({ reference: referenceToString(e.reference), message: e.message })),
  }
}
