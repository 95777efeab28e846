/** `save`: write an image with its signatures, attestations and referrers to an OCI layout (cosign's format). @module */
import { resolve } from 'node:path'
import { saveImage } from '../../artifacts/save-load.js'
import { CountersignError } from '../../errors.js'
import { createNodeLayoutFileSystem } from '../../node/layout-fs.js'
import type { FlagSpec } from '../args.js'
import { openImage, signatureRepository } from '../context.js'
import { REGISTRY_FLAGS } from '../flags/registry.js'
import { createProgressBar, type ProgressBar } from '../progress.js'
import type { Command } from './command.js'

const flags: readonly FlagSpec[] = [
  { name: 'dir', type: 'string', help: 'path to dir where the signed image should be stored on disk (required)' },
  ...REGISTRY_FLAGS,
]

/** One bar per blob, for those big enough to show one. */
export function blobProgress(stream: NodeJS.WritableStream, verb: string) {
  const bars = new Map<string, ProgressBar>()
  return {
    onBlobProgress(digest: string, done: number, total: number | undefined) {
      let bar = bars.get(digest)
      if (bar === undefined) {
        bar = createProgressBar(stream, `${verb} ${digest.slice(0, 19)}`)
        bars.set(digest, bar)
      }
      bar.update(done, total)
      if (total !== undefined && done >= total) bar.finish()
    },
    finish() {
      for (const bar of bars.values()) bar.finish()
    },
  }
}

/** `save`. */
export const saveCommand: Command = {
  name: 'save',
  usage: 'countersign save --dir DIR IMAGE',
  description: 'Save the container image and associated signatures to disk at the specified directory.',
  flags,
  async run({ flags: f, args }, io) {
    if (args.length !== 1) throw new CountersignError('ERR_INVALID_INPUT', 'exactly one image is required')
    if (typeof f.dir !== 'string' || f.dir === '') {
      throw new CountersignError('ERR_INVALID_INPUT', 'required flag(s) "dir" not set')
    }
    const target = openImage(args[0]!, f, io)
    const sigRepo = signatureRepository(io)
    const progress = blobProgress(io.stderr, 'Saving')
    try {
      await saveImage(target.ref, {
        store: target.store,
        fs: createNodeLayoutFileSystem(resolve(io.cwd, f.dir)),
        ...(sigRepo ? { signatureRepository: sigRepo } : {}),
        onBlobProgress: progress.onBlobProgress,
      })
    } finally {
      progress.finish()
    }
    return 0
  },
}
