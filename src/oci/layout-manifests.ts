/**
 * The manifest verbs of the layout store: resolve and fetch (by tag through `index.json`, by digest from `blobs/`
 * even when unlisted), push (blob first, then the index entry) and delete.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { computeDigest, parseDigest, verifyDigest } from './digest.js'
import type { LayoutStore } from './layout.js'
import { checkSignal, type LayoutContext, notFound } from './layout-context.js'
import { blobPath, COSIGN_KIND_ANNOTATION, REF_NAME_ANNOTATION } from './layout-format.js'
import { cosignKindOfTag, findByTag, refName } from './layout-index.js'
import { manifestMediaType, parseManifest } from './manifest.js'
import type { Descriptor, FetchedManifest, Reference } from './types.js'

/**
 * The manifest verbs of a {@link LayoutStore}.
 *
 * @example
 * ```ts
 * const { fetchManifest }: LayoutManifestVerbs = layoutManifests(ctx)
 * ```
 */
export type LayoutManifestVerbs = Pick<LayoutStore, 'resolve' | 'fetchManifest' | 'pushManifest' | 'deleteManifest'>

/**
 * The manifest verbs over a store's shared context.
 *
 * @example
 * ```ts
 * const manifests = layoutManifests(createLayoutContext(createMemoryFileSystem(), {}))
 * const descriptor = await manifests.resolve(parseReference('ignored:latest'))
 * ```
 */
export function layoutManifests(ctx: LayoutContext): LayoutManifestVerbs {
  return {
    async resolve(ref, o) {
      checkSignal(o)
      const { digest, listed } = await locate(ctx, ref)
      if (listed !== undefined) {
        return { mediaType: listed.mediaType, digest: listed.digest, size: listed.size }
      }
      return (await readManifestBlob(ctx, digest)).descriptor
    },
    async fetchManifest(ref, o) {
      checkSignal(o)
      const { digest, listed } = await locate(ctx, ref)
      return readManifestBlob(ctx, digest, listed)
    },
    async pushManifest(ref, bytes, mediaType, o) {
      checkSignal(o)
      return pushManifest(ctx, ref, bytes, mediaType)
    },
    async deleteManifest(ref, o) {
      checkSignal(o)
      return ctx.serialised(() => deleteManifest(ctx, ref))
    },
  }
}

/** The digest a reference names and, when `index.json` lists it, its entry. */
async function locate(ctx: LayoutContext, ref: Reference): Promise<{ digest: string; listed?: Descriptor }> {
  const index = await ctx.loadIndex()
  if (ref.digest !== undefined) {
    parseDigest(ref.digest)
    const listed = index.entries.find((e) => e.digest === ref.digest)
    return listed === undefined ? { digest: ref.digest } : { digest: ref.digest, listed }
  }
  if (ref.tag === undefined) throw new CountersignError('ERR_INVALID_INPUT', 'reference needs a tag or a digest')
  const listed = findByTag(index.entries, ref.tag)
  if (listed === undefined) throw notFound(`tag ${JSON.stringify(ref.tag)} is not in the layout`)
  return { digest: listed.digest, listed }
}

async function readManifestBlob(ctx: LayoutContext, digest: string, listed?: Descriptor): Promise<FetchedManifest> {
  const max = ctx.maxManifestBytes
  if (listed !== undefined && listed.size > max) {
    throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest ${digest} is larger than ${max} bytes`)
  }
  const bytes = await ctx.fs.readFile(blobPath(digest))
  if (bytes === undefined) throw notFound(`manifest ${digest} is not in the layout`)
  if (bytes.length > max) {
    throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest ${digest} is larger than ${max} bytes`)
  }
  await verifyDigest(bytes, digest)
  if (listed !== undefined && listed.size !== bytes.length) {
    throw new CountersignError(
      'ERR_OCI_DIGEST_MISMATCH',
      `manifest ${digest} has ${bytes.length} bytes, index.json says ${listed.size}`,
    )
  }
  const manifest = parseManifest(bytes, listed?.mediaType)
  const mediaType = manifest.mediaType ?? listed?.mediaType ?? manifestMediaType(manifest)
  return { descriptor: { mediaType, digest, size: bytes.length }, bytes, manifest }
}

async function pushManifest(
  ctx: LayoutContext,
  ref: Reference,
  bytes: Uint8Array,
  mediaType: string,
): Promise<Descriptor> {
  if (bytes.length > ctx.maxManifestBytes) {
    throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest is larger than ${ctx.maxManifestBytes} bytes`)
  }
  parseManifest(bytes, mediaType)
  const algorithm = ref.digest !== undefined ? parseDigest(ref.digest).algorithm : 'sha256'
  const digest = await computeDigest(bytes, algorithm)
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new CountersignError(
      'ERR_OCI_DIGEST_MISMATCH',
      `manifest digest ${digest} does not match the reference digest ${ref.digest}`,
    )
  }
  const descriptor: Descriptor = { mediaType, digest, size: bytes.length }
  return ctx.serialised(async () => {
    await ctx.writeBlob(bytes, digest)
    const index = await ctx.loadOrCreateIndex()
    const tag = ref.tag
    let rawEntries = index.rawEntries
    if (tag !== undefined) {
      const annotations: Record<string, string> = { [REF_NAME_ANNOTATION]: tag }
      const kind = cosignKindOfTag(tag)
      if (kind !== undefined) annotations[COSIGN_KIND_ANNOTATION] = kind
      rawEntries = rawEntries.filter((_, i) => refName(index.entries[i]!) !== tag)
      rawEntries.push({ ...descriptor, annotations })
    } else if (!index.entries.some((e) => e.digest === digest)) {
      rawEntries = [...rawEntries, { ...descriptor }]
    } else {
      return descriptor
    }
    await ctx.saveIndex(index, rawEntries)
    return descriptor
  })
}

/** Drop the tag's entry, or every entry of a digest and (with `removeFile`) its blob. */
async function deleteManifest(ctx: LayoutContext, ref: Reference): Promise<void> {
  const index = await ctx.loadIndex()
  let keep: (e: Descriptor) => boolean
  let blob: string | undefined
  if (ref.digest !== undefined) {
    blob = blobPath(ref.digest)
    keep = (e) => e.digest !== ref.digest
  } else if (ref.tag !== undefined) {
    const tag = ref.tag
    keep = (e) => refName(e) !== tag
  } else {
    throw new CountersignError('ERR_INVALID_INPUT', 'reference needs a tag or a digest')
  }
  const rawEntries = index.rawEntries.filter((_, i) => keep(index.entries[i]!))
  const listed = rawEntries.length !== index.rawEntries.length
  const blobThere = blob !== undefined && (await ctx.exists(blob))
  if (!listed && !blobThere) throw notFound(`${ref.digest ?? JSON.stringify(ref.tag)} is not in the layout`)
  // index.json first, so it never names a missing blob. Without removeFile the blob stays (unlisted).
  if (listed) await ctx.saveIndex(index, rawEntries)
  if (blobThere && ctx.fs.removeFile !== undefined) await ctx.fs.removeFile(blob!)
}
