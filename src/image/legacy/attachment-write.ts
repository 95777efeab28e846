/**
 * Read-modify-write of a legacy attachment image (`sha256-<hex>.sig` / `.att`), safe against concurrent writers
 * as far as a registry without conditional writes allows. This is the protection `legacy/sign.ts` uses, as a
 * reusable helper: the tag has no locking in the registry (cosign issue #2432), so each round reads the tag, merges
 * our layer in, checks the tag has not moved since the read, writes, and re-reads: if another writer replaced it
 * without our layer we merge again. The write is sent once (`retry: false`): a transport retry would send bytes
 * merged from an old read, seconds later, and drop signatures other writers added meanwhile. When it fails on the
 * network or with 429/5xx the tag is read (a lost answer: it may hold ours) and, if not, the round is repeated
 * after the `Retry-After` or a backoff. The re-reads follow the shared rule of src/oci/shared-tag.ts: once after a
 * settle pause, and, when other writers were seen, once more about 2 s later. When the registry fails after a
 * manifest write was sent (the answer lost, a confirming read broken), the tag is read once more and what it holds
 * decides the outcome. What is left unguarded is in docs/formats.md §Concurrent writers.
 * @module
 */
import { CountersignError, isCountersignError } from '../../errors.js'
import { sha256Digest } from '../../oci/digest.js'
import { confirmTagWrite, mayHaveLanded, pause, writeRetryPause } from '../../oci/shared-tag.js'
import type { Descriptor, OCIStore, Reference, StoreCallOptions } from '../../oci/types.js'
import {
  buildSignatureImage,
  type ExistingSignatureConfig,
  readSignatureConfig,
  signatureLayers,
} from '../../signature/signature-image.js'
import { isRegistryUnavailable } from '../registry-failure.js'

/** Rounds of read-merge-write before giving up on a tag that keeps changing under us. */
const MAX_WRITE_ROUNDS = 12

/** What the attachment tag holds now. */
export interface AttachmentSnapshot {
  readonly layers: readonly Descriptor[]
  readonly config: ExistingSignatureConfig
  readonly manifestDigest: string
}

/** The image to write: its layers, their config history and the config's `created`. */
export interface AttachmentPlan {
  readonly layers: readonly Descriptor[]
  readonly history: readonly unknown[]
  readonly created?: string
}

/** Options for {@link writeAttachmentImage}. */
export interface WriteAttachmentOptions extends StoreCallOptions {
  /** Docker schema 2 media types (cosign's `COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /**
   * The new image from what the tag holds now (`undefined`: no tag yet). Called once per round. Resolving to
   * `undefined` means there is nothing to write (e.g. an equal signature is already there): the current manifest's
   * digest is returned.
   */
  plan(existing: AttachmentSnapshot | undefined): Promise<AttachmentPlan | undefined>
  /** True when `layers` hold what this write adds (so an earlier round, merged by another writer, landed). */
  written(layers: readonly Descriptor[]): boolean
  /** Told when the registry failed after the write but the tag holds it anyway (the write is then a success). */
  readonly onWarning?: (message: string) => void
}

/**
 * Write the attachment image at `ref` (a tag) as `options.plan` says, merging again while concurrent writers move
 * the tag. Layer blobs must already be in the repository; the config blob is pushed here. The manifest write is
 * never repeated with the same bytes: a failed one (network, 429/5xx) is followed by a read of the tag and, unless
 * it holds ours, by a new round after the registry's `Retry-After` or a backoff (at most 3 such retries). When the
 * registry fails once a manifest write was sent and the tag holds what we write, that is the result (with
 * `onWarning`); otherwise the failure is thrown.
 *
 * @returns The digest of the manifest now holding our layer.
 * @throws {CountersignError} ERR_OCI_HTTP when the tag kept changing for 12 rounds; store errors.
 */
export async function writeAttachmentImage(
  store: OCIStore,
  ref: Reference,
  options: WriteAttachmentOptions,
): Promise<string> {
  const call: StoreCallOptions = options.signal ? { signal: options.signal } : {}
  let sent = false
  try {
    return await writeRounds(store, ref, options, call, () => {
      sent = true
    })
  } catch (e) {
    if (!sent || !isRegistryUnavailable(e)) throw e
    const landed = await holdsOurs(store, ref, options.written, call)
    if (landed === undefined) throw e
    options.onWarning?.(
      `the registry failed after the write of ${ref.tag} (${(e as Error).message}); the tag holds what was written, so the write succeeded`,
    )
    return landed
  }
}

/** The digest of the manifest at `ref` when it holds what we write; undefined when not, or when it cannot be read. */
async function holdsOurs(
  store: OCIStore,
  ref: Reference,
  written: (layers: readonly Descriptor[]) => boolean,
  call: StoreCallOptions,
): Promise<string | undefined> {
  try {
    const now = await readAttachmentImage(store, ref, call)
    return now && written(now.layers) ? now.manifestDigest : undefined
  } catch {
    return undefined
  }
}

