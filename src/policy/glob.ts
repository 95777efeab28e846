/**
 * Image globs with sigstore policy-controller's semantics (`pkg/apis/glob`): `*` is any run of characters other than
 * `/`, `**` any run at all; the glob is anchored at both ends and matched against the fully qualified reference
 * (`index.docker.io/library/…`, `:latest` implied), then, as a deprecated fallback policy-controller still applies,
 * against the reference as written.
 * @module
 */
import { CountersignError } from '../errors.js'
import { parseReference } from '../oci/reference.js'
import type { Reference } from '../oci/types.js'

// policy-controller's validGlob: the only characters a glob may contain.
const VALID_GLOB = /^[a-zA-Z0-9\-_:/*.@]+$/

/**
 * Compile a policy-controller image glob to an anchored regular expression. A bare `*` means
 * `index.docker.io/library/*` and star-slash-star means `index.docker.io/` followed by it, as policy-controller
 * rewrites them.
 *
 * @param glob - The `images[].glob` value.
 * @returns The anchored expression.
 * @throws {CountersignError} ERR_INVALID_INPUT when the glob holds characters outside `[a-zA-Z0-9-_:/*.@]`.
 * @example
 * ```ts
 * import { compileImageGlob } from 'countersign/policy'
 * compileImageGlob('ghcr.io/acme/app:**').test('ghcr.io/acme/app:v1') // true
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function compileImageGlob(glob: string): RegExp {
  let g = glob
  if (g === '*/*') g = 'index.docker.io/*/*'
  if (g === '*') g = 'index.docker.io/library/*'
  if (typeof g !== 'string' || !VALID_GLOB.test(g)) {
    throw new CountersignError('ERR_INVALID_INPUT', `invalid glob ${JSON.stringify(glob)}`)
  }
  // Same order as upstream: escape dots, stash `**`, expand `*`, then restore `**` as "anything".
  const source = g.replaceAll('.', '\\.').replaceAll('**', '#').replaceAll('*', '[^/]*').replaceAll('#', '.*')
  return new RegExp(`^${source}$`)
}

/**
 * go-containerregistry's `Reference.Name()`: `registry/repository:tag`, or `registry/repository@digest` for a digest
 * reference (a tag next to a digest is dropped, as ggcr drops it).
 *
 * @example
 * ```ts
 * import { parseReference } from 'countersign/oci'
 * import { qualifiedImageName } from 'countersign/policy'
 * qualifiedImageName(parseReference('busybox')) // 'index.docker.io/library/busybox:latest'
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function qualifiedImageName(ref: Reference): string {
  const repo = `${ref.registry}/${ref.repository}`
  return ref.digest ? `${repo}@${ref.digest}` : `${repo}:${ref.tag ?? 'latest'}`
}

/**
 * Whether `image` matches `glob`, exactly as policy-controller's `glob.Match`: the fully qualified name first, then
 * the image as written when that differs.
 *
 * @param glob - The `images[].glob` value.
 * @param image - An image reference as written in a workload.
 * @throws {CountersignError} ERR_INVALID_INPUT for an invalid glob; ERR_OCI_REFERENCE_INVALID for an image that does
 *   not parse (policy-controller reports an error, and matches nothing, for both).
 * @example
 * ```ts
 * import { matchImageGlob } from 'countersign/policy'
 * matchImageGlob('index.docker.io/library/*', 'busybox') // true
 * matchImageGlob('ghcr.io/foo*', 'ghcr.io/foo') // true: matched as ghcr.io/foo:latest
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function matchImageGlob(glob: string | RegExp, image: string): boolean {
  const re = typeof glob === 'string' ? compileImageGlob(glob) : glob
  const name = qualifiedImageName(parseReference(image))
  if (re.test(name)) return true
  return name !== image && re.test(image)
}
