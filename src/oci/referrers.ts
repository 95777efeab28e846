/**
 * OCI 1.1 referrers over any {@link OCIStore}: list them through the Referrers API, else the referrers tag schema,
 * and push them by digest, keeping the tag-schema fallback index up to date when the store does not index
 * subjects itself (OCI distribution-spec v1.1 §Listing Referrers, §Pushing Manifests with Subject,
 * §Referrers Tag Schema).
 *
 * The fallback index is written byte for byte as go-containerregistry writes it (`remote.commitSubjectReferrers`):
 * Go's `v1.IndexManifest` / `v1.Descriptor` field order, entries sorted by digest, Go's JSON escaping.
 *
 * Concurrency: updating the fallback index is read-modify-write, and registries without conditional writes cannot
 * make it atomic. Writers in one process are serialised per store and tag; across processes each writer follows
 * the shared-tag rules (shared-tag.ts): its index write is sent once (a transport retry would re-send bytes merged
 * from an old read after others added entries), a failed write is followed by a read (its answer may be what was
 * lost) and otherwise by a new read-merge-write after `Retry-After` or a backoff; after writing it re-reads after a
 * settle pause (4–8× its own round trip, ≥ 50 ms) and, when it saw other writers, once more 1.5–2.5 s later, and
 * merges and rewrites while anything it has seen is missing (bounded attempts, jittered backoff), putting back
 * entries a racing writer dropped. What remains: a write another writer sent before ours that reaches the registry
 * after our last re-read drops our entry unnoticed; {@link repairReferrersIndex} re-adds known descriptors.
 * Registries with the Referrers API have no such race.
 *
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { goMarshal, goObject, type OrderedObject } from '../internal/go-json.js'
import { computeDigest, parseDigest } from './digest.js'
import { isImageIndex, parseDescriptor, parseManifest } from './manifest.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE } from './media-types.js'
import { confirmTagWrite, mayHaveLanded, pause, writeRetryPause } from './shared-tag.js'
import type { Descriptor, OCIStore, PushedManifest, Reference, Repository, StoreCallOptions } from './types.js'

/**
 * Options for {@link listReferrers}.
 *
 * @example
 * ```ts
 * import { BUNDLE_V03_MEDIA_TYPE } from 'countersign/bundle'
 * const options: ListReferrersOptions = { artifactType: BUNDLE_V03_MEDIA_TYPE }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface ListReferrersOptions extends StoreCallOptions {
  /** Only referrers with this `artifactType` (always also applied locally, whatever the registry did). */
  readonly artifactType?: string
}

/**
 * Options for {@link pushReferrer}.
 *
 * @example
 * ```ts
 * const options: PushReferrerOptions = { subject: { mediaType, digest, size } }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface PushReferrerOptions extends StoreCallOptions {
  /** The subject; its digest must be the manifest's own `subject.digest`. */
  readonly subject: Descriptor
  /**
   * Expected artifact type. The fallback entry always carries the manifest's (its `artifactType`, else its config
   * media type, as the Referrers API reports it); a different value here is ERR_INVALID_INPUT.
   */
  readonly artifactType?: string
  /**
   * Annotations of the fallback index entry. Default: the manifest's annotations, as distribution-spec v1.1 asks.
   * `{}` leaves them out, which is what go-containerregistry (and so cosign) writes.
   */
  readonly annotations?: Readonly<Record<string, string>>
  /** Most writes of the fallback index before giving up (default 5). */
  readonly maxAttempts?: number
  /**
   * Told when a write of the fallback index failed (network, 429/5xx) but the index lists our entry when read again
   * (its answer was lost): the push then succeeds.
   */
  readonly onWarning?: (message: string) => void
}

/**
 * Options for {@link repairReferrersIndex}.
 *
 * @example
 * ```ts
 * const options: RepairReferrersIndexOptions = { maxAttempts: 10 }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export interface RepairReferrersIndexOptions extends StoreCallOptions {
  /** Most writes of the fallback index before giving up (default 5). */
  readonly maxAttempts?: number
}

/** A descriptor as go-containerregistry's `v1.Descriptor` holds it (it also keeps `data`). */
type GoDescriptor = Descriptor & { readonly data?: string }

