/**
 * The blob verbs of the layout store: existence check, digest-verified read, and write (content-addressed, so an
 * existing blob is left as it is).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { computeDigest, verifyDigest } from './digest.js'
import type { LayoutStore } from './layout.js'
import { checkSignal, type LayoutContext, notFound } from './layout-context.js'
import { blobPath } from './layout-format.js'
import type { Repository } from './types.js'

/**
 * The blob verbs of a {@link LayoutStore}.
 *
 * @example
 * ```ts
 * const { fetchBlob }: LayoutBlobVerbs = layoutBlobs(ctx)
 * ```
 */
export type LayoutBlobVerbs = Pick<LayoutStore, 'blobExists' | 'fetchBlob' | 'pushBlob'>

/**
 * The blob verbs over a store's shared context. The repository argument is ignored: a layout is one repository.
 *
 * @example
 * ```ts
 * const blobs = layoutBlobs(createLayoutContext(createMemoryFileSystem(), {}))
 * const { digest } = await blobs.pushBlob(repo, bytes, 'application/octet-stream')
 * ```
 */
export function layoutBlobs(ctx: LayoutContext): LayoutBlobVerbs {
  return {
    async blobExists(_repo: Repository, digest, o) {
      checkSignal(o)
      return ctx.exists(blobPath(digest))
    },
    async fetchBlob(_repo, digest, o) {
      checkSignal(o)
      const path = blobPath(digest)
      const bytes = await ctx.fs.readFile(path)
      if (bytes === undefined) throw notFound(`blob ${digest} is not in the layout`)
      if (o?.maxSize !== undefined && bytes.length > o.maxSize) {
        throw new CountersignError(
          'ERR_OCI_SIZE_LIMIT',
          `blob ${digest} is larger than the limit of ${o.maxSize} bytes`,
        )
      }
      await verifyDigest(bytes, digest)
      return bytes
    },
    async pushBlob(_repo, bytes, mediaType, o) {
      checkSignal(o)
      const digest = await computeDigest(bytes)
      await ctx.writeBlob(bytes, digest)
      return { mediaType, digest, size: bytes.length }
    },
  }
}
