/**
 * Rekor v1 `LogEntry` responses: validate the JSON a log returned (an object keyed by the entry UUID) and convert it
 * to the protobuf-JSON `TransparencyLogEntry` a bundle stores. Nothing is verified cryptographically here, but every
 * field is checked for shape, and the UUID must name the body's Merkle leaf.
 *
 * @module
 */

import { CountersignError } from '../errors.js'
import { concat, fromBase64, fromHex, fromUtf8, toBase64, toHex } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { sha256 } from '../internal/sha2.js'

// A tree of 2^64 leaves needs at most 64 proof hashes.
const MAX_PROOF_HASHES = 64
const MAX_NAME_LENGTH = 256
const MAX_CHECKPOINT_LENGTH = 1 << 20
const HEX32 = /^[0-9a-f]{64}$/
/** Entry UUID: the 64-hex leaf hash, optionally behind the 16-hex tree ID (`pkg/sharding/sharding.go`). */
const UUID = /^(?:[0-9a-f]{16})?[0-9a-f]{64}$/

/**
 * The inclusion proof of a Rekor v1 entry, as the log returned it (decoded).
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorInclusionProof {
  /** Index of the entry in its shard's tree (not the global `logIndex`). */
  readonly logIndex: number
  readonly rootHash: Uint8Array
  readonly treeSize: number
  readonly hashes: readonly Uint8Array[]
  /** Signed note for `rootHash`/`treeSize` (origin `"<host> - <treeID>"`). */
  readonly checkpoint: string
}

/**
 * A validated Rekor v1 log entry.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorLogEntry {
  /** Entry UUID as the log keyed it: 80 hex (`%016x` tree ID + leaf hash) on production, 64 hex on old logs. */
  readonly uuid: string
  /** The leaf hash part of the UUID: SHA-256(0x00 ‖ body). */
  readonly leafHash: string
  /** The tree (shard) ID part of the UUID, 16 hex, when present. */
  readonly treeID?: string
  /** The canonical entry body (the Merkle leaf). */
  readonly body: Uint8Array
  /** `kind` and `apiVersion` read from the body. */
  readonly kind: string
  readonly apiVersion: string
  /** Unix seconds. */
  readonly integratedTime: number
  /** SHA-256 of the log's DER public key. */
  readonly logID: Uint8Array
  /** Global (virtual) index across all shards: what the SET signs and a bundle's `logIndex` holds. */
  readonly logIndex: number
  readonly signedEntryTimestamp?: Uint8Array
  readonly inclusionProof?: RekorInclusionProof
}

function bad(reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_REKOR_HTTP', `Rekor returned an invalid log entry: ${reason}`, {
    details: { reason: 'invalid-entry' },
    ...(cause === undefined ? {} : { cause }),
  })
}

