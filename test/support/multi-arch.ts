/** Build and push a two-platform OCI image index (linux/amd64 + linux/arm64) of tiny images, for tests. */
import { computeDigest } from '../../src/oci/digest.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import type { OCIStore, Reference } from '../../src/oci/types.js'
import { tinyImage } from './oci-image.js'

export interface PushedIndex {
  /** The index digest. */
  readonly digest: string
  readonly size: number
  /** Child manifests, in index order, with their platforms. */
  readonly children: ReadonlyArray<{
    readonly digest: string
    readonly size: number
    readonly platform: { os: string; architecture: string }
  }>
}

const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64' },
] as const

/** Push one tiny image per platform (by digest), then the index at `ref` (its tag or digest). */
export async function pushMultiArchImage(store: OCIStore, ref: Reference, text = 'multi-arch'): Promise<PushedIndex> {
  const repo = { registry: ref.registry, repository: ref.repository }
  const children: { digest: string; size: number; platform: { os: string; architecture: string } }[] = []
  for (const platform of PLATFORMS) {
    const img = await tinyImage(`${text} ${platform.os}/${platform.architecture}\n`)
    await store.pushBlob(repo, img.layer, img.layerDescriptor.mediaType)
    await store.pushBlob(repo, img.config, img.configDescriptor.mediaType)
    const pushed = await store.pushManifest(
      { ...repo, digest: img.manifestDigest },
      img.manifest,
      OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    )
    children.push({ digest: pushed.digest, size: img.manifest.length, platform: { ...platform } })
  }
  const index = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE,
      manifests: children.map((c) => ({
        mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
        size: c.size,
        digest: c.digest,
        platform: c.platform,
      })),
    }),
  )
  const target = ref.digest ? { ...repo, digest: await computeDigest(index) } : { ...repo, tag: ref.tag ?? 'latest' }
  const pushed = await store.pushManifest(target, index, OCI_IMAGE_INDEX_MEDIA_TYPE)
  return { digest: pushed.digest, size: index.length, children }
}
