/**
 * Signed notes (C2SP signed-note) and transparency-log checkpoints (C2SP tlog-checkpoint, Rekor's checkpoint format):
 * parse, format and verify against log keys.
 *
 * Rekor v1 signs its checkpoints with the log's ECDSA key under the key hint SHA-256(SPKI)[:4], and the signature
 * name is not bound to the key, so v1 signatures are matched by key hint only (as sigstore-go and Rekor do). Rekor v2
 * (tile logs) uses C2SP keys: the signature must carry the log's name and its key ID, and cosignatures from unknown
 * witnesses are ignored.
 *
 * @module
 */

import { CountersignError } from '../errors.js'
import { concat, equalBytes, fromBase64, fromHex, toBase64, toHex, utf8 } from '../internal/bytes.js'
import { merged } from '../internal/merged.js'
import { sha256 } from '../internal/sha2.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { PublicKey, VerifyOptions } from '../keys/types.js'
import { type SignatureBackend, verifySignature } from '../keys/verify.js'
import { type TransparencyLog, transparencyLogKey } from '../trust/trusted-root.js'

const SIGNATURE_PREFIX = '\u2014 ' // em dash + space
const MAX_SIGNATURES = 100 // as Go's golang.org/x/mod/sumdb/note
const MAX_NOTE_LENGTH = 1 << 20
const UINT64_MAX = (1n << 64n) - 1n

function checkpointError(reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_TLOG_INCLUSION_PROOF', `checkpoint: ${reason}`, {
    details: { check: 'checkpoint', reason },
    ...(cause === undefined ? {} : { cause }),
  })
}

/** Go's base64.StdEncoding: padded standard alphabet only (the lenient shared decoder also takes URL-safe). */
function strictBase64(s: string, what: string): Uint8Array {
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) checkpointError(`${what} is not base64`)
  return fromBase64(s)
}

/**
 * One signature line of a signed note: `— <name> <base64(key hint ‖ signature)>`.
 *
 * Exported from `countersign/rekor`.
 */
export interface NoteSignature {
  readonly name: string
  /** First 4 bytes of the decoded signature: the key hint (key ID). */
  readonly keyHint: Uint8Array
  readonly signature: Uint8Array
}

/**
 * A parsed signed note: the signed text (ending in a newline) and its signature lines.
 *
 * Exported from `countersign/rekor`.
 */
export interface SignedNote {
  readonly text: string
  readonly signatures: readonly NoteSignature[]
}

/**
 * Parse a signed note (C2SP signed-note, as Go's `note.Open` splits it): the text is everything up to and including
 * the newline before the last blank line; every following line must be a signature line; there must be at least one.
 * Signatures are not verified here.
 *
 * @param envelope - The note, e.g. `inclusionProof.checkpoint.envelope` of a bundle.
 * @returns The text and signatures.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF (`details.check: 'checkpoint'`) for a malformed note.
 * @example
 * ```ts
 * import { parseSignedNote } from 'countersign/rekor'
 * const note = parseSignedNote(entry.inclusionProof.checkpoint.envelope)
 * console.log(note.signatures.map((s) => s.name))
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function parseSignedNote(envelope: string): SignedNote {
  if (typeof envelope !== 'string') throw new TypeError('envelope must be a string')
  if (envelope.length > MAX_NOTE_LENGTH) checkpointError('note is too large')
  const split = envelope.lastIndexOf('\n\n')
  if (split < 0) checkpointError('missing blank line before the signatures')
  const text = envelope.slice(0, split + 1)
  const block = envelope.slice(split + 2)
  if (block.length === 0 || !block.endsWith('\n')) checkpointError('missing signature lines')
  const lines = block.slice(0, -1).split('\n')
  if (lines.length > MAX_SIGNATURES) checkpointError('too many signatures')
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(SIGNATURE_PREFIX)) checkpointError('malformed signature line')
    const rest = line.slice(SIGNATURE_PREFIX.length)
    const space = rest.indexOf(' ')
    if (space <= 0) checkpointError('malformed signature line')
    const name = rest.slice(0, space)
    // C2SP signed-note: a key name is non-empty and contains no whitespace or "+".
    if (/[\s+]/u.test(name)) checkpointError('malformed signature name')
    const raw = strictBase64(rest.slice(space + 1), 'signature')
    if (raw.length < 5) checkpointError('signature is too short')
    return Object.freeze({ name, keyHint: raw.slice(0, 4), signature: raw.slice(4) })
  })
  return Object.freeze({ text, signatures: Object.freeze(signatures) })
}

/**
 * A checkpoint body (C2SP tlog-checkpoint): origin, tree size, root hash and optional extension lines (Rekor v1 puts
 * `Timestamp: <ns>` there).
 *
 * Exported from `countersign/rekor`.
 */
