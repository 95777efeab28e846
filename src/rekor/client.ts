/**
 * Rekor v1 REST client (`https://rekor.sigstore.dev`): create entries, fetch them by UUID or index, search the index
 * and read the log's state. Every answer is validated for shape before it is returned; signatures, proofs and
 * checkpoints are for the caller to verify against its trusted root (`verifyTransparencyLogEntry`).
 *
 * @module
 */
import type { BundleContent } from '../bundle/bundle.js'
import type { LogEntryKind, LogSigner, TransparencyLogWriter } from '../contracts/transparency-log.js'
import { CountersignError } from '../errors.js'
import { redactingErrors } from '../http/redact.js'
import { createServiceHTTP, type ServiceClientOptions, type ServiceResponse } from '../http/service.js'
import { fromHex, toBase64 } from '../internal/bytes.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import { isJSONObject } from '../internal/json.js'
import { verifyEntryBody } from './body.js'
import { parseTransparencyLogEntry } from './entry.js'
import { parseRekorLogEntry, type RekorLogEntry, splitRekorUUID, toBundleLogEntry } from './log-entry.js'
import { createRekorProposedEntry, type RekorProposedEntry } from './proposed-entry.js'

/** The public-good Rekor v1 log. Exported from `countersign/rekor`. */
export const DEFAULT_REKOR_URL = 'https://rekor.sigstore.dev'

/**
 * Options of {@link createRekorClient}.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorClientOptions extends ServiceClientOptions {
  /** Base URL of the log (default {@link DEFAULT_REKOR_URL}). */
  readonly url?: string
}

/**
 * Public key formats `POST /api/v1/index/retrieve` accepts.
 *
 * Exported from `countersign/rekor`.
 */
export type RekorPublicKeyFormat = 'x509' | 'ssh' | 'pgp' | 'minisign' | 'tuf'

/**
 * A search of Rekor's index (rekor-cli `search`). At least one criterion is needed; `operator` combines them (default
 * `or`).
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorSearchQuery {
  /** Artifact (or payload) digest, `sha256:<hex>` (also `sha384:`, `sha512:`, `sha1:`). */
  readonly hash?: string
  /** A public key or certificate as the key file holds it (x509: PEM). */
  readonly publicKey?: { readonly format: RekorPublicKeyFormat; readonly content: Uint8Array }
  readonly email?: string
  /** A certificate subject (URI SAN, SPIFFE ID …). */
  readonly subject?: string
  readonly operator?: 'and' | 'or'
}

/**
 * The log's state (`GET /api/v1/log`).
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorLogInfo {
  readonly rootHash: Uint8Array
  readonly treeSize: number
  /** The signed checkpoint (signed note) for `rootHash` and `treeSize`. */
  readonly signedTreeHead: string
  /** The active shard's tree ID, decimal. */
  readonly treeID: string
  readonly inactiveShards: readonly {
    readonly rootHash: Uint8Array
    readonly treeSize: number
    readonly signedTreeHead: string
    readonly treeID: string
  }[]
}

/** Per-call options of the {@link RekorClient} methods. */
interface CallOptions {
  readonly signal?: AbortSignalLike
}

/**
 * A Rekor v1 client. `createEntry` is the {@link TransparencyLogWriter} contract; the other methods are rekor-cli's
 * `upload`, `get`, `search` and `loginfo`.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorClient extends TransparencyLogWriter {
  readonly apiVersion: 1
  /**
   * Log `content` (hashedrekord for a message signature; dsse (default) or intoto for a DSSE envelope) and return the
   * bundle `TransparencyLogEntry` JSON. When the log already holds the entry (409), the existing entry is fetched
   * and returned. The logged body must hold this signature, signer and digest.
   */
  createEntry(
    content: BundleContent,
    signer: LogSigner,
    options?: { readonly kind?: LogEntryKind; readonly signal?: AbortSignalLike },
  ): Promise<Record<string, unknown>>
  /** POST a proposed entry; returns the created (or, on 409, the existing) entry. */
  createLogEntry(proposed: RekorProposedEntry, options?: CallOptions): Promise<RekorLogEntry>
  /** GET an entry by UUID (64 or 80 hex). */
  getEntryByUUID(uuid: string, options?: CallOptions): Promise<RekorLogEntry>
  /** GET an entry by its global log index. */
  getEntryByIndex(logIndex: number, options?: CallOptions): Promise<RekorLogEntry>
  /** Search the index; returns entry UUIDs. */
  searchIndex(query: RekorSearchQuery, options?: CallOptions): Promise<string[]>
  /** The log's current size, root and signed tree head. */
  getLogInfo(options?: CallOptions): Promise<RekorLogInfo>
}