/** The fallback index as ggcr's `v1.IndexManifest` decodes it: unknown fields are dropped. */
interface FallbackIndex {
  readonly manifests: readonly GoDescriptor[]
  readonly annotations?: Readonly<Record<string, string>>
  readonly subject?: GoDescriptor
  readonly artifactType?: string
}

const DEFAULT_MAX_ATTEMPTS = 5
// image-spec descriptor.md §Digests: algorithm ":" encoded.
const GENERAL_DIGEST_RE = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/

/**
 * The referrers tag of a digest (distribution-spec §Referrers Tag Schema): the algorithm truncated to 32
 * characters, `-`, the encoded part truncated to 64, with characters a tag may not hold replaced by `-`. For
 * `sha256:<hex>` that is `sha256-<hex>`.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when `digest` is not `<algorithm>:<encoded>`.
 * @example
 * ```ts
 * import { referrersTag } from 'countersign/oci'
 * referrersTag('sha256:' + 'a'.repeat(64)) // 'sha256-aaaa…'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function referrersTag(digest: string): string {
  const m = typeof digest === 'string' ? GENERAL_DIGEST_RE.exec(digest) : null
  if (m === null) {
    throw new CountersignError('ERR_INVALID_INPUT', `invalid digest ${JSON.stringify(String(digest).slice(0, 150))}`)
  }
  return `${m[1]!.slice(0, 32)}-${m[2]!.slice(0, 64)}`.replace(/[^a-zA-Z0-9._-]/g, '-')
}

function tagRef(repo: Repository, subjectDigest: string): Reference {
  return { registry: repo.registry, repository: repo.repository, tag: referrersTag(subjectDigest) }
}

function invalid(message: string): CountersignError {
  return new CountersignError('ERR_OCI_MANIFEST_INVALID', message)
}

function callOptions(signal: AbortSignal | undefined): StoreCallOptions {
  return signal === undefined ? {} : { signal }
}

/** The fallback index as read, with the digest of the manifest the tag pointed at (undefined: no tag). */
interface FallbackRead {
  readonly index: FallbackIndex | undefined
  readonly digest: string | undefined
}

/**
 * Read the index at the referrers tag. Missing → undefined. Anything but an OCI image index → ERR_OCI_MANIFEST_INVALID
 * (spec: "report a failure"; ggcr refuses it too). The store has already enforced its manifest size limit and
 * validated every descriptor (a malformed one fails the whole index, as it fails ggcr's decoder).
 */
async function readFallbackIndex(
  store: OCIStore,
  repo: Repository,
  subjectDigest: string,
  signal: AbortSignal | undefined,
): Promise<FallbackIndex | undefined> {
  return (await readFallback(store, repo, subjectDigest, signal)).index
}

/** {@link readFallbackIndex}, with the digest the tag pointed at. */
async function readFallback(
  store: OCIStore,
  repo: Repository,
  subjectDigest: string,
  signal: AbortSignal | undefined,
): Promise<FallbackRead> {
  const ref = tagRef(repo, subjectDigest)
  let fetched: Awaited<ReturnType<OCIStore['fetchManifest']>>
  try {
    fetched = await store.fetchManifest(ref, callOptions(signal))
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return { index: undefined, digest: undefined }
    throw e
  }
  const m = fetched.manifest
  if (!isImageIndex(m) || fetched.descriptor.mediaType !== OCI_IMAGE_INDEX_MEDIA_TYPE) {
    throw invalid(`referrers tag ${ref.tag} holds ${fetched.descriptor.mediaType}, not an OCI image index`)
  }
  // `data` is not part of Descriptor but ggcr keeps it; take it from the raw entries (already validated JSON).
  const raw = JSON.parse(fromUtf8(fetched.bytes, 'referrers index')) as { manifests?: unknown }
  const rawEntries = Array.isArray(raw.manifests) ? (raw.manifests as unknown[]) : []
  const manifests = m.manifests.map((d, i): GoDescriptor => {
    const data = (rawEntries[i] as { data?: unknown } | null)?.data
    return typeof data === 'string' && data !== '' ? { ...d, data } : d
  })
  const index: FallbackIndex = {
    manifests,
    ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
    ...(m.subject !== undefined ? { subject: m.subject } : {}),
    ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
  }
  return { index, digest: fetched.descriptor.digest }
}

function nonEmpty<T>(v: readonly T[] | undefined): readonly T[] | undefined {
  return v !== undefined && v.length > 0 ? v : undefined
}

