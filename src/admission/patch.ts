/**
 * JSONPatch for the mutating endpoint: replace each tag reference by the digest it was verified at, so the kubelet
 * pulls exactly what was checked even if the tag moves afterwards.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { parseReference } from '../oci/reference.js'
import type { WorkloadImage } from './images.js'
import type { JSONPatchOperation } from './review.js'

const DIGEST = /^sha(256:[0-9a-f]{64}|384:[0-9a-f]{96}|512:[0-9a-f]{128})$/

/**
 * `image` pinned to `digest`: the repository as written (so `nginx` stays `nginx`, which the kubelet expands the same
 * way), the tag dropped (as policy-controller does), `@digest` appended. A reference that already carries a digest is
 * returned unchanged.
 *
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when `image` does not parse; ERR_INVALID_INPUT for a malformed
 *   digest.
 * @example
 * ```ts
 * import { pinnedReference } from 'countersign/admission'
 * pinnedReference('ghcr.io/acme/app:v1', 'sha256:' + 'ab'.repeat(32)) // 'ghcr.io/acme/app@sha256:abab…'
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function pinnedReference(image: string, digest: string): string {
  const ref = parseReference(image)
  if (ref.digest !== undefined) return image
  if (!DIGEST.test(digest)) throw new CountersignError('ERR_INVALID_INPUT', 'malformed digest from the image check')
  // The tag is whatever follows the last ':' after the last '/' (a ':' before it is a registry port).
  const colon = image.lastIndexOf(':')
  const name = ref.tag !== undefined && colon > image.lastIndexOf('/') ? image.slice(0, colon) : image
  return `${name}@${digest}`
}

/**
 * The JSONPatch pinning every image in `images` whose verified digest `digestOf` knows and that is not pinned yet.
 * Images without a digest are left as they are. `pinOf` may name the replacement itself (a string), ask for none
 * (`null`), or leave the default {@link pinnedReference} (`undefined`).
 *
 * @example
 * ```ts
 * import { pinImagesPatch } from 'countersign/admission'
 * const ops = pinImagesPatch(images, (image) => results.get(image)?.digest)
 * // [{ op: 'replace', path: '/spec/containers/0/image', value: 'ghcr.io/acme/app@sha256:…' }]
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function pinImagesPatch(
  images: readonly WorkloadImage[],
  digestOf: (image: string) => string | undefined,
  pinOf?: (image: string) => string | null | undefined,
): JSONPatchOperation[] {
  const ops: JSONPatchOperation[] = []
  for (const { image, pointer } of images) {
    const digest = digestOf(image)
    if (digest === undefined) continue
    const pin = pinOf?.(image)
    if (pin === null) continue
    if (pin !== undefined && !pin.endsWith(`@${digest}`)) {
      throw new CountersignError('ERR_INVALID_INPUT', 'the image check pinned another digest than it verified')
    }
    const value = pin ?? pinnedReference(image, digest)
    if (value !== image) ops.push({ op: 'replace', path: pointer, value })
  }
  return ops
}