// Entries carry a certificate, a proof of at most 64 hashes and a checkpoint; old kinds (rekord, intoto 0.0.1) may
// embed more. A search for a popular digest returns many 82-byte UUIDs.
const MAX_ENTRY_BYTES = 4 * 1024 * 1024
const MAX_SEARCH_BYTES = 4 * 1024 * 1024
const MAX_INFO_BYTES = 1024 * 1024
const HASH_QUERY = /^(?:sha1:[0-9a-f]{40}|sha256:[0-9a-f]{64}|sha384:[0-9a-f]{96}|sha512:[0-9a-f]{128})$/
const FORMATS: readonly RekorPublicKeyFormat[] = ['x509', 'ssh', 'pgp', 'minisign', 'tuf']

function invalidAnswer(where: string, reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_REKOR_HTTP', `Rekor: ${where} answered with ${reason}`, {
    details: { reason: 'invalid-response' },
    ...(cause === undefined ? {} : { cause }),
  })
}

function normalizeUUID(uuid: string): string {
  const lower = typeof uuid === 'string' ? uuid.toLowerCase() : ''
  if (splitRekorUUID(lower) === undefined) {
    throw new CountersignError('ERR_INVALID_INPUT', 'Rekor entry UUID must be 64 or 80 hex characters')
  }
  return lower
}

