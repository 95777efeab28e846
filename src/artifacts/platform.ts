/** Pick one platform's manifest out of an image index (cosign's `--platform`). Never exported. @module */
import { CountersignError } from '../errors.js'
import { isImageIndex } from '../oci/manifest.js'
import type { OCIStore, Reference, StoreCallOptions } from '../oci/types.js'

/**
 * The digest of the child of index `digest` built for `platform` (`os/arch[/variant]`, as ggcr's
 * `v1.ParsePlatform`), or `digest` itself when no platform is asked for.
 */
export async function digestForPlatform(
  store: OCIStore,
  ref: Reference,
  digest: string,
  platform: string | undefined,
  call: StoreCallOptions,
): Promise<string> {
  if (platform === undefined || platform === '') return digest
  const [os, architecture, variant] = platform.split('/')
  if (!os || !architecture) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `invalid platform ${JSON.stringify(platform)}: want os/arch[/variant]`,
    )
  }
  const { manifest } = await store.fetchManifest({ registry: ref.registry, repository: ref.repository, digest }, call)
  if (!isImageIndex(manifest)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'specified reference is not a multiarch image')
  }
  const found = manifest.manifests.find((d) => {
    const p = d.platform ?? {}
    return p.os === os && p.architecture === architecture && (variant === undefined || p.variant === variant)
  })
  if (found === undefined) {
    const have = manifest.manifests
      .map((d) => [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/'))
      .filter((s) => s !== '')
    throw new CountersignError(
      'ERR_OCI_NOT_FOUND',
      `could not find platform ${platform} in the index; available: ${have.join(', ') || 'none'}`,
    )
  }
  return found.digest
}
