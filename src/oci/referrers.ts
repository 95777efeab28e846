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
 * make it atomic. Writers in one process are serialised per store and tag; across processes each writer re-reads
 * after a settle pause (3–4× its own round trip, ≥ 50 ms) and merges and rewrites while anything it has seen is
 * missing (bounded attempts, jittered backoff), putting back entries a racing writer dropped. What remains: a writer
 * whose read-to-write gap outlasts every other writer's settle time can still drop an entry unnoticed;
 * {@link repairReferrersIndex} re-adds known descriptors. Registries with the Referrers API have no such race.
 *
 * @module
 */
import { CountersignError, isCountersignError } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { goMarshal, goObject, type OrderedObject } from '../internal/go-json.js'
import { computeDigest, parseDigest } from './digest.js'
import { isImageIndex, parseDescriptor, parseManifest } from './manifest.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE } from './media-types.js'
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
const MIN_SETTLE_MS = 50
const MAX_SETTLE_MS = 3_000
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
  const ref = tagRef(repo, subjectDigest)
  let fetched: Awaited<ReturnType<OCIStore['fetchManifest']>>
  try {
    fetched = await store.fetchManifest(ref, callOptions(signal))
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
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
  return {
    manifests,
    ...(m.annotations !== undefined ? { annotations: m.annotations } : {}),
    ...(m.subject !== undefined ? { subject: m.subject } : {}),
    ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
  }
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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new CountersignError('ERR_ABORTED', 'the operation was aborted', { cause: signal?.reason })
    if (signal?.aborted) return reject(aborted())
    const onAbort = () => {
      clearTimeout(timer)
      reject(aborted())
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

function includesAll(index: FallbackIndex | undefined, wanted: readonly GoDescriptor[]): boolean {
  if (index === undefined) return wanted.length === 0
  const have = new Set(index.manifests.map((d) => d.digest))
  return wanted.every((d) => have.has(d.digest))
}

/**
 * Add `wanted` to the fallback index: read, merge, write, then re-read after a pause to confirm nobody overwrote it.
 *
 * Registries without conditional writes (distribution 2.8 has no `If-Match` on manifests) cannot make this atomic;
 * what this does instead:
 * - writers in this process are serialised per store and tag;
 * - every write is the union of all entries this call has seen at the tag plus ours, and the confirming re-read
 *   checks all of them, so while it runs a writer also puts back entries of others that a racing writer dropped;
 * - after writing it waits a jittered "settle" time (3–4× its own read+write round trip, at least 50 ms), re-reads,
 *   and merges and rewrites when anything it knows is missing, up to `maxAttempts` writes with jittered backoff.
 * Remaining window: a writer that read before our write and writes only after every writer that saw our entry has
 * finished (its read-to-write gap longer than our settle time) replaces the index with one lacking our entry, and
 * nobody notices. {@link repairReferrersIndex} puts known descriptors back. Entries deleted by someone else while
 * this runs may be put back too. Registries with the Referrers API have none of this.
 */
async function mergeIntoFallback(
  store: OCIStore,
  repo: Repository,
  subjectDigest: string,
  wanted: readonly GoDescriptor[],
  maxAttempts: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  const ref = tagRef(repo, subjectDigest)
  const read = () => readFallbackIndex(store, repo, subjectDigest, signal)
  await withLock(store, `${repo.registry}/${repo.repository}:${ref.tag}`, async () => {
    const known = new Map<string, GoDescriptor>(wanted.map((d) => [d.digest, d]))
    const learn = (index: FallbackIndex | undefined) => {
      for (const d of index?.manifests ?? []) if (!known.has(d.digest)) known.set(d.digest, d)
    }
    let started = Date.now()
    let current = await read()
    for (let attempt = 1; ; attempt++) {
      learn(current)
      // On the first round this is ggcr's "The digest is already attached, nothing to do."
      if (includesAll(current, [...known.values()])) return
      if (attempt > maxAttempts) {
        if (includesAll(current, wanted)) return
        throw new CountersignError(
          'ERR_OCI_HTTP',
          `the referrers index at tag ${ref.tag} lost our entry to concurrent writers ${maxAttempts} times`,
          { details: { tag: ref.tag, attempts: maxAttempts, digests: wanted.map((d) => d.digest) } },
        )
      }
      if (attempt > 1) {
        await sleep(Math.min(1_000, 20 * 2 ** attempt * (0.5 + Math.random())), signal)
        started = Date.now()
        current = await read()
        learn(current)
        if (includesAll(current, [...known.values()])) return
      }
      // ggcr: "Sort the manifests for reproducibility" (by digest string; digests are ASCII).
      const manifests = [...known.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))
      const next: FallbackIndex = { ...(current ?? {}), manifests }
      const bytes = encodeFallbackIndex(next)
      await store.pushManifest(ref, bytes, OCI_IMAGE_INDEX_MEDIA_TYPE, callOptions(signal))
      const roundTrip = Date.now() - started
      await sleep(Math.min(MAX_SETTLE_MS, Math.max(MIN_SETTLE_MS, roundTrip * (3 + Math.random()))), signal)
      current = await read()
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
  await mergeIntoFallback(store, repo, subjectDigest, [entry], maxAttempts, signal)
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
