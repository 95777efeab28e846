/**
 * `clean`: delete what cosign attached to an image — the `.sig`/`.att`/`.sbom` images and cosign's referrers —
 * leaving the image itself alone. Everything is deleted by digest (distribution 2.x cannot delete tags), and the
 * referrers tag-schema fallback index loses the deleted entries (or goes away when nothing is left).
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { resolveDigest } from '../image/resolve.js'
import { utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import { isImageIndex } from '../oci/manifest.js'
import {
  BUNDLE_V03_MEDIA_TYPE,
  COSIGN_ARTIFACT_TYPE_PREFIX,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
} from '../oci/media-types.js'
import { listReferrers, referrersTag } from '../oci/referrers.js'
import type { Descriptor, ImageIndex, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { bundleLayer } from '../signature/bundle-referrer.js'
import { type AttachmentKind, attachmentReference } from '../signature/cosign-tags.js'

/**
 * What to delete: cosign's `--type`.
 *
 * Exported from `countersign/artifacts`.
 */
export type CleanType = 'signature' | 'attestation' | 'sbom' | 'referrer' | 'all'

/**
 * Options for {@link cleanImage}.
 *
 * Exported from `countersign/artifacts`.
 */
export interface CleanOptions extends StoreCallOptions {
  readonly store: OCIStore
  /** Default `all`. */
  readonly type?: CleanType
  /** Attachments live in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** Receives cosign's warnings (`image has referrers, consider using --referrer`). */
  readonly onWarning?: (message: string) => void
}

/**
 * One deleted manifest.
 *
 * Exported from `countersign/artifacts`.
 */
export interface CleanedManifest {
  /** `sig`, `att`, `sbom`, `referrer`, or `referrers-index` (the tag-schema fallback index, when emptied). */
  readonly kind: AttachmentKind | 'referrer' | 'referrers-index'
  /** The tag it was found at (tag images, fallback index), or the referrer by digest. */
  readonly reference: Reference
  /** The digest deleted. */
  readonly digest: string
}

/**
 * What {@link cleanImage} did.
 *
 * Exported from `countersign/artifacts`.
 */
export interface CleanResult {
  readonly digest: string
  readonly removed: readonly CleanedManifest[]
  /** Deletions that failed (cosign reports them and carries on). */
  readonly failures: ReadonlyArray<{ readonly reference: Reference; readonly message: string }>
  /** When the fallback index was rewritten without the deleted entries, its new digest. */
  readonly referrersIndexDigest?: string
}

const KINDS: Readonly<Record<CleanType, readonly AttachmentKind[]>> = {
  signature: ['sig'],
  attestation: ['att'],
  sbom: ['sbom'],
  referrer: [],
  all: ['sig', 'att', 'sbom'],
}

/**
 * The confirmation text cosign shows for `type` (before `Are you sure you would like to continue? [y/N]`).
 *
 * @example
 * ```ts
 * import { cleanPrompt } from 'countersign/artifacts'
 * cleanPrompt('signature') // 'this will remove all signatures from the image'
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function cleanPrompt(type: CleanType): string {
  switch (type) {
    case 'signature':
      return 'this will remove all signatures from the image'
    case 'sbom':
      return 'this will remove all SBOMs from the image'
    case 'attestation':
      return 'this will remove all attestations from the image'
    case 'referrer':
      return 'this will remove all referrer attestations and/or signatures from the image'
    case 'all':
      return 'this will remove all signatures, SBOMs and attestations from the image'
  }
}

/** Referrers cosign wrote: Sigstore bundles, cosign's `application/vnd.dev.cosign.artifact.*`, in-toto ones. */
function isCosignReferrer(
  d: Descriptor,
  manifest: Awaited<ReturnType<OCIStore['fetchManifest']>>['manifest'],
): boolean {
  const types = [d.artifactType, manifest.artifactType, 'config' in manifest ? manifest.config.artifactType : undefined]
  if (!isImageIndex(manifest) && bundleLayer(manifest) !== undefined) return true
  if ('config' in manifest) types.push(manifest.config.mediaType)
  return types.some(
    (t) =>
      t === BUNDLE_V03_MEDIA_TYPE || t === IN_TOTO_PAYLOAD_TYPE || t?.startsWith(COSIGN_ARTIFACT_TYPE_PREFIX) === true,
  )
}

