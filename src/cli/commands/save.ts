/** `save`: write an image with its signatures, attestations and referrers to an OCI layout (cosign's format). @module */
import { resolve } from 'node:path'
import { type LayoutTransferResult, saveImage } from '../../artifacts/save-load.js'
import { CountersignError } from '../../errors.js'
import { createNodeLayoutFileSystem } from '../../node/layout-fs.js'
import type { FlagSpec } from '../args.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage, signatureRepository } from '../images.js'
import { createTransferProgress, type TransferProgress } from '../progress.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  { name: 'dir', type: 'string', help: 'path to dir where the signed image should be stored on disk (required)' },
  REPORT_OUTPUT_FLAG,
  ...REGISTRY_FLAGS,
]

/**
 * One progress line for the whole copy (see {@link createTransferProgress}); `load` shares it.
 *
 * @example
 * const progress = blobProgress(io.stderr, 'Saving')
 */
export function blobProgress(stream: NodeJS.WritableStream, verb: string): TransferProgress {
  return createTransferProgress(stream, verb)
}

/** `save`. */
export const saveCommand: Command = {
  name: 'save',
  usage: 'countersign save --dir DIR IMAGE',
  description:
    'Save the container image and associated signatures to disk at the specified directory.\n\n' +
    '-o json prints one object (digests of what was saved; null when the image had no .sig/.att image):\n' +
    '  {"image", "dir", "digest", "kind": "image"|"imageIndex", "signatures", "attestations",\n' +
    '   "referrers": [{"digest", "artifactType"}]}',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const format = reportFormat(f)
    if (typeof f.dir !== 'string' || f.dir === '') {
      throw new CountersignError('ERR_INVALID_INPUT', 'required flag(s) "dir" not set')
    }
    const target = openImage(args[0]!, f, io)
    const sigRepo = signatureRepository(io)
    const progress = blobProgress(io.stderr, 'Saving')
    let result: LayoutTransferResult
    try {
      result = await saveImage(target.ref, {
        store: target.store,
        fs: createNodeLayoutFileSystem(resolve(io.cwd, f.dir)),
        ...(sigRepo ? { signatureRepository: sigRepo } : {}),
        onBlobProgress: progress.onBlobProgress,
      })
    } finally {
      progress.finish()
    }
    if (format === 'json') writeReport(io.stdout, layoutReport(args[0]!, f.dir, result))
    return 0
  },
}

/**
 * `save -o json` and `load -o json` (ours: cosign's save and load print no JSON).
 *
 * @example
 * writeReport(io.stdout, layoutReport('registry.local/app:v1', 'out', await saveImage(ref, options)))
 */
export function layoutReport(image: string, dir: string, result: LayoutTransferResult) {
  return {
    image,
    dir,
    digest: result.digest,
    kind: result.kind,
    signatures: result.signatures ?? null,
    attestations: result.attestations ?? null,
    referrers: result.referrers.map((r) => ({ digest: r.digest, artifactType: r.artifactType ?? null })),
  }
}
