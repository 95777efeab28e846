/**
 * A bundle's transparency-log entry (protobuf-specs `dev.sigstore.rekor.v1.TransparencyLogEntry`, JSON form): parse
 * the attacker-controlled JSON into typed, validated bytes and integers before any check uses it.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromBase64 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, MAX_JSON_DEPTH } from '../internal/json-shape.js'

const INT64_MAX = (1n << 63n) - 1n
// A tree of 2^64 leaves needs at most 64 proof hashes; anything longer is refused before decoding.
const MAX_PROOF_HASHES = 64
const MAX_NAME_LENGTH = 256

/**
 * An inclusion proof of a log entry: shard-local index, tree size and root it was computed for, audit path (leaf to
 * root) and the signed checkpoint that vouches for the root.
 *
 * Exported from `countersign/rekor`.
 */
export interface TransparencyLogInclusionProof {
  /** Index of the entry in the (shard) tree the proof is for (Rekor v1: not the global `logIndex`). */
  readonly logIndex: bigint
  readonly rootHash: Uint8Array
  readonly treeSize: bigint
  readonly hashes: readonly Uint8Array[]
  /** The signed note (`checkpoint.envelope`); absent when the bundle omits it, which verification rejects. */
  readonly checkpoint?: string
}

/**
 * A parsed bundle transparency-log entry. int64 fields are bigints (protobuf JSON writes them as strings); bytes are
 * decoded. Missing protobuf defaults read as defaults: `integratedTime` 0 (Rekor v2), no proof hashes.
 *
 * Exported from `countersign/rekor`.
 */
export interface TransparencyLogEntry {
  /** Global log index (what a Rekor v1 SET signs). */
  readonly logIndex: bigint
  /** `logId.keyId`: SHA-256 of the log's SPKI (Rekor v1) or its C2SP key ID (Rekor v2). */
  readonly logId: Uint8Array
  readonly kindVersion: { readonly kind: string; readonly version: string }
  /** Unix seconds; 0 when absent. Trust it only when an inclusion promise (SET) over it verified. */
  readonly integratedTime: bigint
  readonly inclusionPromise?: { readonly signedEntryTimestamp: Uint8Array }
  readonly inclusionProof?: TransparencyLogInclusionProof
  /** The Rekor entry body exactly as logged (the Merkle leaf). */
  readonly canonicalizedBody: Uint8Array
}

const parsedEntries = /* @__PURE__ */ new WeakSet<object>()

function entryError(field: string, reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_BUNDLE_INVALID', `transparency log entry: ${field} ${reason}`, {
    details: { check: 'entry', field, reason },
    ...(cause === undefined ? {} : { cause }),
  })
}

/** protobuf JSON int64: a decimal string (canonical) or a JSON number that is an exact safe integer; never negative. */
function parseInt64(value: unknown, field: string, optional: boolean): bigint {
  if (value === undefined || value === null) {
    if (optional) return 0n
    entryError(field, 'is missing')
  }
  let v: bigint
  if (typeof value === 'string') {
    if (!/^(0|[1-9][0-9]{0,18})$/.test(value)) entryError(field, 'is not a non-negative integer')
    v = BigInt(value)
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) entryError(field, 'is not a non-negative integer')
    v = BigInt(value)
  } else entryError(field, 'is not an integer')
  if (v > INT64_MAX) entryError(field, 'is out of range')
  return v
}

function parseBytes(value: unknown, field: string): Uint8Array {
  if (value === undefined || value === null || value === '') entryError(field, 'is missing')
  if (typeof value !== 'string') entryError(field, 'is not a base64 string')
  try {
    return fromBase64(value)
  } catch (cause) {
    entryError(field, 'is not valid base64', cause)
  }
}

function parseName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0) entryError(field, 'is missing')
  if (value.length > MAX_NAME_LENGTH) entryError(field, 'is too long')
  return value
}

