/**
 * The layout store's answer to the Referrers API: a layout has none, so when the file system can list directories
 * the manifest blobs are scanned for a matching `subject` (as `cosign load` does); otherwise `undefined`, so readers
 * use the referrers tag.
 *
 * @module
 */
import { parseDigest, verifyDigest } from './digest.js'
import type { LayoutFileSystem, LayoutStore } from './layout.js'
import { checkSignal, type LayoutContext } from './layout-context.js'
import { manifestMediaType, parseManifest } from './manifest.js'
import type { Descriptor } from './types.js'

const SCANNED_ALGORITHMS = [
  ['sha256', /^[a-f0-9]{64}$/],
  ['sha512', /^[a-f0-9]{128}$/],
] as const

/**
 * The referrers verb of a {@link LayoutStore}.
 *
 * @example
 * ```ts
 * const { referrers }: LayoutReferrerVerbs = layoutReferrers(ctx)
 * ```
 */
export type LayoutReferrerVerbs = Pick<LayoutStore, 'referrers'>

/**
 * The referrers verb over a store's shared context.
 *
 * @example
 * ```ts
 * const found = await layoutReferrers(createLayoutContext(createMemoryFileSystem(), {})).referrers(repo, digest)
 * ```
 */
export function layoutReferrers(ctx: LayoutContext): LayoutReferrerVerbs {
  return {
    async referrers(_repo, digest, o) {
      checkSignal(o)
      parseDigest(digest)
      const { fs } = ctx
      if (fs.listFiles === undefined) return undefined
      const all = await scanReferrers(fs, (dir) => fs.listFiles!(dir), digest, ctx.maxManifestBytes)
      const wanted = o?.artifactType
      return wanted === undefined ? all : all.filter((d) => d.artifactType === wanted)
    },
  }
}

/**
 * Every manifest blob whose `subject` is `digest`. `cosign save` keeps bundle referrers only as blobs (its index.json
 * lists none of them, and no referrers tag), and `cosign load` finds them the same way, by reading every blob under
 * `blobs/sha256`. Blobs larger than a manifest may be, not starting with `{`, not parsing, or not matching their
 * name are skipped.
 */
async function scanReferrers(
  fs: LayoutFileSystem,
  listFiles: NonNullable<LayoutFileSystem['listFiles']>,
  digest: string,
  maxManifestBytes: number,
): Promise<Descriptor[]> {
  const found: Descriptor[] = []
  for (const [algorithm, nameRE] of SCANNED_ALGORITHMS) {
    for (const { name, size } of await listFiles(`blobs/${algorithm}`)) {
      if (!nameRE.test(name) || size < 2 || size > maxManifestBytes) continue
      const bytes = await fs.readFile(`blobs/${algorithm}/${name}`)
      if (bytes === undefined || bytes.length > maxManifestBytes || !startsLikeJSONObject(bytes)) continue
      const referrer = await referrerOf(bytes, `${algorithm}:${name}`, digest)
      if (referrer !== undefined) found.push(referrer)
    }
  }
  return found.sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))
}

/** The descriptor of a blob that is a manifest with `subject` digest `subject`, else undefined. */
async function referrerOf(bytes: Uint8Array, blobDigest: string, subject: string): Promise<Descriptor | undefined> {
  try {
    const m = parseManifest(bytes)
    if (m.subject?.digest !== subject) return undefined
    await verifyDigest(bytes, blobDigest)
    const artifactType = m.artifactType || ('config' in m ? m.config.mediaType : undefined)
    return {
      mediaType: manifestMediaType(m),
      digest: blobDigest,
      size: bytes.length,
      ...(artifactType ? { artifactType } : {}),
      ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
    }
  } catch {
    // Not a manifest, or a corrupt blob: not a referrer.
    return undefined
  }
}

function startsLikeJSONObject(bytes: Uint8Array): boolean {
  for (const b of bytes) {
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue
    return b === 0x7b
  }
  return false
}
