/**
 * Certificate Transparency signed certificate timestamps (RFC 6962 §3.2–3.3): parse SCTs (embedded in a
 * certificate's SCT-list extension, or detached), rebuild what the log signed, and verify against the CT logs of a
 * trusted root, selected by log ID and time.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { concat, equalBytes, toBase64 } from '../internal/bytes.js'
import { encodeSequence, encodeTLV, parseDER, readChildren, readOctetString, TAG } from '../internal/der.js'
import { merged } from '../internal/merged.js'
import type { HashAlgorithm } from '../keys/types.js'
import { type SignatureBackend, verifySignature } from '../keys/verify.js'
import { sha2Digest } from '../keys/webcrypto.js'
import { selectTransparencyLogs, type TransparencyLog, transparencyLogKey } from '../trust/trusted-root.js'
import { type Certificate, getExtension } from './certificate.js'

/**
 * SignedCertificateTimestampList extension OID (RFC 6962 §3.3).
 *
 * Exported from `countersign/x509`.
 */
export const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2'
/**
 * Precertificate poison extension OID (RFC 6962 §3.1).
 *
 * Exported from `countersign/x509`.
 */
export const OID_CT_POISON = '1.3.6.1.4.1.11129.2.4.3'

/**
 * One parsed SCT (RFC 6962 §3.2, version v1).
 *
 * Exported from `countersign/x509`.
 */
export interface SignedCertificateTimestamp {
  /** SHA-256 of the log's public key. */
  readonly logId: Uint8Array
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number
  /** CtExtensions (opaque, usually empty), part of the signed data. */
  readonly extensions: Uint8Array
  readonly hashAlgorithm: HashAlgorithm
  readonly signatureAlgorithm: 'ecdsa' | 'rsa'
  /** DER ECDSA or PKCS#1 v1.5 RSA signature. */
  readonly signature: Uint8Array
}

/**
 * What the log signed over: a plain certificate (`x509_entry`) or a precertificate (`precert_entry`: the issuer's
 * key hash and the TBS without SCT list and poison).
 *
 * Exported from `countersign/x509`.
 */
export type SCTEntry =
  | { readonly type: 'x509'; readonly certificate: Uint8Array }
  | { readonly type: 'precert'; readonly issuerKeyHash: Uint8Array; readonly tbs: Uint8Array }

/**
 * The outcome for one SCT.
 *
 * Exported from `countersign/x509`.
 */
export interface SCTResult {
  readonly sct: SignedCertificateTimestamp
  readonly verified: boolean
  /** The CT log whose key verified it. */
  readonly log?: TransparencyLog
  /** Why it did not verify: `unknown-log` (no CT log with that ID valid at the SCT time) or `signature`. */
  readonly reason?: 'unknown-log' | 'signature' | 'unsupported-algorithm'
}

function bad(message: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `SCT is malformed: ${message}`)
}

const HASHES: Readonly<Record<number, HashAlgorithm>> = { 4: 'sha256', 5: 'sha384', 6: 'sha512' }
const SIGNATURES: Readonly<Record<number, 'rsa' | 'ecdsa'>> = { 1: 'rsa', 3: 'ecdsa' }

function readU16(b: Uint8Array, at: number): number {
  if (at + 2 > b.length) bad('truncated')
  return (b[at]! << 8) | b[at + 1]!
}

