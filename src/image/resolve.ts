/** Resolve an image reference to its manifest, with cosign's wording for a missing tag. @module */
import { CountersignError, isCountersignError } from '../errors.js'
import { repositoryName } from '../oci/reference.js'
import type { Descriptor, OCIStore, Reference, StoreCallOptions } from '../oci/types.js'

/** Called with cosign's warning when an image is signed by tag. */
export type WarningListener = (message: string) => void

/**
 * Resolve a tag to a digest (with a warning, as cosign gives when signing by tag); a digest reference is used as
 * given, with no request. A missing tag → ERR_OCI_NOT_FOUND `image tag not found: …` with `details.target = 'image'`.
 */
export async function resolveDigest(
  ref: Reference,
  store: OCIStore,
  onWarning: WarningListener | undefined,
  call: StoreCallOptions,
): Promise<string> {
  if (ref.digest) return ref.digest
  return (await resolveDescriptor(ref, store, onWarning, call)).digest
}

/** Like {@link resolveDigest}, but always asks the store (HEAD), for the subject's media type and size. */
export async function resolveDescriptor(
  ref: Reference,
  store: OCIStore,
  onWarning: WarningListener | undefined,
  call: StoreCallOptions,
): Promise<Descriptor> {
  if (!ref.digest) {
    onWarning?.(
      `Image reference ${repositoryName(ref)}:${ref.tag ?? 'latest'} uses a tag, not a digest, to identify the image to sign.\n` +
        '    This can lead you to sign a different image than the intended one. Please use a\n' +
        '    digest (example.com/ubuntu@sha256:abc123...) rather than tag (example.com/ubuntu:latest).',
    )
  }
  try {
    const found = await store.resolve(ref, call)
    if (ref.digest && found.digest !== ref.digest) {
      throw new CountersignError('ERR_OCI_DIGEST_MISMATCH', `registry answered ${found.digest} for ${ref.digest}`)
    }
    return found
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) {
      const what = ref.digest ? `${repositoryName(ref)}@${ref.digest}` : `${repositoryName(ref)}:${ref.tag}`
      throw new CountersignError('ERR_OCI_NOT_FOUND', `image tag not found: ${what}`, {
        cause: e,
        details: { ...e.details, target: 'image' },
      })
    }
    throw e
  }
}