/**
 * Delete an image's cosign attachments, as cosign's `clean`: `signature`, `attestation` and `sbom` delete the
 * `.sig`, `.att` and `.sbom` images; `referrer` deletes cosign's referrers (Sigstore bundles, cosign artifact types,
 * in-toto referrers; others are left alone) and removes them from the fallback index; `all` does everything.
 * Anything already missing is skipped. The image itself is never deleted, even if an attachment tag points at it.
 *
 * Deleting by digest removes every tag of that manifest: an `.sbom` image byte-identical to another image's (the
 * same SBOM attached to two images) disappears from both, exactly as with cosign on registries that delete by digest.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for an unknown type; ERR_OCI_NOT_FOUND (image missing); errors
 *   listing referrers. Failed deletions are returned in `failures`.
 * @example
 * ```ts
 * import { cleanImage } from 'countersign/artifacts'
 * const { removed } = await cleanImage(ref, { store, type: 'all' })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function cleanImage(ref: Reference, options: CleanOptions): Promise<CleanResult> {
  const type = options.type ?? 'all'
  if (!(type in KINDS)) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      'must be one of "signature", "attestation", "referrer", "sbom", or "all"',
    )
  }
  const call = options.signal ? { signal: options.signal } : {}
  const { store } = options
  const digest = await resolveDigest(ref, store, undefined, call)
  const repo: Repository = options.signatureRepository ?? ref
  const removed: CleanedManifest[] = []
  const failures: { reference: Reference; message: string }[] = []

  // Which referrers are cosign's (also for the warning cosign gives when they are left behind).
  const referrers: { reference: Reference; descriptor: Descriptor }[] = []
  // Fallback-index entries whose manifest is already gone are pruned along with the ones deleted here.
  const stale = new Set<string>()
  for (const d of await listReferrers(store, repo, digest, call)) {
    if (d.digest === digest) continue
    const reference: Reference = { registry: repo.registry, repository: repo.repository, digest: d.digest }
    try {
      const { manifest } = await store.fetchManifest(reference, call)
      if (isCosignReferrer(d, manifest)) referrers.push({ reference, descriptor: d })
    } catch (e) {
      if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND')) throw e
      stale.add(d.digest)
    }
  }
  if ((type === 'signature' || type === 'attestation') && referrers.length > 0) {
    options.onWarning?.('image has referrers, consider using --referrer')
  }

  const remove = async (kind: CleanedManifest['kind'], reference: Reference, target: string): Promise<boolean> => {
    if (target === digest) {
      options.onWarning?.(`${reference.tag ?? target} points at the image itself; not deleting it`)
      return false
    }
    try {
      await store.deleteManifest(
        { registry: reference.registry, repository: reference.repository, digest: target },
        call,
      )
      removed.push({ kind, reference, digest: target })
      return true
    } catch (e) {
      if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return false
      if (isCountersignError(e, 'ERR_ABORTED')) throw e
      failures.push({ reference, message: e instanceof Error ? e.message : String(e) })
      return false
    }
  }

  for (const kind of KINDS[type]) {
    const tagRef = attachmentReference(ref, digest, kind, options.signatureRepository)
    let target: string
    try {
      target = (await store.resolve(tagRef, call)).digest
    } catch (e) {
      if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) continue
      throw e
    }
    await remove(kind, tagRef, target)
  }

  let referrersIndexDigest: string | undefined
  if (type === 'referrer' || type === 'all') {
    const deleted = new Set<string>(stale)
    for (const r of referrers) {
      if (await remove('referrer', r.reference, r.descriptor.digest)) deleted.add(r.descriptor.digest)
    }
    if (deleted.size > 0) referrersIndexDigest = await pruneFallbackIndex(store, repo, digest, deleted, call, remove)
  }
  return { digest, removed, failures, ...(referrersIndexDigest !== undefined ? { referrersIndexDigest } : {}) }
}

/**
 * Drop `deleted` from the referrers tag-schema index of `subject`: rewrite it without them, or delete it when
 * nothing is left. Returns the rewritten index's digest.
 */