/** Parse one TLS-encoded SCT starting at `offset`; returns the SCT and the offset after it. */
function readSCT(b: Uint8Array, offset: number, end: number): SignedCertificateTimestamp {
  const v = b.subarray(offset, end)
  if (v.length < 1 + 32 + 8 + 2) bad('truncated')
  if (v[0] !== 0) bad(`unsupported version ${v[0]}`)
  const logId = v.slice(1, 33)
  let ts = 0
  for (let i = 33; i < 41; i++) ts = ts * 256 + v[i]!
  if (!Number.isSafeInteger(ts)) bad('timestamp out of range')
  const extLen = readU16(v, 41)
  let at = 43 + extLen
  if (at + 4 > v.length) bad('truncated')
  const extensions = v.slice(43, at)
  const hashAlgorithm = HASHES[v[at]!]
  const signatureAlgorithm = SIGNATURES[v[at + 1]!]
  if (hashAlgorithm === undefined || signatureAlgorithm === undefined) {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported SCT algorithm ${v[at]}/${v[at + 1]}`)
  }
  const sigLen = readU16(v, at + 2)
  at += 4
  if (at + sigLen !== v.length) bad('signature length does not match')
  return Object.freeze({
    logId,
    timestamp: ts,
    extensions,
    hashAlgorithm,
    signatureAlgorithm,
    signature: v.slice(at, at + sigLen),
  })
}

/**
 * Parse one TLS-serialised `SignedCertificateTimestamp` (a detached SCT, e.g. Fulcio's `signedCertificateTimestamp`
 * or an RFC 6962 `add-chain` response decoded from JSON).
 *
 * @param bytes - The SCT bytes.
 * @returns The SCT.
 * @throws {CountersignError} ERR_INVALID_INPUT when malformed; ERR_UNSUPPORTED_ALGORITHM for unknown algorithms.
 * @example
 * ```ts
 * import { parseSCT } from 'countersign/x509'
 * const sct = parseSCT(detachedSctBytes)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function parseSCT(bytes: Uint8Array): SignedCertificateTimestamp {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('SCT must be a Uint8Array')
  return readSCT(bytes, 0, bytes.length)
}

/**
 * Parse a TLS `SignedCertificateTimestampList` (`uint16 length, (uint16 length, SCT)*`).
 *
 * @param bytes - The list bytes (the contents of the extension's inner OCTET STRING).
 * @returns The SCTs in list order.
 * @throws {CountersignError} ERR_INVALID_INPUT when malformed.
 * @example
 * ```ts
 * import { parseSCTList } from 'countersign/x509'
 * const scts = parseSCTList(listBytes)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function parseSCTList(bytes: Uint8Array): SignedCertificateTimestamp[] {
  const total = readU16(bytes, 0)
  if (total + 2 !== bytes.length) bad('list length does not match')
  const out: SignedCertificateTimestamp[] = []
  let at = 2
  while (at < bytes.length) {
    const len = readU16(bytes, at)
    at += 2
    if (len === 0 || at + len > bytes.length) bad('entry length out of range')
    out.push(readSCT(bytes, at, at + len))
    at += len
  }
  if (out.length === 0) bad('empty list')
  return out
}

/**
 * The SCTs embedded in a certificate (extension 1.3.6.1.4.1.11129.2.4.2), or an empty list.
 *
 * @param cert - A parsed certificate.
 * @returns Its embedded SCTs.
 * @throws {CountersignError} ERR_INVALID_INPUT when the extension is malformed.
 * @example
 * ```ts
 * import { embeddedSCTs } from 'countersign/x509'
 * console.log(embeddedSCTs(leaf).length)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function embeddedSCTs(cert: Certificate): SignedCertificateTimestamp[] {
  const ext = getExtension(cert, OID_SCT_LIST)
  if (ext === undefined) return []
  // extnValue holds a DER OCTET STRING whose contents are the TLS list.
  return parseSCTList(readOctetString(parseDER(ext.value, { what: 'SCT list extension' }), 'SCT list'))
}

/**
 * The TBSCertificate with the given extensions removed (the rest kept in order and byte-for-byte), re-encoded.
 * This is the precertificate TBS a CT log signed (RFC 6962 §3.2).
 */
function tbsWithout(cert: Certificate, oids: readonly string[]): Uint8Array {
  const fields = readChildren(parseDER(cert.tbs))
  const last = fields[fields.length - 1]
  if (last?.tag !== 0xa3) return cert.tbs
  const kept = cert.extensions.filter((e) => !oids.includes(e.oid)).map((e) => e.raw)
  const head = fields.slice(0, -1).map((f) => f.raw)
  const tail = kept.length === 0 ? [] : [encodeTLV(0xa3, encodeSequence(...kept))]
  return encodeTLV(TAG.SEQUENCE, ...head, ...tail)
}

const keyHashCache = new WeakMap<Certificate, Promise<Uint8Array>>()
const precertCache = new WeakMap<Certificate, WeakMap<Certificate, Promise<SCTEntry>>>()

/**
 * The `precert_entry` a CT log signed for `cert` (cached per certificate pair): its TBS without the SCT list and
 * poison extensions, and SHA-256 of the issuer's SubjectPublicKeyInfo. `issuer` is the certificate that signed the
 * final certificate (also when a dedicated precertificate signing CA signed the precertificate).
 *
 * @param cert - The certificate with embedded SCTs, or a precertificate.
 * @param issuer - Its issuer.
 * @returns The entry to verify SCTs against.
 * @example
 * ```ts
 * import { precertificateEntry, verifySCT } from 'countersign/x509'
 * const entry = await precertificateEntry(leaf, intermediate)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function precertificateEntry(cert: Certificate, issuer: Certificate): Promise<SCTEntry> {
  let perIssuer = precertCache.get(cert)
  if (!perIssuer) {
    perIssuer = new WeakMap()
    precertCache.set(cert, perIssuer)
  }
  let entry = perIssuer.get(issuer)
  if (!entry) {
    let hash = keyHashCache.get(issuer)
    if (!hash) {
      hash = sha2Digest('sha256', issuer.spki)
      keyHashCache.set(issuer, hash)
    }
    const tbs = tbsWithout(cert, [OID_SCT_LIST, OID_CT_POISON])
    entry = hash.then((issuerKeyHash) => Object.freeze({ type: 'precert' as const, issuerKeyHash, tbs }))
    perIssuer.set(issuer, entry)
  }
  return entry
}

function uint24(n: number): Uint8Array {
  if (n >= 1 << 24) bad('entry too large')
  return Uint8Array.of((n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff)
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8)
  let x = n
  for (let i = 7; i >= 0; i--) {
    out[i] = x % 256
    x = Math.floor(x / 256)
  }
  return out
}

/** The `digitally-signed` struct of RFC 6962 §3.2 for one SCT and entry. */
function signedData(sct: SignedCertificateTimestamp, entry: SCTEntry): Uint8Array {
  const body =
    entry.type === 'x509'
      ? [Uint8Array.of(0, 0), uint24(entry.certificate.length), entry.certificate]
      : [Uint8Array.of(0, 1), entry.issuerKeyHash, uint24(entry.tbs.length), entry.tbs]
  if (sct.extensions.length > 0xffff) bad('extensions too long')
  return concat(
    Uint8Array.of(0, 0), // sct_version v1, signature_type certificate_timestamp
    u64(sct.timestamp),
    ...body,
    Uint8Array.of(sct.extensions.length >> 8, sct.extensions.length & 0xff),
    sct.extensions,
  )
}

/**
 * Verify one SCT against the CT logs of a trusted root: the log is chosen by log ID among those whose key is valid at
 * the SCT's timestamp, and its key must fit the SCT's signature algorithm.
 *
 * @param sct - A parsed SCT.
 * @param entry - What was logged ({@link precertificateEntry} for embedded SCTs, `{ type: 'x509', certificate }`
 *   for a detached SCT over a final certificate).
 * @param ctlogs - `trustedRoot.ctlogs`.
 * @param options - Signature primitives (default Web Crypto).
 * @returns The result; never throws for a bad signature or unknown log.
 * @example
 * ```ts
 * import { verifySCT } from 'countersign/x509'
 * const { verified } = await verifySCT(sct, { type: 'x509', certificate: cert.raw }, root.ctlogs)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export async function verifySCT(
  sct: SignedCertificateTimestamp,
  entry: SCTEntry,
  ctlogs: readonly TransparencyLog[],
  options: { readonly signatureBackend?: SignatureBackend | undefined } = {},
): Promise<SCTResult> {
  const logs = selectTransparencyLogs(ctlogs, sct.logId, new Date(sct.timestamp))
  if (logs.length === 0) return Object.freeze({ sct, verified: false, reason: 'unknown-log' as const })
  const data = signedData(sct, entry)
  let reason: SCTResult['reason'] = 'signature'
  for (const log of logs) {
    let logKey: ReturnType<typeof transparencyLogKey>
    try {
      logKey = transparencyLogKey(log)
    } catch {
      // An unusable key in the root only disqualifies that log.
      reason = 'unsupported-algorithm'
      continue
    }
    const family = logKey.key.algorithm === 'rsa' ? 'rsa' : logKey.key.algorithm.startsWith('ecdsa') ? 'ecdsa' : ''
    if (family !== sct.signatureAlgorithm) {
      reason = 'unsupported-algorithm'
      continue
    }
    const verifyOptions =
      family === 'rsa' ? { hash: sct.hashAlgorithm, rsaPadding: 'pkcs1v15' as const } : { hash: sct.hashAlgorithm }
    const backend = options.signatureBackend
    if (await verifySignature(logKey.key, data, sct.signature, merged(verifyOptions, { backend }))) {
      return Object.freeze({ sct, verified: true, log })
    }
    reason = 'signature'
  }
  return Object.freeze({ sct, verified: false, reason })
}

/**
 * Options for {@link verifyEmbeddedSCTs}.
 *
 * Exported from `countersign/x509`.
 */
export interface VerifyEmbeddedSCTsOptions {
  /** Minimum number of SCTs from distinct CT logs that must verify. Default 1; 0 disables the check. */
  readonly threshold?: number
  /** Signature primitives (default Web Crypto; `nodeSignatureBackend` from `countersign/node` in Node). */
  readonly signatureBackend?: SignatureBackend | undefined
}

/**
 * Verify the SCTs embedded in a leaf certificate and require at least `threshold` of them, from distinct CT logs,
 * to verify.
 *
 * @param leaf - The leaf certificate.
 * @param issuer - The certificate that issued it (first certificate above the leaf in the verified chain).
 * @param ctlogs - `trustedRoot.ctlogs`.
 * @param options - Threshold.
 * @returns Every SCT's result.
 * @throws {CountersignError} ERR_CERT_CHAIN_INVALID with `details.check` = `sct` (and `details.verified`,
 *   `details.threshold`, `details.results`) when too few verify; ERR_INVALID_INPUT for a malformed SCT list.
 * @example
 * ```ts
 * import { verifyEmbeddedSCTs } from 'countersign/x509'
 * await verifyEmbeddedSCTs(leaf, chain.path[1], root.ctlogs, { threshold: 1 })
 * ```
 *
 * Exported from `countersign/x509`.
 */
export async function verifyEmbeddedSCTs(
  leaf: Certificate,
  issuer: Certificate,
  ctlogs: readonly TransparencyLog[],
  options: VerifyEmbeddedSCTsOptions = {},
): Promise<SCTResult[]> {
  const threshold = options.threshold ?? 1
  if (!Number.isInteger(threshold) || threshold < 0) throw new RangeError('threshold must be a non-negative integer')
  const scts = embeddedSCTs(leaf)
  const results: SCTResult[] = []
  if (scts.length > 0) {
    const entry = await precertificateEntry(leaf, issuer)
    for (const sct of scts) results.push(await verifySCT(sct, entry, ctlogs, options))
  }
  checkSCTThreshold(results, threshold)
  return results
}

/**
 * Throw unless at least `threshold` results verified, counting each CT log once.
 *
 * @param results - SCT results (from {@link verifySCT} or {@link verifyEmbeddedSCTs}).
 * @param threshold - Required count.
 * @returns The number of distinct logs with a verified SCT.
 * @throws {CountersignError} ERR_CERT_CHAIN_INVALID with `details.check` = `sct`.
 * @example
 * ```ts
 * import { checkSCTThreshold, verifySCT } from 'countersign/x509'
 * checkSCTThreshold([await verifySCT(sct, entry, root.ctlogs)], 1)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function checkSCTThreshold(results: readonly SCTResult[], threshold: number): number {
  const logs: Uint8Array[] = []
  for (const r of results) {
    if (r.verified && !logs.some((id) => equalBytes(id, r.sct.logId))) logs.push(r.sct.logId)
  }
  if (logs.length < threshold) {
    const message =
      results.length === 0
        ? 'certificate has no embedded SCT'
        : `${logs.length} of ${results.length} SCTs verified, ${threshold} required`
    throw new CountersignError('ERR_CERT_CHAIN_INVALID', message, {
      details: {
        check: 'sct',
        verified: logs.length,
        threshold,
        results: results.map((r) => ({
          logId: toBase64(r.sct.logId),
          timestamp: r.sct.timestamp,
          verified: r.verified,
          reason: r.reason,
        })),
      },
    })
  }
  return logs.length
}
