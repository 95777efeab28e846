/**
 * `tree`: everything attached to an image — the `.sig`, `.att` and `.sbom` tag images with their layers, and its
 * OCI 1.1 referrers — as a structure, and as cosign's tree text.
 * @module
 */
import { isCountersignError } from '../errors.js'
import { resolveDigest } from '../image/resolve.js'
import { referenceToString } from '../oci/reference.js'
import { listReferrers } from '../oci/referrers.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { BUNDLE_PREDICATE_TYPE_ANNOTATION } from '../signature/bundle-referrer.js'
import { type AttachmentKind, attachmentReference } from '../signature/cosign-tags.js'

/**
 * Options for {@link getAttachmentTree}.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachmentTreeOptions extends StoreCallOptions {
  /** Where the image and its attachments live. */
  readonly store: OCIStore
  /** Look in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** List OCI 1.1 referrers too (default true, as cosign's `--experimental-oci11`). */
  readonly referrers?: boolean
}

/**
 * One `.sig`/`.att`/`.sbom` tag image.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachmentTag {
  readonly kind: AttachmentKind
  readonly reference: Reference
  /** Digest of the tag's manifest. */
  readonly manifestDigest: string
  readonly layers: readonly Descriptor[]
}

/**
 * One referrer manifest.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachmentReferrer {
  /** The bundle's predicate type for Sigstore bundles (as cosign shows them), else the manifest's artifactType. */
  readonly artifactType: string
  /** The artifactType the registry (or fallback index) reported. */
  readonly descriptor: Descriptor
  readonly reference: Reference
  readonly layers: readonly Descriptor[]
}

/**
 * What is attached to an image.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachmentTree {
  readonly digest: string
  /** Tag images that exist and have layers, in the order `sig`, `att`, `sbom`. */
  readonly tags: readonly AttachmentTag[]
  /** Referrers with an artifact type, sorted by artifact type then digest. */
  readonly referrers: readonly AttachmentReferrer[]
  /** The same referrers grouped by artifact type. */
  readonly byArtifactType: Readonly<Record<string, readonly AttachmentReferrer[]>>
  /** Referrers that could not be read (cosign prints these to stderr and goes on). */
  readonly errors: ReadonlyArray<{ readonly reference: Reference; readonly message: string }>
}

/**
 * Collect everything attached to an image. Referrers without an artifact type are left out (as cosign does); a
 * referrer whose manifest cannot be fetched is reported in `errors`, not thrown.
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND (image tag missing, `details.target` `image`); store errors.
 * @example
 * ```ts
 * import { formatAttachmentTree, getAttachmentTree } from 'countersign/artifacts'
 * const tree = await getAttachmentTree(ref, { store })
 * process.stdout.write(formatAttachmentTree(tree, 'registry.local/app:v1'))
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function getAttachmentTree(ref: Reference, options: AttachmentTreeOptions): Promise<AttachmentTree> {
  const call = options.signal ? { signal: options.signal } : {}
  const { store } = options
  const digest = await resolveDigest(ref, store, undefined, call)
  const tags: AttachmentTag[] = []
  for (const kind of ['sig', 'att', 'sbom'] as const) {
    const tagRef = attachmentReference(ref, digest, kind, options.signatureRepository)
    try {
      const fetched = await store.fetchManifest(tagRef, call)
      const layers = 'layers' in fetched.manifest ? fetched.manifest.layers : []
      if (layers.length > 0) tags.push({ kind, reference: tagRef, manifestDigest: fetched.descriptor.digest, layers })
    } catch (e) {
      if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND')) throw e
    }
  }
  const referrers: AttachmentReferrer[] = []
  const errors: { reference: Reference; message: string }[] = []
  if (options.referrers !== false) {
    const repo = options.signatureRepository ?? ref
    for (const d of await listReferrers(store, repo, digest, call)) {
      if (!d.artifactType) continue
      const reference: Reference = { registry: repo.registry, repository: repo.repository, digest: d.digest }
      try {
        const { manifest } = await store.fetchManifest(reference, call)
        const layers = 'layers' in manifest ? manifest.layers : []
        const artifactType = manifest.annotations?.[BUNDLE_PREDICATE_TYPE_ANNOTATION] ?? d.artifactType
        referrers.push({ artifactType, descriptor: d, reference, layers })
      } catch (e) {
        if (isCountersignError(e, 'ERR_ABORTED')) throw e
        errors.push({ reference, message: e instanceof Error ? e.message : String(e) })
      }
    }
  }
  referrers.sort((a, b) =>
    a.artifactType !== b.artifactType
      ? a.artifactType < b.artifactType
        ? -1
        : 1
      : a.descriptor.digest < b.descriptor.digest
        ? -1
        : 1,
  )
  const byArtifactType: Record<string, AttachmentReferrer[]> = Object.create(null)
  for (const r of referrers) {
    const group = byArtifactType[r.artifactType] ?? []
    group.push(r)
    byArtifactType[r.artifactType] = group
  }
  return { digest, tags, referrers, byArtifactType, errors }
}

const TAG_LABELS: Readonly<Record<AttachmentKind, string>> = {
  sig: '🔐 Signatures for an image tag',
  att: '💾 Attestations for an image tag',
  sbom: '📦 SBOMs for an image tag',
}

/**
 * cosign's `tree` text for `tree`; `image` is the reference as the user gave it. Tag images come in the order
 * signatures, attestations, SBOMs (cosign's order is a Go map's, i.e. random), then referrers.
 *
 * @example
 * ```ts
 * import { formatAttachmentTree } from 'countersign/artifacts'
 * formatAttachmentTree(tree, 'registry.local/app:v1')
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function formatAttachmentTree(tree: AttachmentTree, image: string): string {
  let out = `📦 Supply Chain Security Related artifacts for an image: ${image}\n`
  if (tree.tags.length === 0 && tree.referrers.length === 0) {
    return `${out}No Supply Chain Security Related Artifacts found for image ${image},\n start creating one with simply running$ countersign sign <img>`
  }
  const layers = (ls: readonly Descriptor[]) =>
    ls.map((l, i) => `${i === ls.length - 1 ? '   └──' : '   ├──'} 🍒 ${l.digest}\n`).join('')
  for (const t of tree.tags) out += `└── ${TAG_LABELS[t.kind]}: ${referenceToString(t.reference)}\n${layers(t.layers)}`
  for (const r of tree.referrers) {
    out += `└── 🔗 ${r.artifactType} artifacts via OCI referrer: ${referenceToString(r.reference)}\n${layers(r.layers)}`
  }
  return out
}