/** A JSON number that is a non-negative safe integer (Rekor writes int64s as numbers). */
function count(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${field} is not a non-negative integer`)
  return v
}

function hex32(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !HEX32.test(v)) bad(`${field} is not a 32-byte lower-case hex string`)
  return fromHex(v)
}

function base64(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || v === '') bad(`${field} is missing`)
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(v) || v.length % 4 !== 0) bad(`${field} is not base64`)
  return fromBase64(v)
}

/** The Merkle leaf hash of an entry body, hex: SHA-256(0x00 ‖ body) (RFC 6962). */
function leafHashHex(body: Uint8Array): string {
  return toHex(sha256(concat(Uint8Array.of(0), body)))
}

/**
 * The UUID of an entry body: its Merkle leaf hash, behind the tree ID (16 hex) when given, as Rekor names entries.
 *
 * @param body - The canonical entry body.
 * @param treeID - The shard's tree ID, decimal (as `GET /api/v1/log` reports it) or 16 hex.
 * @returns 64 or 80 lower-case hex characters.
 * @example
 * ```ts
 * import { rekorEntryUUID } from 'countersign/rekor'
 * const uuid = rekorEntryUUID(body, '1193050959916656506')
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function rekorEntryUUID(body: Uint8Array, treeID?: string): string {
  if (!(body instanceof Uint8Array)) throw new TypeError('body must be a Uint8Array')
  if (treeID === undefined) return leafHashHex(body)
  let prefix: string
  if (/^[0-9a-f]{16}$/.test(treeID)) prefix = treeID
  else if (/^[0-9]{1,19}$/.test(treeID) && BigInt(treeID) < 1n << 63n) {
    prefix = BigInt(treeID).toString(16).padStart(16, '0')
  } else throw new TypeError('treeID must be a decimal int64 or 16 hex characters')
  return prefix + leafHashHex(body)
}

/** Split a UUID into tree ID and leaf hash; `undefined` for a string that is not one. */
export function splitRekorUUID(uuid: string): { readonly treeID?: string; readonly leafHash: string } | undefined {
  if (typeof uuid !== 'string' || !UUID.test(uuid)) return undefined
  return uuid.length === 80 ? { treeID: uuid.slice(0, 16), leafHash: uuid.slice(16) } : { leafHash: uuid }
}

function parseProof(v: unknown): RekorInclusionProof {
  if (!isJSONObject(v)) bad('verification.inclusionProof is not an object')
  const logIndex = count(v.logIndex, 'inclusionProof.logIndex')
  const treeSize = count(v.treeSize, 'inclusionProof.treeSize')
  if (logIndex >= treeSize) bad('inclusionProof.logIndex is not inside the tree')
  const hashes = v.hashes ?? []
  if (!Array.isArray(hashes)) bad('inclusionProof.hashes is not a list')
  if (hashes.length > MAX_PROOF_HASHES) bad('inclusionProof.hashes has too many hashes')
  const checkpoint = v.checkpoint
  if (typeof checkpoint !== 'string' || checkpoint === '') bad('inclusionProof.checkpoint is missing')
  if (checkpoint.length > MAX_CHECKPOINT_LENGTH) bad('inclusionProof.checkpoint is too large')
  return Object.freeze({
    logIndex,
    rootHash: hex32(v.rootHash, 'inclusionProof.rootHash'),
    treeSize,
    hashes: Object.freeze(hashes.map((h, i) => hex32(h, `inclusionProof.hashes[${i}]`))),
    checkpoint,
  })
}

function bodyKind(body: Uint8Array): { kind: string; apiVersion: string } {
  const limits = { code: 'ERR_REKOR_HTTP', what: 'Rekor log entry body', maxDepth: MAX_JSON_DEPTH } as const
  assertJSONText(body, { ...limits, maxBytes: body.length })
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(body, 'entry body'))
  } catch (cause) {
    bad('body is not JSON', cause)
  }
  assertJSONShape(doc, limits)
  if (!isJSONObject(doc)) bad('body is not a JSON object')
  const { kind, apiVersion } = doc
  for (const [name, v] of [
    ['kind', kind],
    ['apiVersion', apiVersion],
  ] as const) {
    if (typeof v !== 'string' || v === '' || v.length > MAX_NAME_LENGTH) bad(`body ${name} is missing`)
  }
  return { kind: kind as string, apiVersion: apiVersion as string }
}

