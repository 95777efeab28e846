/** `load`: push an image saved with `save` (or `cosign save`), with its signatures, back to a registry. @module */
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { loadImage } from '../../artifacts/save-load.js'
import { CountersignError } from '../../errors.js'
import { createNodeLayoutFileSystem } from '../../node/layout-fs.js'
import type { FlagSpec } from '../args.js'
import { openImage, signatureRepository } from '../context.js'
import { REGISTRY_FLAGS } from '../flags/registry.js'
import type { Command } from './command.js'
import { blobProgress } from './save.js'

const flags: readonly FlagSpec[] = [
  { name: 'dir', type: 'string', help: 'path to directory where the signed image is stored on disk (required)' },
  ...REGISTRY_FLAGS,
]

/** `load`. */
export const loadCommand: Command = {
  name: 'load',
  usage: 'countersign load --dir DIR IMAGE',
  description: 'Load a signed image on disk to a remote registry',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
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
    try {
      await loadImage(target.ref, {
        store: target.store,
        fs: createNodeLayoutFileSystem(dir),
        ...(sigRepo ? { signatureRepository: sigRepo } : {}),
        onBlobProgress: progress.onBlobProgress,
      })
    } finally {
      progress.finish()
    }
    return 0
  },
}
