/**
 * Where cosign keeps attachments: the `sha256-<hex>.sig|.att|.sbom` tag scheme (docs/formats.md §Attachment tags).
 * @module
 */
import { CountersignError } from '../errors.js'
import type { Reference, Repository } from '../oci/types.js'

/** Attachment kinds with a tag suffix. Exported from `countersign/signature`. */
export type AttachmentKind = 'sig' | 'att' | 'sbom'

/**
 * The tag cosign uses for an attachment of `digest`: `sha256:abc…` → `sha256-abc….sig`.
 *
 * @example
 * ```ts
 * import { attachmentTag } from 'countersign/signature'
 * attachmentTag('sha256:4aa3…', 'sig') // 'sha256-4aa3….sig'
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function attachmentTag(digest: string, kind: AttachmentKind, prefix = ''): string {
  const m = /^(sha256|sha384|sha512):([0-9a-f]+)$/.exec(digest)
  if (!m) throw new CountersignError('ERR_INVALID_INPUT', `invalid digest: ${digest}`)
  return `${prefix}${m[1]}-${m[2]}.${kind}`
}

/**
 * The reference of an attachment: the image's repository, or `signatureRepository` when given
 * (cosign's `COSIGN_REPOSITORY`), tagged with {@link attachmentTag}.
 *
 * @example
 * ```ts
 * import { attachmentReference } from 'countersign/signature'
 * attachmentReference({ registry: 'ghcr.io', repository: 'a/b' }, 'sha256:…', 'sig')
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function attachmentReference(
  image: Repository,
  digest: string,
  kind: AttachmentKind,
  signatureRepository?: Repository,
): Reference {
  const repo = signatureRepository ?? image
  return { registry: repo.registry, repository: repo.repository, tag: attachmentTag(digest, kind) }
}