/**
 * Validate a Rekor v1 `LogEntry` response: exactly one entry, keyed by a UUID whose leaf hash is that of the body;
 * base64/hex fields well-formed; integers exact; the inclusion proof's index inside its tree; the body a JSON object
 * naming its kind and API version.
 *
 * @param json - The parsed response of `POST /api/v1/log/entries` or `GET /api/v1/log/entries/…`.
 * @param options - `uuid`: the UUID asked for (64 or 80 hex); the entry must have its leaf hash (and tree ID when both
 *   name one).
 * @returns The entry, frozen.
 * @throws {CountersignError} ERR_REKOR_HTTP (`details.reason: 'invalid-entry'`) for anything malformed or mismatched;
 *   `details.reason: 'too-deep'` or `'too-large'` for a response or body nested past the limits of docs/formats.md
 *   §Input limits.
 * @example
 * ```ts
 * import { parseRekorLogEntry } from 'countersign/rekor'
 * const entry = parseRekorLogEntry(await response.json())
 * console.log(entry.uuid, entry.logIndex, entry.inclusionProof?.logIndex)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function parseRekorLogEntry(json: unknown, options: { readonly uuid?: string } = {}): RekorLogEntry {
  if (!isJSONObject(json)) bad('the response is not a JSON object')
  assertJSONShape(json, { code: 'ERR_REKOR_HTTP', what: 'Rekor log entry', maxDepth: MAX_JSON_DEPTH })
  const keys = Object.keys(json)
  if (keys.length !== 1) bad(`expected one entry, got ${keys.length}`)
  const uuid = keys[0]!
  const parts = splitRekorUUID(uuid)
  if (parts === undefined) bad('the entry is not keyed by a UUID')
  const value = json[uuid]
  if (!isJSONObject(value)) bad('the entry is not an object')
  const body = base64(value.body, 'body')
  if (leafHashHex(body) !== parts.leafHash) bad('the UUID is not the leaf hash of the body')
  if (options.uuid !== undefined) {
    const asked = splitRekorUUID(options.uuid.toLowerCase())
    if (asked === undefined) throw new TypeError('uuid must be 64 or 80 hex characters')
    if (asked.leafHash !== parts.leafHash || (asked.treeID && parts.treeID && asked.treeID !== parts.treeID)) {
      bad('the log returned another entry than the one asked for')
    }
  }
  const { kind, apiVersion } = bodyKind(body)
  const entry: { -readonly [K in keyof RekorLogEntry]: RekorLogEntry[K] } = {
    uuid,
    leafHash: parts.leafHash,
    ...(parts.treeID === undefined ? {} : { treeID: parts.treeID }),
    body,
    kind,
    apiVersion,
    integratedTime: count(value.integratedTime, 'integratedTime'),
    logID: hex32(value.logID, 'logID'),
    logIndex: count(value.logIndex, 'logIndex'),
  }
  const verification = value.verification
  if (verification !== undefined && verification !== null) {
    if (!isJSONObject(verification)) bad('verification is not an object')
    if (verification.signedEntryTimestamp !== undefined && verification.signedEntryTimestamp !== null) {
      entry.signedEntryTimestamp = base64(verification.signedEntryTimestamp, 'verification.signedEntryTimestamp')
    }
    if (verification.inclusionProof !== undefined && verification.inclusionProof !== null) {
      entry.inclusionProof = parseProof(verification.inclusionProof)
    }
  }
  return Object.freeze(entry)
}

/**
 * Convert a Rekor v1 entry to the protobuf-JSON `TransparencyLogEntry` a bundle stores (as sigstore-js and
 * sigstore-go's `tle.GenerateTransparencyLogEntry` do): int64s as strings, bytes as base64, `logId.keyId` the raw log
 * ID, `kindVersion` from the body, the global `logIndex` at the top and the shard-local one in the proof.
 *
 * @param entry - A {@link parseRekorLogEntry} result.
 * @returns A JSON object that {@link parseTransparencyLogEntry} accepts.
 * @example
 * ```ts
 * import { parseRekorLogEntry, toBundleLogEntry } from 'countersign/rekor'
 * const tlogEntry = toBundleLogEntry(parseRekorLogEntry(json))
 * bundleJSON.verificationMaterial.tlogEntries = [tlogEntry]
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function toBundleLogEntry(entry: RekorLogEntry): Record<string, unknown> {
  const proof = entry.inclusionProof
  // Keys in protojson field order.
  return {
    logIndex: String(entry.logIndex),
    logId: { keyId: toBase64(entry.logID) },
    kindVersion: { kind: entry.kind, version: entry.apiVersion },
    integratedTime: String(entry.integratedTime),
    ...(entry.signedEntryTimestamp === undefined
      ? {}
      : { inclusionPromise: { signedEntryTimestamp: toBase64(entry.signedEntryTimestamp) } }),
    ...(proof === undefined
      ? {}
      : {
          inclusionProof: {
            logIndex: String(proof.logIndex),
            rootHash: toBase64(proof.rootHash),
            treeSize: String(proof.treeSize),
            hashes: proof.hashes.map(toBase64),
            checkpoint: { envelope: proof.checkpoint },
          },
        }),
    canonicalizedBody: toBase64(entry.body),
  }
}