function parseProof(value: unknown): TransparencyLogInclusionProof {
  if (!isJSONObject(value)) entryError('inclusionProof', 'is not an object')
  const hashesIn = value.hashes ?? []
  if (!Array.isArray(hashesIn)) entryError('inclusionProof.hashes', 'is not a list')
  if (hashesIn.length > MAX_PROOF_HASHES) entryError('inclusionProof.hashes', 'has too many hashes')
  const hashes = hashesIn.map((h, i) => parseBytes(h, `inclusionProof.hashes[${i}]`))
  const proof: { -readonly [K in keyof TransparencyLogInclusionProof]: TransparencyLogInclusionProof[K] } = {
    logIndex: parseInt64(value.logIndex, 'inclusionProof.logIndex', true),
    rootHash: parseBytes(value.rootHash, 'inclusionProof.rootHash'),
    treeSize: parseInt64(value.treeSize, 'inclusionProof.treeSize', false),
    hashes: Object.freeze(hashes),
  }
  const cp = value.checkpoint
  if (cp !== undefined && cp !== null) {
    if (!isJSONObject(cp)) entryError('inclusionProof.checkpoint', 'is not an object')
    // An empty envelope is the protobuf default, i.e. no checkpoint (sigstore-go rejects it as "checkpoint empty").
    if (cp.envelope !== undefined && cp.envelope !== null && typeof cp.envelope !== 'string') {
      entryError('inclusionProof.checkpoint.envelope', 'is not a string')
    }
    if (typeof cp.envelope === 'string' && cp.envelope !== '') proof.checkpoint = cp.envelope
  }
  return Object.freeze(proof)
}

/**
 * Parse one entry of a bundle's `verificationMaterial.tlogEntries` (as {@link countersign/bundle!Bundle | Bundle} keeps
 * them, raw JSON). Only the shape is checked here (fields present, integers exact and in int64 range, base64
 * valid); signatures, proofs and the body are checked by {@link verifyTransparencyLogEntry}.
 *
 * @param value - One element of `bundle.tlogEntries`.
 * @returns The entry, frozen.
 * @throws {CountersignError} ERR_BUNDLE_INVALID (`details.check: 'entry'`, `details.field`) for a missing or
 *   malformed field.
 * @example
 * ```ts
 * import { parseBundle } from 'countersign/bundle'
 * import { parseTransparencyLogEntry } from 'countersign/rekor'
 * const entries = parseBundle(bytes).tlogEntries.map(parseTransparencyLogEntry)
 * console.log(entries[0]?.kindVersion.kind, entries[0]?.logIndex)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function parseTransparencyLogEntry(value: unknown): TransparencyLogEntry {
  if (!isJSONObject(value)) entryError('entry', 'is not an object')
  assertJSONShape(value, {
    code: 'ERR_BUNDLE_INVALID',
    what: 'transparency log entry',
    maxDepth: MAX_JSON_DEPTH,
    details: { check: 'entry' },
  })
  if (!isJSONObject(value.logId)) entryError('logId', 'is missing')
  if (!isJSONObject(value.kindVersion)) entryError('kindVersion', 'is missing')
  const entry: { -readonly [K in keyof TransparencyLogEntry]: TransparencyLogEntry[K] } = {
    logIndex: parseInt64(value.logIndex, 'logIndex', true),
    logId: parseBytes(value.logId.keyId, 'logId.keyId'),
    kindVersion: Object.freeze({
      kind: parseName(value.kindVersion.kind, 'kindVersion.kind'),
      version: parseName(value.kindVersion.version, 'kindVersion.version'),
    }),
    integratedTime: parseInt64(value.integratedTime, 'integratedTime', true),
    canonicalizedBody: parseBytes(value.canonicalizedBody, 'canonicalizedBody'),
  }
  const promise = value.inclusionPromise
  if (promise !== undefined && promise !== null) {
    if (!isJSONObject(promise)) entryError('inclusionPromise', 'is not an object')
    entry.inclusionPromise = Object.freeze({
      signedEntryTimestamp: parseBytes(promise.signedEntryTimestamp, 'inclusionPromise.signedEntryTimestamp'),
    })
  }
  if (value.inclusionProof !== undefined && value.inclusionProof !== null) {
    entry.inclusionProof = parseProof(value.inclusionProof)
  }
  const frozen = Object.freeze(entry)
  parsedEntries.add(frozen)
  return frozen
}

/** True for an object {@link parseTransparencyLogEntry} returned (so it need not be parsed again). */
export function isParsedTransparencyLogEntry(value: unknown): value is TransparencyLogEntry {
  return typeof value === 'object' && value !== null && parsedEntries.has(value)
}

/**
 * Whether an entry is a Rekor v2 (tile log) entry: `hashedrekord` or `dsse` at API version 0.0.2. (`intoto` 0.0.2 is a
 * Rekor v1 kind.)
 *
 * @param entry - A parsed entry.
 * @returns `true` for Rekor v2 kinds.
 * @example
 * ```ts
 * import { isRekorV2Entry, parseTransparencyLogEntry } from 'countersign/rekor'
 * if (isRekorV2Entry(parseTransparencyLogEntry(json))) console.log('needs an RFC 3161 timestamp')
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function isRekorV2Entry(entry: TransparencyLogEntry): boolean {
  const { kind, version } = entry.kindVersion
  return (kind === 'hashedrekord' || kind === 'dsse') && version === '0.0.2'
}