async function pruneFallbackIndex(
  store: OCIStore,
  repo: Repository,
  subject: string,
  deleted: ReadonlySet<string>,
  call: StoreCallOptions,
  remove: (kind: CleanedManifest['kind'], reference: Reference, target: string) => Promise<boolean>,
): Promise<string | undefined> {
  const tagRef: Reference = { registry: repo.registry, repository: repo.repository, tag: referrersTag(subject) }
  let fetched: Awaited<ReturnType<OCIStore['fetchManifest']>>
  try {
    fetched = await store.fetchManifest(tagRef, call)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
  if (!isImageIndex(fetched.manifest)) return undefined
  const index: ImageIndex = fetched.manifest
  const keep = index.manifests.filter((d) => !deleted.has(d.digest))
  if (keep.length === index.manifests.length) return undefined
  if (keep.length === 0) {
    await remove('referrers-index', tagRef, fetched.descriptor.digest)
    return undefined
  }
  const pushed = await store.pushManifest(
    tagRef,
    encodeIndex({ ...index, manifests: keep }),
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    call,
  )
  // The old index is now untagged; drop it too (best effort: the tag already points at the new one).
  try {
    await store.deleteManifest({ ...repo, digest: fetched.descriptor.digest }, call)
  } catch (e) {
    if (isCountersignError(e, 'ERR_ABORTED')) throw e
  }
  return pushed.digest
}

/** An index as go-containerregistry marshals `v1.IndexManifest` (the fallback index's own encoding). */
function encodeIndex(index: ImageIndex): Uint8Array {
  const nonEmpty = (m: Readonly<Record<string, string>> | undefined) =>
    m !== undefined && Object.keys(m).length > 0 ? m : undefined
  const platform = (p: Readonly<Record<string, unknown>>) =>
    goObject([
      ['architecture', typeof p.architecture === 'string' ? p.architecture : ''],
      ['os', typeof p.os === 'string' ? p.os : ''],
      ['os.version', typeof p['os.version'] === 'string' && p['os.version'] !== '' ? p['os.version'] : undefined],
      ['os.features', Array.isArray(p['os.features']) && p['os.features'].length > 0 ? p['os.features'] : undefined],
      ['variant', typeof p.variant === 'string' && p.variant !== '' ? p.variant : undefined],
      ['features', Array.isArray(p.features) && p.features.length > 0 ? p.features : undefined],
    ])
  const desc = (d: Descriptor) =>
    goObject([
      ['mediaType', d.mediaType],
      ['size', d.size],
      ['digest', d.digest],
      ['urls', d.urls !== undefined && d.urls.length > 0 ? d.urls : undefined],
      ['annotations', nonEmpty(d.annotations)],
      ['platform', d.platform === undefined ? undefined : platform(d.platform)],
      ['artifactType', d.artifactType || undefined],
    ])
  return utf8(
    goMarshal(
      goObject([
        ['schemaVersion', 2],
        ['mediaType', OCI_IMAGE_INDEX_MEDIA_TYPE],
        ['manifests', index.manifests.map(desc)],
        ['annotations', nonEmpty(index.annotations)],
        ['subject', index.subject === undefined ? undefined : desc(index.subject)],
        ['artifactType', index.artifactType || undefined],
      ]),
    ),
  )
}
