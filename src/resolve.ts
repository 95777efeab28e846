/** Resolve an image reference to its manifest digest, with cosign's wording for a missing tag. @module */
import { CountersignError, isCountersignError } from './errors.js'
import { repositoryName } from './oci/reference.js'
import type { OCIStore, Reference, StoreCallOptions } from './oci/types.js'

/**
 * Resolve a tag to a digest (with a warning, as cosign gives when signing by tag); a digest reference is used as
 * given. A missing tag → ERR_OCI_NOT_FOUND `image tag not found: …` with `details.target = 'image'`.
 */
export async function resolveDigest(
  ref: Reference,
  store: OCIStore,
  onWarning: ((message: string) => void) | undefined,
  call: StoreCallOptions,
): Promise<string> {
  if (ref.digest) return ref.digest
  onWarning?.(
    `Image reference ${repositoryName(ref)}:${ref.tag ?? 'latest'} uses a tag, not a digest, to identify the image to sign.\n` +
      '    This can lead you to sign a different image than the intended one. Please use a\n' +
      '    digest (example.com/ubuntu@sha256:abc123...) rather than tag (example.com/ubuntu:latest).',
  )
  try {
    return (await store.resolve(ref, call)).digest
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) {
      throw new CountersignError('ERR_OCI_NOT_FOUND', `image tag not found: ${repositoryName(ref)}:${ref.tag}`, {
        cause: e,
        details: { ...e.details, target: 'image' },
      })
    }
    throw e
  }
}