/** The read-merge-write rounds; `onSend` is called before each manifest write. */
async function writeRounds(
  store: OCIStore,
  ref: Reference,
  options: WriteAttachmentOptions,
  call: StoreCallOptions,
  onSend: () => void,
): Promise<string> {
  const { signal } = options
  let failures = 0
  /** The wait before the next round after a failed write (the registry's Retry-After or a backoff). */
  let retryPause: number | undefined
  /** The failure of the last write when the tag held it anyway (its answer was lost): told as a warning. */
  let lostAnswer: Error | undefined
  const done = (digest: string): string => {
    if (lostAnswer !== undefined) {
      options.onWarning?.(
        `the registry failed after the write of ${ref.tag} (${lostAnswer.message}); the tag holds what was written, so the write succeeded`,
      )
    }
    return digest
  }
  for (let round = 0; round < MAX_WRITE_ROUNDS; round++) {
    // Contending writers back off with full jitter so that one of them gets a quiet window.
    if (round > 0) await pause(retryPause ?? Math.random() * Math.min(1000, 20 * 2 ** round), signal)
    retryPause = undefined
    const existing = await readAttachmentImage(store, ref, call)
    if (existing && options.written(existing.layers)) {
      // An earlier round landed after all (merged by another writer, or its answer lost): confirm it like a write.
      if (round === 0) return done(existing.manifestDigest)
      const kept = await stillOurs(store, ref, existing.manifestDigest, options.written, call, 0, true, signal)
      if (kept) return done(existing.manifestDigest)
      continue
    }
    const plan = await options.plan(existing)
    if (plan === undefined) {
      if (existing === undefined) throw new TypeError('plan() may skip the write only when the tag exists')
      return existing.manifestDigest
    }
    const image = await buildSignatureImage(plan.layers, {
      digest: sha256Digest,
      history: plan.history,
      ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
      ...(plan.created ? { created: plan.created } : {}),
    })
    // Blobs first, manifest last: the manifest PUT is the only step that changes what the tag points to.
    await store.pushBlob(ref, image.config, image.configDescriptor.mediaType, call)
    // Shrink the read-modify-write window to one round trip: if the tag moved since we read it, merge again.
    const started = Date.now()
    if ((await currentDigest(store, ref, call)) !== existing?.manifestDigest) continue
    onSend()
    let digest: string
    try {
      // Sent once: these bytes are merged from `existing`, and must not reach the registry again later.
      digest = (await store.pushManifest(ref, image.manifest, image.manifestMediaType, { ...call, retry: false }))
        .digest
      lostAnswer = undefined
    } catch (e) {
      const landed = mayHaveLanded(e) ? await holdsOurs(store, ref, options.written, call) : undefined
      if (landed === undefined) {
        retryPause = writeRetryPause(e, ++failures)
        if (retryPause === undefined) throw e
        continue
      }
      lostAnswer = e as Error
      digest = landed
    }
    // Contention: a repeated round means the tag moved under us, a re-check lost our layer, or a write failed.
    const contended = round > 0
    if (await stillOurs(store, ref, digest, options.written, call, Date.now() - started, contended, signal)) {
      return done(digest)
    }
  }
  throw new CountersignError(
    'ERR_OCI_HTTP',
    `the attachment tag ${ref.tag} kept changing under concurrent writers; gave up after ${MAX_WRITE_ROUNDS} rounds`,
  )
}

/** The attachment image at `ref`, or `undefined` when the tag does not exist. */
export async function readAttachmentImage(
  store: OCIStore,
  ref: Reference,
  call: StoreCallOptions,
): Promise<AttachmentSnapshot | undefined> {
  let fetched: Awaited<ReturnType<OCIStore['fetchManifest']>>
  try {
    fetched = await store.fetchManifest(ref, call)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
  const layers = signatureLayers(fetched.manifest)
  const configDesc = 'config' in fetched.manifest ? fetched.manifest.config : undefined
  // The config only carries history and `created`; if it is gone we rebuild it rather than fail the append.
  let config: ExistingSignatureConfig = { history: [] }
  if (configDesc) {
    try {
      config = readSignatureConfig(await store.fetchBlob(ref, configDesc.digest, { ...call, maxSize: 1 << 20 }))
    } catch (e) {
      if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND')) throw e
    }
  }
  return { layers, config, manifestDigest: fetched.descriptor.digest }
}

/**
 * True when the tag still points at our manifest (or at one that kept our layer), now and after the re-check
 * horizon of src/oci/shared-tag.ts (longer when `contended`).
 */
async function stillOurs(
  store: OCIStore,
  ref: Reference,
  ourDigest: string,
  written: (layers: readonly Descriptor[]) => boolean,
  call: StoreCallOptions,
  writeMs: number,
  contended: boolean,
  signal: AbortSignal | undefined,
): Promise<boolean> {
  return confirmTagWrite(
    async () => {
      const now = await store.resolve(ref, call)
      if (now.digest === ourDigest) return 'same'
      const current = await readAttachmentImage(store, ref, call)
      return current && written(current.layers) ? 'moved' : 'lost'
    },
    { roundTripMs: writeMs, contended, immediate: true, ...(signal !== undefined ? { signal } : {}) },
  )
}

async function currentDigest(store: OCIStore, ref: Reference, call: StoreCallOptions): Promise<string | undefined> {
  try {
    return (await store.resolve(ref, call)).digest
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
}