/** The UUID of the entry a 409 names: the `Location` header's last segment, else the one in the message. */
function conflictUUID(res: ServiceResponse): string | undefined {
  const location = res.headers.get('location')
  const fromLocation = location?.split(/[?#]/)[0]?.split('/').pop()?.toLowerCase()
  if (fromLocation && splitRekorUUID(fromLocation)) return fromLocation
  let message: unknown
  try {
    message = (res.json() as { message?: unknown })?.message
  } catch {
    return undefined
  }
  const m = typeof message === 'string' ? /UUID ([0-9a-fA-F]{64,80})\b/.exec(message) : null
  const found = m?.[1]?.toLowerCase()
  return found && splitRekorUUID(found) ? found : undefined
}

function parseLogInfoItem(v: unknown, where: string, field: string) {
  if (!isJSONObject(v)) invalidAnswer(where, `${field} that is not an object`)
  const { rootHash, treeSize, signedTreeHead, treeID } = v
  if (typeof rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(rootHash)) invalidAnswer(where, `a bad ${field}.rootHash`)
  if (typeof treeSize !== 'number' || !Number.isSafeInteger(treeSize) || treeSize < 0) {
    invalidAnswer(where, `a bad ${field}.treeSize`)
  }
  if (typeof signedTreeHead !== 'string' || signedTreeHead === '') invalidAnswer(where, `no ${field}.signedTreeHead`)
  if (typeof treeID !== 'string' || !/^[0-9]{1,19}$/.test(treeID)) invalidAnswer(where, `a bad ${field}.treeID`)
  return Object.freeze({ rootHash: fromHex(rootHash), treeSize, signedTreeHead, treeID })
}

/**
 * Create a Rekor v1 client. Requests go through the shared service transport (retries on 408/429/5xx and reset
 * connections, per-attempt timeout, bounded bodies); errors never carry the request body.
 *
 * @param options - Base URL and HTTP options.
 * @returns A frozen {@link RekorClient}.
 * @throws {CountersignError} ERR_INVALID_INPUT for a URL that is not http(s). The methods throw ERR_REKOR_HTTP for
 *   HTTP failures (`details.status`) and malformed answers (`details.reason`), ERR_TLOG_ENTRY_MISMATCH when a created
 *   entry logs something else, ERR_INVALID_INPUT for bad arguments, ERR_NETWORK and ERR_ABORTED.
 * @example
 * ```ts
 * import { createRekorClient } from 'countersign/rekor'
 * const rekor = createRekorClient({ url: 'https://rekor.sigstore.dev' })
 * const tlogEntry = await rekor.createEntry(bundle.content, { type: 'certificate', certificate, algorithm })
 * const uuids = await rekor.searchIndex({ hash: 'sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function createRekorClient(options: RekorClientOptions = {}): RekorClient {
  const base = (options.url ?? DEFAULT_REKOR_URL).replace(/\/+$/, '')
  try {
    const u = new URL(base)
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new TypeError('not http(s)')
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'Rekor URL must be an http(s) URL', { cause })
  }
  const http = createServiceHTTP('Rekor', 'ERR_REKOR_HTTP', options)
  const entriesURL = `${base}/api/v1/log/entries`
  const signalOf = (o: CallOptions | undefined) => (o?.signal ? { signal: o.signal } : {})

  function json(res: ServiceResponse): unknown {
    return res.json()
  }

  async function getEntryByUUID(uuid: string, call?: CallOptions): Promise<RekorLogEntry> {
    const id = normalizeUUID(uuid)
    const res = await http({ method: 'GET', url: `${entriesURL}/${id}`, maxBytes: MAX_ENTRY_BYTES, ...signalOf(call) })
    return parseRekorLogEntry(json(res), { uuid: id })
  }

  async function getEntryByIndex(logIndex: number, call?: CallOptions): Promise<RekorLogEntry> {
    if (!Number.isSafeInteger(logIndex) || logIndex < 0) {
      throw new CountersignError('ERR_INVALID_INPUT', 'Rekor log index must be a non-negative integer')
    }
    const url = `${entriesURL}?logIndex=${logIndex}`
    const res = await http({ method: 'GET', url, maxBytes: MAX_ENTRY_BYTES, ...signalOf(call) })
    const entry = parseRekorLogEntry(json(res))
    if (entry.logIndex !== logIndex) invalidAnswer(`GET ${entriesURL}`, `the entry at index ${entry.logIndex}`)
    return entry
  }

  async function createLogEntry(proposed: RekorProposedEntry, call?: CallOptions): Promise<RekorLogEntry> {
    const res = await http({
      method: 'POST',
      url: entriesURL,
      json: proposed,
      maxBytes: MAX_ENTRY_BYTES,
      acceptStatus: [409],
      ...signalOf(call),
    })
    if (res.status === 409) {
      // Rekor answers a duplicate with the existing entry's URL in Location (sigstore-js fetches it from there).
      const uuid = conflictUUID(res)
      if (uuid === undefined) {
        throw new CountersignError(
          'ERR_REKOR_HTTP',
          `Rekor: POST ${entriesURL} failed with HTTP 409 and did not name the existing entry`,
          { details: { status: 409, reason: 'duplicate' } },
        )
      }
      return getEntryByUUID(uuid, call)
    }
    if (res.status !== 201) invalidAnswer(`POST ${entriesURL}`, `HTTP ${res.status} instead of 201`)
    const entry = parseRekorLogEntry(json(res))
    const etag = res.headers
      .get('etag')
      ?.replace(/^(?:W\/)?"|"$/g, '')
      .toLowerCase()
    if (etag && etag !== entry.uuid) invalidAnswer(`POST ${entriesURL}`, 'an ETag that is not the entry UUID')
    return entry
  }

  async function createEntry(
    content: BundleContent,
    signer: LogSigner,
    call: { readonly kind?: LogEntryKind; readonly signal?: AbortSignalLike } = {},
  ): Promise<Record<string, unknown>> {
    const proposed = createRekorProposedEntry(content, signer, call.kind === undefined ? {} : { kind: call.kind })
    const entry = await createLogEntry(proposed, call)
    if (entry.kind !== proposed.kind || entry.apiVersion !== proposed.apiVersion) {
      invalidAnswer(`POST ${entriesURL}`, `an entry of kind ${entry.kind} ${entry.apiVersion}`)
    }
    if (entry.signedEntryTimestamp === undefined && entry.inclusionProof === undefined) {
      invalidAnswer(`POST ${entriesURL}`, 'an entry with neither a signed entry timestamp nor an inclusion proof')
    }
    const tlogEntry = toBundleLogEntry(entry)
    // The log must have logged what was sent: same signature, signer and digest. (The caller verifies SET, proof and
    // checkpoint against its trusted root.)
    verifyEntryBody(parseTransparencyLogEntry(tlogEntry), {
      content,
      verifier: signer.type === 'certificate' ? { certificate: signer.certificate } : { publicKey: signer.spki },
      ...(proposed.kind === 'hashedrekord'
        ? {
            artifact: {
              algorithm: proposed.spec.data.hash.algorithm,
              digest: fromHex(proposed.spec.data.hash.value),
            },
          }
        : {}),
    })
    return tlogEntry
  }

  async function searchIndex(query: RekorSearchQuery, call?: CallOptions): Promise<string[]> {
    const body: Record<string, unknown> = {}
    if (query.hash !== undefined) {
      const hash = query.hash.toLowerCase()
      if (!HASH_QUERY.test(hash)) throw new CountersignError('ERR_INVALID_INPUT', 'search hash must be "<alg>:<hex>"')
      body.hash = hash
    }
    if (query.publicKey !== undefined) {
      const { format, content } = query.publicKey
      if (!FORMATS.includes(format)) throw new CountersignError('ERR_INVALID_INPUT', 'unknown public key format')
      if (!(content instanceof Uint8Array) || content.length === 0) {
        throw new CountersignError('ERR_INVALID_INPUT', 'search public key is empty')
      }
      body.publicKey = { format, content: toBase64(content) }
    }
    if (query.email !== undefined) body.email = query.email
    if (query.subject !== undefined) body.subject = query.subject
    if (Object.keys(body).length === 0) {
      throw new CountersignError('ERR_INVALID_INPUT', 'a Rekor search needs a hash, public key, email or subject')
    }
    if (query.operator !== undefined) {
      if (query.operator !== 'and' && query.operator !== 'or') {
        throw new CountersignError('ERR_INVALID_INPUT', 'search operator must be "and" or "or"')
      }
      body.operator = query.operator
    }
    const url = `${base}/api/v1/index/retrieve`
    const res = await http({ method: 'POST', url, json: body, maxBytes: MAX_SEARCH_BYTES, ...signalOf(call) })
    const list = json(res)
    if (!Array.isArray(list)) invalidAnswer(`POST ${url}`, 'a result that is not a list')
    return list.map((u) => {
      if (typeof u !== 'string' || splitRekorUUID(u.toLowerCase()) === undefined) {
        invalidAnswer(`POST ${url}`, 'a result that is not an entry UUID')
      }
      return u.toLowerCase()
    })
  }

  async function getLogInfo(call?: CallOptions): Promise<RekorLogInfo> {
    const url = `${base}/api/v1/log`
    const res = await http({ method: 'GET', url, maxBytes: MAX_INFO_BYTES, ...signalOf(call) })
    const doc = json(res)
    const info = parseLogInfoItem(doc, `GET ${url}`, 'log info')
    const shards = (doc as { inactiveShards?: unknown }).inactiveShards ?? []
    if (!Array.isArray(shards)) invalidAnswer(`GET ${url}`, 'inactiveShards that is not a list')
    return Object.freeze({
      ...info,
      inactiveShards: Object.freeze(shards.map((s, i) => parseLogInfoItem(s, `GET ${url}`, `inactiveShards[${i}]`))),
    })
  }

  const s = http.secrets
  return Object.freeze({
    url: base,
    apiVersion: 1 as const,
    createEntry: redactingErrors(createEntry, s),
    createLogEntry: redactingErrors(createLogEntry, s),
    getEntryByUUID: redactingErrors(getEntryByUUID, s),
    getEntryByIndex: redactingErrors(getEntryByIndex, s),
    searchIndex: redactingErrors(searchIndex, s),
    getLogInfo: redactingErrors(getLogInfo, s),
  })
}