function nonEmptyMap(v: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  return v !== undefined && Object.keys(v).length > 0 ? v : undefined
}

function goString(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function goStrings(v: unknown): readonly string[] | undefined {
  return Array.isArray(v) ? nonEmpty(v.filter((s): s is string => typeof s === 'string')) : undefined
}

// ggcr v1.Platform: architecture, os (always), os.version, os.features, variant, features (omitempty).
function goPlatform(p: Readonly<Record<string, unknown>>): OrderedObject {
  return goObject([
    ['architecture', goString(p.architecture)],
    ['os', goString(p.os)],
    ['os.version', goString(p['os.version']) || undefined],
    ['os.features', goStrings(p['os.features'])],
    ['variant', goString(p.variant) || undefined],
    ['features', goStrings(p.features)],
  ])
}

// ggcr v1.Descriptor: mediaType, size, digest (always), data, urls, annotations, platform, artifactType (omitempty).
function goDescriptor(d: GoDescriptor): OrderedObject {
  return goObject([
    ['mediaType', d.mediaType],
    ['size', d.size],
    ['digest', d.digest],
    ['data', d.data || undefined],
    ['urls', nonEmpty(d.urls)],
    ['annotations', nonEmptyMap(d.annotations)],
    ['platform', d.platform === undefined ? undefined : goPlatform(d.platform)],
    ['artifactType', d.artifactType || undefined],
  ])
}

/**
 * The bytes go-containerregistry's `json.Marshal(v1.IndexManifest)` produces: schemaVersion, mediaType, manifests,
 * annotations, subject, artifactType; maps with sorted keys; `<`, `>`, `&` escaped.
 */
function encodeFallbackIndex(index: FallbackIndex): Uint8Array {
  return utf8(
    goMarshal(
      goObject([
        ['schemaVersion', 2],
        ['mediaType', OCI_IMAGE_INDEX_MEDIA_TYPE],
        ['manifests', index.manifests.map(goDescriptor)],
        ['annotations', nonEmptyMap(index.annotations)],
        ['subject', index.subject === undefined ? undefined : goDescriptor(index.subject)],
        ['artifactType', index.artifactType || undefined],
      ]),
    ),
  )
}

function stripData(d: GoDescriptor): Descriptor {
  if (d.data === undefined) return d
  const { data: _data, ...rest } = d
  return rest
}

/**
 * List the referrers of `subjectDigest` in `repo`: the store's Referrers API first; when it has none
 * (`store.referrers` resolves to `undefined`), the OCI image index at the referrers tag `sha256-<hex>`
 * (missing → no referrers). Entries are de-duplicated by digest and filtered by `artifactType` locally.
 *
 * @param store - A registry client or layout store.
 * @param repo - The repository holding the referrers (usually the subject's).
 * @param subjectDigest - The subject manifest's digest.
 * @throws {CountersignError} ERR_INVALID_INPUT for a malformed digest; ERR_OCI_MANIFEST_INVALID when the referrers
 * tag holds something other than a valid OCI image index; ERR_OCI_SIZE_LIMIT when it is too large; store errors.
 * @example
 * ```ts
 * import { BUNDLE_V03_MEDIA_TYPE } from 'countersign/bundle'
 * import { createRegistryClient, listReferrers, parseReference } from 'countersign/oci'
 * const repo = parseReference('ghcr.io/acme/app')
 * const bundles = await listReferrers(createRegistryClient(), repo, digest, { artifactType: BUNDLE_V03_MEDIA_TYPE })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export async function listReferrers(
  store: OCIStore,
  repo: Repository,
  subjectDigest: string,
  options: ListReferrersOptions = {},
): Promise<readonly Descriptor[]> {
  parseDigest(subjectDigest)
  const { artifactType, signal } = options
  const apiOptions = artifactType === undefined ? callOptions(signal) : { ...callOptions(signal), artifactType }
  const fromAPI = await store.referrers(repo, subjectDigest, apiOptions)
  const all = fromAPI ?? (await readFallbackIndex(store, repo, subjectDigest, signal))?.manifests ?? []
  const seen = new Set<string>()
  const out: Descriptor[] = []
  for (const d of all) {
    if (seen.has(d.digest)) continue
    seen.add(d.digest)
    if (artifactType !== undefined && d.artifactType !== artifactType) continue
    out.push(stripData(d))
  }
  return out
}

// One update of a given referrers tag at a time per store object: in-process writers never race each other.
const locks = new WeakMap<OCIStore, Map<string, Promise<unknown>>>()

function withLock<T>(store: OCIStore, key: string, fn: () => Promise<T>): Promise<T> {
  let perStore = locks.get(store)
  if (perStore === undefined) {
    perStore = new Map()
    locks.set(store, perStore)
  }
  const previous = perStore.get(key) ?? Promise.resolve()
  const run = previous.then(fn, fn)
  const tail = run.catch(() => {})
  perStore.set(key, tail)
  void tail.then(() => {
    if (perStore.get(key) === tail) perStore.delete(key)
  })
  return run
}

function includesAll(index: FallbackIndex | undefined, wanted: readonly GoDescriptor[]): boolean {
  if (index === undefined) return wanted.length === 0
  const have = new Set(index.manifests.map((d) => d.digest))
  return wanted.every((d) => have.has(d.digest))
}

/**
 * Add `wanted` to the fallback index: read, merge, write once, then re-read to confirm nobody overwrote it.
 *
 * Registries without conditional writes (distribution 2.8 has no `If-Match` on manifests) cannot make this atomic;
 * what this does instead (the shared-tag rules of shared-tag.ts):
 * - writers in this process are serialised per store and tag;
 * - every write is the union of all entries this call has seen at the tag plus ours, and the confirming re-reads
 *   check all of them, so while it runs a writer also puts back entries of others that a racing writer dropped;
 * - the index write is sent once (`retry: false`): when it fails (network, 429/5xx) the index is read, and if it
 *   lists our entries the answer was what got lost (`onWarning`); otherwise, after the registry's `Retry-After` or a
 *   backoff (at most 3 times), it is read, merged and written again. Bytes merged from an old read never go out
 *   twice;
 * - after writing it re-reads after a jittered settle time (4–8× its own read+write round trip, at least 50 ms) and,
 *   when it saw other writers (a repeated write, a failed one, a re-read finding another writer's index), once more
 *   1.5–2.5 s later; whenever anything it knows is missing it merges and rewrites, up to `maxAttempts` writes with
 *   jittered backoff.
 * Remaining window: a write another writer sent before ours (it read before our write) that reaches the registry
 * only after our last re-read replaces the index with one lacking our entry, and nobody notices.
 * {@link repairReferrersIndex} puts known descriptors back. Entries deleted by someone else while this runs may be
 * put back too. Registries with the Referrers API have none of this.
 */
async function mergeIntoFallback(
  store: OCIStore,
  repo: Repository,
  subjectDigest: string,
  wanted: readonly GoDescriptor[],
  maxAttempts: number,
  signal: AbortSignal | undefined,
  onWarning?: (message: string) => void,
): Promise<void> {
  const ref = tagRef(repo, subjectDigest)
  const read = () => readFallback(store, repo, subjectDigest, signal)
  await withLock(store, `${repo.registry}/${repo.repository}:${ref.tag}`, async () => {
    const known = new Map<string, GoDescriptor>(wanted.map((d) => [d.digest, d]))
    const learn = (index: FallbackIndex | undefined) => {
      for (const d of index?.manifests ?? []) if (!known.has(d.digest)) known.set(d.digest, d)
    }
    const holdsKnown = (index: FallbackIndex | undefined) => includesAll(index, [...known.values()])
    let writes = 0
    let failures = 0
    /** The wait before the next write after a failed one (the registry's Retry-After or a backoff). */
    let retryPause: number | undefined
    /** The failure of the last write when the index listed ours anyway (its answer was lost). */
    let lostAnswer: Error | undefined
    const done = () => {
      if (lostAnswer === undefined) return
      onWarning?.(
        `the registry failed after the write of the referrers index ${ref.tag} (${lostAnswer.message}); the index lists the entry, so the write succeeded`,
      )
    }
    let started = Date.now()
    let current = await read()
    for (;;) {
      learn(current.index)
      // Before any write this is ggcr's "The digest is already attached, nothing to do."
      if (holdsKnown(current.index)) return done()
      if (writes >= maxAttempts) {
        if (includesAll(current.index, wanted)) return done()
        throw new CountersignError(
          'ERR_OCI_HTTP',
          `the referrers index at tag ${ref.tag} lost our entry to concurrent writers ${maxAttempts} times`,
          { details: { tag: ref.tag, attempts: maxAttempts, digests: wanted.map((d) => d.digest) } },
        )
      }
      if (writes + failures > 0) {
        const attempt = writes + failures + 1
        await pause(retryPause ?? Math.min(1_000, 20 * 2 ** attempt * (0.5 + Math.random())), signal)
        retryPause = undefined
        started = Date.now()
        current = await read()
        learn(current.index)
        if (holdsKnown(current.index)) return done()
      }
      // ggcr: "Sort the manifests for reproducibility" (by digest string; digests are ASCII).
      const manifests = [...known.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))
      const next: FallbackIndex = { ...(current.index ?? {}), manifests }
      const bytes = encodeFallbackIndex(next)
      let written: string | undefined
      try {
        // Sent once: these bytes are merged from `current`, and must not reach the registry again later.
        const call = { ...callOptions(signal), retry: false }
        written = (await store.pushManifest(ref, bytes, OCI_IMAGE_INDEX_MEDIA_TYPE, call)).digest
        lostAnswer = undefined
      } catch (e) {
        const now = mayHaveLanded(e) ? await read().catch(() => undefined) : undefined
        if (now === undefined || !includesAll(now.index, wanted)) {
          retryPause = writeRetryPause(e, ++failures)
          if (retryPause === undefined) throw e
          continue
        }
        lostAnswer = e as Error
        current = now
        written = now.digest
      }
      writes++
      const confirmed = await confirmTagWrite(
        async () => {
          current = await read()
          if (!holdsKnown(current.index)) return 'lost'
          return current.digest === written ? 'same' : 'moved'
        },
        {
          roundTripMs: Date.now() - started,
          // Contention: an earlier write was lost to another writer, or failed.
          contended: writes > 1 || failures > 0,
          ...(signal !== undefined ? { signal } : {}),
        },
      )
      if (confirmed) return done()
    }
  })
}