export interface Checkpoint {
  readonly origin: string
  readonly treeSize: bigint
  readonly rootHash: Uint8Array
  readonly extensions: readonly string[]
}

/**
 * Parse a checkpoint body (the text of a signed note). It must end in a newline; the size is an unsigned decimal
 * without leading zeros that fits 64 bits; the root hash is padded standard base64 (its length is checked against the
 * inclusion proof, not here, as Rekor does). Trailing blank lines are tolerated, as in Rekor.
 *
 * @param text - The checkpoint text.
 * @returns The parsed checkpoint.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF (`details.check: 'checkpoint'`) for a malformed body.
 * @example
 * ```ts
 * import { parseCheckpoint, parseSignedNote } from 'countersign/rekor'
 * const { treeSize, rootHash } = parseCheckpoint(parseSignedNote(envelope).text)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new TypeError('text must be a string')
  if (!text.endsWith('\n')) checkpointError('body does not end with a newline')
  const lines = text.slice(0, -1).split('\n')
  if (lines.length < 3) checkpointError('body has too few lines')
  const [origin, size, root] = lines as [string, string, string]
  if (origin.length === 0) checkpointError('origin is empty')
  if (!/^(0|[1-9][0-9]{0,19})$/.test(size) || BigInt(size) > UINT64_MAX) checkpointError('invalid tree size')
  const rootHash = strictBase64(root, 'root hash')
  const extensions: string[] = []
  let ended = false
  for (const line of lines.slice(3)) {
    if (line.length === 0) ended = true
    else if (ended) checkpointError('unexpected content after a blank line')
    else extensions.push(line)
  }
  return Object.freeze({ origin, treeSize: BigInt(size), rootHash, extensions: Object.freeze(extensions) })
}

/**
 * Format a checkpoint body: origin, size and base64 root hash, then the extension lines, each ending in a newline.
 *
 * @param checkpoint - The fields.
 * @returns The body text.
 * @example
 * ```ts
 * import { formatCheckpoint } from 'countersign/rekor'
 * formatCheckpoint({ origin: 'log.example', treeSize: 3n, rootHash, extensions: [] })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, treeSize, rootHash, extensions } = checkpoint
  if (origin.length === 0 || origin.includes('\n')) throw new TypeError('origin must be one non-empty line')
  if (extensions.some((e) => e.length === 0 || e.includes('\n'))) {
    throw new TypeError('extensions must be non-empty single lines')
  }
  const b64 = toBase64(rootHash)
  return [origin, treeSize.toString(), b64, ...extensions].map((l) => `${l}\n`).join('')
}

/**
 * A key that may sign notes. With a `name`, a signature line counts only if its name equals it (C2SP); without one,
 * only the key hint is matched (Rekor v1).
 *
 * Exported from `countersign/rekor`.
 */
export interface NoteVerifier {
  readonly name?: string
  /** 4-byte key hint (C2SP key ID). */
  readonly keyHint: Uint8Array
  readonly key: PublicKey
  /** How to verify with `key` (hash, RSA padding); default SHA-256 / pure Ed25519. */
  readonly verifyOptions?: VerifyOptions
}

/**
 * A Rekor v1 checkpoint verifier: key hint = SHA-256(DER SPKI)[:4], matched by hint only.
 *
 * @param key - The log's public key.
 * @param verifyOptions - Verification options (default SHA-256).
 * @returns The verifier.
 * @example
 * ```ts
 * import { parsePublicKey } from 'countersign/keys'
 * import { rekorV1NoteVerifier } from 'countersign/rekor'
 * const verifier = rekorV1NoteVerifier(parsePublicKey(rekorPem))
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function rekorV1NoteVerifier(key: PublicKey, verifyOptions?: VerifyOptions): NoteVerifier {
  const keyHint = sha256(key.spki).slice(0, 4)
  return Object.freeze(verifyOptions === undefined ? { keyHint, key } : { keyHint, key, verifyOptions })
}

const ED25519_SPKI_PREFIX = /* @__PURE__ */ fromHex('302a300506032b6570032100')
const C2SP_ED25519 = 0x01

