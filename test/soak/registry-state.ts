/**
 * What the registry holds for one image's signatures, read straight from docker-registry (no proxy, no faults):
 * the legacy `.sig` image and the referrers fallback index with every referrer it lists. Each manifest's config and
 * layers must exist as blobs, every index entry must exist as a manifest, and no signature seen earlier may vanish.
 */
import { isCountersignError } from '../../src/errors.js'
import { toBase64 } from '../../src/internal/bytes.js'
import { isImageIndex } from '../../src/oci/manifest.js'
import { listReferrers } from '../../src/oci/referrers.js'
import type { Descriptor, ImageIndex, ImageManifest, OCIStore, Repository } from '../../src/oci/types.js'
import { SIGNATURE_ANNOTATION } from '../../src/signature/annotations.js'
import { attachmentReference } from '../../src/signature/cosign-tags.js'

/** The signatures present: legacy layers as `<payload digest> <signature base64>`, bundle referrers by digest. */
export interface SignatureState {
  readonly legacy: Set<string>
  readonly referrers: Set<string>
  /** Broken invariants found while reading (missing blobs, index entries naming missing manifests). */
  readonly problems: string[]
}

/** The key a legacy signature is known by. */
export function legacyKey(payloadDigest: string, signature: Uint8Array): string {
  return `${payloadDigest} ${toBase64(signature)}`
}

async function blobsOf(
  store: OCIStore,
  repo: Repository,
  what: string,
  manifest: ImageManifest | ImageIndex,
  problems: string[],
): Promise<void> {
  const blobs: Descriptor[] = isImageIndex(manifest) ? [] : [manifest.config, ...manifest.layers]
  for (const b of blobs) {
    if (!(await store.blobExists(repo, b.digest))) problems.push(`${what} references missing blob ${b.digest}`)
  }
}

/** Read the signature state of `digest` in `repo` through `store` (a client straight at the registry). */
export async function readSignatureState(store: OCIStore, repo: Repository, digest: string): Promise<SignatureState> {
  const state: SignatureState = { legacy: new Set(), referrers: new Set(), problems: [] }
  const sigRef = attachmentReference(repo, digest, 'sig')
  try {
    const sig = await store.fetchManifest(sigRef)
    await blobsOf(store, repo, `.sig manifest ${sig.descriptor.digest}`, sig.manifest, state.problems)
    if (isImageIndex(sig.manifest)) state.problems.push(`.sig tag holds an index ${sig.descriptor.digest}`)
    else {
      for (const l of sig.manifest.layers) {
        const s = l.annotations?.[SIGNATURE_ANNOTATION]
        if (s !== undefined) state.legacy.add(`${l.digest} ${s}`)
      }
    }
  } catch (e) {
    if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND')) state.problems.push(`reading ${sigRef.tag}: ${String(e)}`)
  }
  let entries: readonly Descriptor[] = []
  try {
    entries = await listReferrers(store, repo, digest)
  } catch (e) {
    state.problems.push(`listing referrers of ${digest}: ${String(e)}`)
  }
  for (const entry of entries) {
    try {
      const m = await store.fetchManifest({ ...repo, digest: entry.digest })
      await blobsOf(store, repo, `referrer ${entry.digest}`, m.manifest, state.problems)
      if (m.manifest.subject?.digest !== digest) {
        state.problems.push(`referrer ${entry.digest} has subject ${String(m.manifest.subject?.digest)}`)
      }
      state.referrers.add(entry.digest)
    } catch (e) {
      if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) {
        state.problems.push(`referrers index lists missing manifest ${entry.digest}`)
      } else state.problems.push(`reading referrer ${entry.digest}: ${String(e)}`)
    }
  }
  return state
}

/**
 * Follows one image across operations: each {@link check} reads the state, reports broken invariants and every
 * signature seen before that is gone, then remembers what is there now.
 */
export class ImageTracker {
  readonly legacy = new Set<string>()
  readonly referrers = new Set<string>()
  constructor(
    readonly store: OCIStore,
    readonly repo: Repository,
    readonly digest: string,
  ) {}

  /** Violations after operation `op` (empty when all is well) and the state read. */
  async check(op: string): Promise<{ violations: string[]; state: SignatureState }> {
    const state = await readSignatureState(this.store, this.repo, this.digest)
    const violations = state.problems.map((p) => `${op}: ${p}`)
    for (const k of this.legacy) {
      if (!state.legacy.has(k)) {
        violations.push(`${op}: legacy signature lost: ${k}`)
        this.legacy.delete(k)
      }
    }
    for (const d of this.referrers) {
      if (!state.referrers.has(d)) {
        violations.push(`${op}: bundle referrer lost: ${d}`)
        this.referrers.delete(d)
      }
    }
    for (const k of state.legacy) this.legacy.add(k)
    for (const d of state.referrers) this.referrers.add(d)
    return { violations, state }
  }
}
