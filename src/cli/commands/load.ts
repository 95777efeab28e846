/** `load`: push an image saved with `save` (or `cosign save`), with its signatures, back to a registry. @module */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { type LayoutTransferResult, loadImage } from '../../artifacts/save-load.js'
import { CountersignError } from '../../errors.js'
import { createNodeLayoutFileSystem } from '../../node/layout-fs.js'
import type { FlagSpec } from '../args.js'
import { REPORT_OUTPUT_FLAG, reportFormat, writeReport } from '../flags/output.js'
import { REGISTRY_FLAGS } from '../flags/registry.js'
import { openImage, signatureRepository } from '../images.js'
import type { Command } from './command.js'
import { blobProgress, layoutReport } from './save.js'

const flags: readonly FlagSpec[] = [
  { name: 'dir', type: 'string', help: 'path to directory where the signed image is stored on disk (required)' },
  REPORT_OUTPUT_FLAG,
  ...REGISTRY_FLAGS,
]

/** `load`. */
export const loadCommand: Command = {
  name: 'load',
  usage: 'countersign load --dir DIR IMAGE',
  description:
    'Load a signed image on disk to a remote registry\n\n' +
    '-o json prints one object (digests of what was loaded; null when the image had no .sig/.att image):\n' +
    '  {"image", "dir", "digest", "kind": "image"|"imageIndex", "signatures", "attestations",\n' +
    '   "referrers": [{"digest", "artifactType"}]}',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    const format = reportFormat(f)
    if (typeof f.dir !== 'string' || f.dir === '') {
      throw new CountersignError('ERR_INVALID_INPUT', 'required flag(s) "dir" not set')
    }
    const dir = resolve(io.cwd, f.dir)
    if (!existsSync(join(dir, 'index.json'))) {
      throw new CountersignError('ERR_OCI_NOT_FOUND', `no OCI image layout at ${join(dir, 'index.json')}`)
    }
    const target = openImage(args[0]!, f, io)
    const sigRepo = signatureRepository(io)
    const progress = blobProgress(io.stderr, 'Loading')
    let result: LayoutTransferResult
    try {
      result = await loadImage(target.ref, {
        store: target.store,
        fs: createNodeLayoutFileSystem(dir),
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