/**
 * A C2SP Ed25519 note verifier: key ID = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key)[:4], matched by name and
 * key ID (Rekor v2 logs, witnesses).
 *
 * @param name - The key name (for Rekor v2, the log's origin, e.g. `log2025-1.rekor.sigstore.dev`).
 * @param key - An Ed25519 public key.
 * @returns The verifier.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM for a non-Ed25519 key.
 * @example
 * ```ts
 * import { ed25519NoteVerifier } from 'countersign/rekor'
 * const verifier = ed25519NoteVerifier('log2025-1.rekor.sigstore.dev', key)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function ed25519NoteVerifier(name: string, key: PublicKey): NoteVerifier {
  if (key.algorithm !== 'ed25519') {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', 'C2SP note keys must be Ed25519')
  }
  const raw = key.spki.subarray(key.spki.length - 32)
  const keyHint = sha256(concat(utf8(name), Uint8Array.of(0x0a, C2SP_ED25519), raw)).slice(0, 4)
  return Object.freeze({ name, keyHint, key })
}

/**
 * Parse a C2SP verifier key string `<name>+<hex key ID>+<base64(0x01 ‖ Ed25519 key)>` and check its key ID.
 *
 * @param verifierKey - The verifier key string.
 * @returns The verifier.
 * @throws {CountersignError} ERR_INVALID_INPUT for a malformed string or a key ID that does not match;
 *   ERR_UNSUPPORTED_ALGORITHM for a key type other than Ed25519.
 * @example
 * ```ts
 * import { parseNoteVerifierKey } from 'countersign/rekor'
 * const v = parseNoteVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k')
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function parseNoteVerifierKey(verifierKey: string): NoteVerifier {
  const parts = typeof verifierKey === 'string' ? verifierKey.split('+') : []
  const [name, hint, b64] = parts
  if (parts.length !== 3 || !name || /\s/u.test(name) || !/^[0-9a-f]{8}$/.test(hint ?? '')) {
    throw new CountersignError('ERR_INVALID_INPUT', 'malformed note verifier key')
  }
  const raw = fromBase64(b64!)
  if (raw[0] !== C2SP_ED25519) throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', 'unsupported note key type')
  if (raw.length !== 33) throw new CountersignError('ERR_INVALID_INPUT', 'malformed Ed25519 note key')
  const verifier = ed25519NoteVerifier(name, parsePublicKey(concat(ED25519_SPKI_PREFIX, raw.subarray(1))))
  if (toHex(verifier.keyHint) !== hint) throw new CountersignError('ERR_INVALID_INPUT', 'note key ID does not match')
  return verifier
}

/**
 * The checkpoint verifier for a log of the trusted root. A log whose ID is SHA-256 of its SPKI is a Rekor v1 log
 * (hint-only matching); any other log ID is a C2SP key ID (Rekor v2), so the signature must also carry the log's
 * name, the host of its `baseUrl`.
 *
 * @param log - A tlog of the trusted root.
 * @returns The verifier.
 * @throws {CountersignError} as {@link transparencyLogKey}.
 * @example
 * ```ts
 * import { checkpointVerifierForLog, verifyCheckpoint } from 'countersign/rekor'
 * const cp = await verifyCheckpoint(envelope, root.tlogs.map(checkpointVerifierForLog))
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function checkpointVerifierForLog(log: TransparencyLog): NoteVerifier {
  let verifier = logVerifiers.get(log)
  if (verifier === undefined) {
    const { key, verifyOptions } = transparencyLogKey(log)
    if (equalBytes(sha256(key.spki), log.logId)) verifier = rekorV1NoteVerifier(key, verifyOptions)
    else {
      const keyHint = (log.checkpointKeyId ?? log.logId).slice(0, 4)
      verifier = Object.freeze({ name: logName(log.baseUrl), keyHint, key, verifyOptions })
    }
    logVerifiers.set(log, verifier)
  }
  return verifier
}

// Per trusted-root log object, like transparencyLogKey: every bundle of a reused verifier meets the same logs.
const logVerifiers = /* @__PURE__ */ new WeakMap<TransparencyLog, NoteVerifier>()