/**
 * Push the referrer manifest by digest. When the registry fails after the retries (network, 429/5xx), its answer may
 * be what was lost and not the write: if the manifest is there by digest, go on as if the push had answered (the
 * write is idempotent; whether the registry took the subject is then unknown, so the Referrers API is asked).
 */
async function pushLandedOrNot(
  store: OCIStore,
  target: Reference,
  bytes: Uint8Array,
  mediaType: string,
  signal: AbortSignal | undefined,
): Promise<PushedManifest> {
  try {
    return await store.pushManifest(target, bytes, mediaType, callOptions(signal))
  } catch (e) {
    const unavailable =
      isCountersignError(e, 'ERR_NETWORK') || (isCountersignError(e, 'ERR_OCI_HTTP') && e.details?.temporary === true)
    if (!unavailable) throw e
    try {
      await store.resolve(target, callOptions(signal))
    } catch {
      throw e
    }
    return { mediaType, digest: target.digest!, size: bytes.length }
  }
}

function attemptsOf(n: number | undefined): number {
  if (n === undefined) return DEFAULT_MAX_ATTEMPTS
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('"maxAttempts" must be a positive integer')
  return n
}

/**
 * Push a referrer manifest (one with a `subject`) to `repo` by digest, then make it discoverable: when the store
 * indexes subjects itself (a registry with the Referrers API that answered `OCI-Subject`, or already lists it), that
 * is all; otherwise (registries without the API, registries that send `OCI-Subject` without serving the API, and
 * image layouts) the entry `{mediaType, size, digest, annotations, artifactType}` is merged into the OCI image index
 * at the referrers tag `sha256-<hex>`, written as go-containerregistry writes it. Concurrent writers are handled as
 * well as a registry without conditional writes allows: see the module notes and {@link repairReferrersIndex}. A
 * push that failed on the network or with 429/5xx after the retries but is in the registry by digest (its answer
 * was lost) is carried on with.
 *
 * @param manifestBytes - The referrer manifest, exactly as it is to be stored.
 * @param mediaType - Its media type (`application/vnd.oci.image.manifest.v1+json` for cosign bundles).
 * @returns The pushed manifest's descriptor, with `subjectAccepted` as the store reported it.
 * @throws {CountersignError} ERR_INVALID_INPUT when the manifest has no subject or disagrees with `options`;
 * ERR_OCI_MANIFEST_INVALID when the referrers tag holds something other than an OCI index; ERR_OCI_HTTP when
 * concurrent writers kept replacing the index for `maxAttempts` rounds; store errors.
 * @example
 * ```ts
 * import { createRegistryClient, OCI_IMAGE_MANIFEST_MEDIA_TYPE, parseReference, pushReferrer } from 'countersign/oci'
 * const repo = parseReference('registry.local:5000/app')
 * await pushReferrer(createRegistryClient(), repo, manifestBytes, OCI_IMAGE_MANIFEST_MEDIA_TYPE, { subject })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export async function pushReferrer(
  store: OCIStore,
  repo: Repository,
  manifestBytes: Uint8Array,
  mediaType: string,
  options: PushReferrerOptions,
): Promise<PushedManifest> {
  const { signal } = options
  const maxAttempts = attemptsOf(options.maxAttempts)
  const manifest = parseManifest(manifestBytes, mediaType)
  if (manifest.subject === undefined) {
    throw new CountersignError('ERR_INVALID_INPUT', 'a referrer manifest needs a "subject"')
  }
  const subjectDigest = manifest.subject.digest
  if (options.subject?.digest !== subjectDigest) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `the manifest's subject ${subjectDigest} is not the given subject ${String(options.subject?.digest)}`,
    )
  }
  // ggcr commitManifest and the spec: the manifest's artifactType, else its config media type (none for an index).
  const artifactType = manifest.artifactType || (isImageIndex(manifest) ? undefined : manifest.config.mediaType)
  if (options.artifactType !== undefined && options.artifactType !== artifactType) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `artifactType ${JSON.stringify(options.artifactType)} is not the manifest's ${JSON.stringify(artifactType)}`,
    )
  }
  const digest = await computeDigest(manifestBytes)
  const target: Reference = { registry: repo.registry, repository: repo.repository, digest }
  const pushed = await pushLandedOrNot(store, target, manifestBytes, mediaType, signal)
  if (store.kind === 'registry') {
    // Like sigstore-js, do not trust OCI-Subject alone (ECR sends it without serving the API); like ggcr, a
    // registry whose API already lists the manifest needs no fallback either.
    const listed = await store.referrers(repo, subjectDigest, callOptions(signal))
    if (listed !== undefined && (pushed.subjectAccepted === true || listed.some((d) => d.digest === digest))) {
      return pushed
    }
  }
  const annotations = options.annotations ?? manifest.annotations
  const entry: GoDescriptor = {
    mediaType: manifest.mediaType ?? mediaType,
    size: manifestBytes.length,
    digest,
    ...(annotations !== undefined ? { annotations } : {}),
    ...(artifactType !== undefined ? { artifactType } : {}),
  }
  await mergeIntoFallback(store, repo, subjectDigest, [entry], maxAttempts, signal, options.onWarning)
  return pushed
}

/**
 * Make sure the fallback index at the referrers tag of `subjectDigest` lists `descriptors` (adding the missing ones,
 * keeping every other entry, sorted and encoded as go-containerregistry does). Use it after a concurrent-writer
 * race, or to register referrers that were pushed by digest without updating the index. Does nothing when they
 * are all listed already. It does not consult the Referrers API.
 *
 * @throws {CountersignError} ERR_OCI_MANIFEST_INVALID for a malformed descriptor or a referrers tag that is not an
 * OCI index; ERR_OCI_HTTP when concurrent writers kept replacing the index; store errors.
 * @example
 * ```ts
 * import { OCI_IMAGE_MANIFEST_MEDIA_TYPE, repairReferrersIndex } from 'countersign/oci'
 * await repairReferrersIndex(store, repo, subjectDigest, [
 *   { mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, digest, size, artifactType },
 * ])
 * ```
 *
 * Exported from `countersign/oci`.
 */
export async function repairReferrersIndex(
  store: OCIStore,
  repo: Repository,
  subjectDigest: string,
  descriptors: readonly Descriptor[],
  options: RepairReferrersIndexOptions = {},
): Promise<void> {
  parseDigest(subjectDigest)
  const wanted = descriptors.map((d, i) => parseDescriptor(d, `descriptors[${i}]`))
  if (wanted.length === 0) return
  await mergeIntoFallback(store, repo, subjectDigest, wanted, attemptsOf(options.maxAttempts), options.signal)
}