/** Rekor v2 names its checkpoints after the host of its URL (`https://log2025-1.rekor.sigstore.dev` → host). */
function logName(baseUrl: string): string {
  try {
    return new URL(baseUrl).host
  } catch {
    return baseUrl
  }
}

/**
 * Verify a signed note's signatures. Signature lines from keys not in `verifiers` are ignored (witness
 * cosignatures); a signature line that matches a verifier must verify; at least one must.
 *
 * @param note - The note text or a parsed {@link SignedNote}.
 * @param verifiers - Trusted keys.
 * @param options - Signature primitives (default Web Crypto).
 * @returns The verifiers whose signatures verified.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF (`details.check: 'checkpoint'`) when the note is malformed, a
 *   matching signature is invalid, or no trusted key signed it.
 * @example
 * ```ts
 * import { parseNoteVerifierKey, verifySignedNote } from 'countersign/rekor'
 * await verifySignedNote(note, [parseNoteVerifierKey(vkey)])
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export async function verifySignedNote(
  note: string | SignedNote,
  verifiers: readonly NoteVerifier[],
  options: { readonly signatureBackend?: SignatureBackend | undefined } = {},
): Promise<NoteVerifier[]> {
  const parsed = typeof note === 'string' ? parseSignedNote(note) : note
  const data = utf8(parsed.text)
  const verified = new Set<NoteVerifier>()
  for (const sig of parsed.signatures) {
    for (const v of verifiers) {
      if (!equalBytes(v.keyHint, sig.keyHint)) continue
      if (v.name !== undefined && v.name !== sig.name) continue
      const ok = await verifySignature(
        v.key,
        data,
        sig.signature,
        merged(v.verifyOptions ?? {}, { backend: options.signatureBackend }),
      )
      if (!ok) checkpointError('invalid signature')
      verified.add(v)
    }
  }
  if (verified.size === 0) checkpointError('no signature from a trusted log key')
  return [...verified]
}

/**
 * Options for {@link verifyCheckpoint}.
 *
 * Exported from `countersign/rekor`.
 */
export interface VerifyCheckpointOptions {
  /** Required origin line (Rekor v2: the log's name). */
  readonly origin?: string
  /** Required root hash (the inclusion proof's `rootHash`). */
  readonly rootHash?: Uint8Array
  /** Required tree size (the inclusion proof's `treeSize`). */
  readonly treeSize?: bigint | number | string
  /** Signature primitives (default Web Crypto; `nodeSignatureBackend` from `countersign/node` in Node). */
  readonly signatureBackend?: SignatureBackend | undefined
}

/**
 * Parse and verify a signed checkpoint, then check it against the inclusion proof it accompanies.
 *
 * @param envelope - The signed note (`inclusionProof.checkpoint.envelope`).
 * @param verifiers - Trusted log keys, e.g. `root.tlogs.map(checkpointVerifierForLog)`.
 * @param options - Expected origin, root hash and tree size.
 * @returns The verified checkpoint.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF (`details.check: 'checkpoint'`) on any failure.
 * @example
 * ```ts
 * import { checkpointVerifierForLog, verifyCheckpoint } from 'countersign/rekor'
 * const cp = await verifyCheckpoint(proof.checkpoint.envelope, [checkpointVerifierForLog(log)], {
 *   rootHash: proof.rootHash,
 *   treeSize: proof.treeSize,
 * })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export async function verifyCheckpoint(
  envelope: string,
  verifiers: readonly NoteVerifier[],
  options: VerifyCheckpointOptions = {},
): Promise<Checkpoint> {
  const note = parseSignedNote(envelope)
  // Parse the body before any signature work: a malformed body is rejected without touching keys.
  const checkpoint = parseCheckpoint(note.text)
  await verifySignedNote(note, verifiers, options)
  if (options.origin !== undefined && checkpoint.origin !== options.origin) checkpointError('origin mismatch')
  if (options.rootHash !== undefined && !equalBytes(checkpoint.rootHash, options.rootHash)) {
    checkpointError('root hash does not match the inclusion proof')
  }
  if (options.treeSize !== undefined) {
    const expected = String(options.treeSize)
    if (!/^(0|[1-9][0-9]*)$/.test(expected) || BigInt(expected) !== checkpoint.treeSize) {
      checkpointError('tree size does not match the inclusion proof')
    }
  }
  return checkpoint
}
