/**
 * Build a Sigstore `trusted_root.json` from its parts, as cosign v3's `trusted-root create` does (sigstore/cosign
 * `cmd/cosign/cli/trustedroot/trustedroot.go`, which hands the parts to sigstore-go `pkg/root/trusted_root_create.go`
 * for the protobuf JSON). The result is a plain object in protojson field order, ready for `JSON.stringify`, and
 * reads back with {@link parseTrustedRoot}.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { concat, toBase64, toHex, utf8 } from '../internal/bytes.js'
import { sha256 } from '../internal/sha2.js'
import type { PublicKey } from '../keys/types.js'
import { TRUSTED_ROOT_MEDIA_TYPE_V01 } from '../oci/media-types.js'

/**
 * The facts of a certificate the builder uses: its DER, `notBefore`, subject attributes and CA flag. A parsed
 * `Certificate` of `countersign/x509` (`parseCertificate`, `parseCertificatePEM`) has exactly these fields.
 *
 * Exported from `countersign/trust`.
 */
export interface TrustedRootCertificate {
  /** The whole DER certificate, written as is. */
  readonly raw: Uint8Array
  readonly notBefore: Date
  /** Subject attributes in certificate order (`2.5.4.10` organization, `2.5.4.3` common name). */
  readonly subject: { readonly attributes: readonly { readonly oid: string; readonly value: string }[] }
  readonly basicConstraints?: { readonly ca: boolean }
}

/**
 * A certificate authority (Fulcio) or timestamp authority to put in the root.
 *
 * Exported from `countersign/trust`.
 */
export interface TrustedRootAuthorityInput {
  /** The service URL (`uri`); omitted from the JSON when empty. */
  readonly uri: string
  /**
   * The chain as cosign reads it from a PEM file, kept in this order. CA: intermediates first, the root last. TSA:
   * the signing (leaf) certificate first, then intermediates, the root last; at least two certificates.
   */
  readonly certChain: readonly TrustedRootCertificate[]
  /** Default: the root's `notBefore` for a CA, the leaf's for a TSA (cosign's defaults). */
  readonly start?: Date
  readonly end?: Date
}

/**
 * A transparency log (Rekor) or CT log to put in the root.
 *
 * Exported from `countersign/trust`.
 */
export interface TrustedRootLogInput {
  /** The log URL (`baseUrl`); omitted from the JSON when empty. */
  readonly baseUrl: string
  /** The log key; `keyDetails` is derived from it (ECDSA P-256/384/521, Ed25519, RSA PKCS#1 v1.5 2048/3072/4096). */
  readonly publicKey: PublicKey
  /** When the key starts to be trusted (required, as in cosign's spec). */
  readonly start: Date
  readonly end?: Date
  /**
   * The checkpoint origin of a Rekor v2 or static-CT log: the log ID becomes its C2SP signed-note key ID (see
   * {@link transparencyLogId}). Without it the log ID is the SHA-256 of the key's SPKI (Rekor v1, RFC 6962 CT).
   */
  readonly origin?: string
  /** An explicit log ID, kept as is (an entry copied from another root); excludes `origin`. */
  readonly logId?: Uint8Array
  /** Merkle tree hash; default `SHA2_256` (what cosign writes for every log it adds). */
  readonly hashAlgorithm?: 'SHA2_256' | 'SHA2_384' | 'SHA2_512'
}

/**
 * The parts of a trusted root to build; any may be absent or empty.
 *
 * Exported from `countersign/trust`.
 */
export interface CreateTrustedRootInput {
  /** Rekor logs. A later log with the same log ID replaces an earlier one. */
  readonly tlogs?: readonly TrustedRootLogInput[]
  readonly certificateAuthorities?: readonly TrustedRootAuthorityInput[]
  /** CT logs. A later log with the same log ID replaces an earlier one. */
  readonly ctlogs?: readonly TrustedRootLogInput[]
  readonly timestampAuthorities?: readonly TrustedRootAuthorityInput[]
}

/**
 * A protobuf-JSON `TimeRange`: RFC 3339 UTC, fractional seconds only when not zero.
 *
 * Exported from `countersign/trust`.
 */
export interface TimeRangeJSON {
  readonly start: string
  readonly end?: string
}

/**
 * A protobuf-JSON `TransparencyLogInstance` as the builder writes it.
 *
 * Exported from `countersign/trust`.
 */
export interface TransparencyLogJSON {
  readonly baseUrl?: string
  readonly hashAlgorithm: string
  readonly publicKey: { readonly rawBytes: string; readonly keyDetails: string; readonly validFor: TimeRangeJSON }
  readonly logId: { readonly keyId: string }
}

/**
 * A protobuf-JSON `CertificateAuthority` as the builder writes it.
 *
 * Exported from `countersign/trust`.
 */
export interface CertificateAuthorityJSON {
  readonly subject: { readonly organization?: string; readonly commonName?: string }
  readonly uri?: string
  readonly certChain: { readonly certificates: readonly { readonly rawBytes: string }[] }
  readonly validFor: TimeRangeJSON
}

/**
 * A protobuf-JSON `TrustedRoot` as the builder writes it: fields in proto order, empty lists omitted.
 *
 * Exported from `countersign/trust`.
 */
export interface TrustedRootJSON {
  readonly mediaType: string
  readonly tlogs?: readonly TransparencyLogJSON[]
  readonly certificateAuthorities?: readonly CertificateAuthorityJSON[]
  readonly ctlogs?: readonly TransparencyLogJSON[]
  readonly timestampAuthorities?: readonly CertificateAuthorityJSON[]
}

/** Carries the entry it is about, so the CLI can name the flag that gave it. */
function invalid(list: string, index: number, reason: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `trusted root ${list}[${index}]: ${reason}`, {
    details: { list, index, reason },
  })
}

const OID_COMMON_NAME = '2.5.4.3'
const OID_ORGANIZATION = '2.5.4.10'
// protobuf Timestamp's range (0001-01-01T00:00:00Z … 9999-12-31T23:59:59.999999999Z); protojson refuses others.
// Date.UTC maps years 0–99 to 1900–1999, hence setUTCFullYear.
const TIMESTAMP_MIN = /* @__PURE__ */ (() => {
  const d = new Date(0)
  d.setUTCFullYear(1, 0, 1)
  return d.getTime()
})()
const TIMESTAMP_MAX = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/** protojson's Timestamp text for a millisecond time: `Z`, and `.sss` only when the milliseconds are not zero. */
function formatTimestamp(t: Date): string {
  return t.toISOString().replace('.000Z', 'Z')
}

function timeRange(list: string, index: number, start: Date, end: Date | undefined): TimeRangeJSON {
  const check = (t: Date, name: string) => {
    if (!(t instanceof Date) || Number.isNaN(t.getTime())) invalid(list, index, `${name} is not a valid time`)
    if (t.getTime() < TIMESTAMP_MIN || t.getTime() > TIMESTAMP_MAX) {
      invalid(list, index, `${name} is outside 0001-01-01 … 9999-12-31`)
    }
  }
  check(start, 'start time')
  if (end === undefined) return { start: formatTimestamp(start) }
  check(end, 'end time')
  // parseTrustedRoot (and every verifier) refuses a window that closes before it opens.
  if (end.getTime() < start.getTime()) invalid(list, index, 'end time is before start time')
  return { start: formatTimestamp(start), end: formatTimestamp(end) }
}

/** sigstore-go `publicKeyToProtobufPublicKey`: the `PublicKeyDetails` name for a key, or undefined. */
function keyDetailsOf(key: PublicKey): string | undefined {
  switch (key.algorithm) {
    case 'ecdsa-p256':
      return 'PKIX_ECDSA_P256_SHA_256'
    case 'ecdsa-p384':
      return 'PKIX_ECDSA_P384_SHA_384'
    case 'ecdsa-p521':
      return 'PKIX_ECDSA_P521_SHA_512'
    case 'ed25519':
      return 'PKIX_ED25519'
    case 'rsa': {
      // Go's `Size() * 8`: the modulus length in whole bytes.
      const bits = Math.ceil((key.rsaBits ?? 0) / 8) * 8
      return bits === 2048 || bits === 3072 || bits === 4096 ? `PKIX_RSA_PKCS1V15_${bits}_SHA256` : undefined
    }
    default:
      return undefined
  }
}

// C2SP signed-note signature types (rekor-tiles pkg/note/note.go): Ed25519, and "undefined" + an ID for RSA.
const ALG_ED25519 = /* @__PURE__ */ Uint8Array.of(0x01)
const ALG_RSA = /* @__PURE__ */ concat(Uint8Array.of(0xff), utf8('PKIX-RSA-PKCS#1v1.5'))
const NEWLINE = /* @__PURE__ */ Uint8Array.of(0x0a)

/** A C2SP note name (rekor-tiles `isValidName`): not empty, no white space, no `+`, well-formed Unicode. */
function isValidOrigin(origin: string): boolean {
  return (
    origin !== '' &&
    !/[\s\u0085+]/u.test(origin) &&
    !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(origin)
  )
}

/**
 * The log ID a trusted root gives a log key. Without `origin` it is cosign's `GetTransparencyLogID`: SHA-256 of the
 * DER SubjectPublicKeyInfo (Rekor v1, RFC 6962 CT logs). With the checkpoint `origin` of a Rekor v2 or static-CT log
 * it is the full 32-byte C2SP signed-note key hash (rekor-tiles `note.KeyHash`): Ed25519
 * `SHA-256(origin ‖ "\n" ‖ 0x01 ‖ raw key)`, RSA `SHA-256(origin ‖ "\n" ‖ 0xff ‖ "PKIX-RSA-PKCS#1v1.5" ‖ SPKI)`, and
 * ECDSA the SPKI hash again (the origin is not part of it).
 *
 * @param key - The log's public key.
 * @param origin - The checkpoint origin (e.g. `log2025-1.rekor.sigstore.dev`), for logs that sign C2SP checkpoints.
 * @returns The 32-byte log ID (`logId.keyId`).
 * @throws {CountersignError} ERR_INVALID_INPUT for an origin that is not a C2SP note name (empty, white space, `+`).
 * @example
 * ```ts
 * import { parsePublicKey } from 'countersign/keys'
 * import { transparencyLogId } from 'countersign/trust'
 * const id = transparencyLogId(parsePublicKey(pem), 'log2025-1.rekor.sigstore.dev')
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function transparencyLogId(key: PublicKey, origin?: string): Uint8Array {
  if (origin === undefined) return sha256(key.spki)
  // Checked for ECDSA keys too, whose ID ignores it: a bad origin is a mistake either way.
  if (!isValidOrigin(origin)) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `invalid checkpoint origin ${JSON.stringify(origin)}: it must be non-empty, without white space or "+"`,
    )
  }
  if (key.algorithm.startsWith('ecdsa-')) return sha256(key.spki)
  if (key.algorithm === 'ed25519') {
    // An Ed25519 SPKI ends with the 32-byte raw key.
    return sha256(concat(utf8(origin), NEWLINE, ALG_ED25519, key.spki.subarray(key.spki.length - 32)))
  }
  return sha256(concat(utf8(origin), NEWLINE, ALG_RSA, key.spki))
}

const HASH_ALGORITHMS: ReadonlySet<string> = /* @__PURE__ */ new Set(['SHA2_256', 'SHA2_384', 'SHA2_512'])

function buildLog(log: TrustedRootLogInput, list: string, index: number): { id: string; json: TransparencyLogJSON } {
  const key = log.publicKey
  if (!key || !(key.spki instanceof Uint8Array)) invalid(list, index, 'public key is missing')
  const keyDetails = keyDetailsOf(key)
  if (keyDetails === undefined) {
    invalid(list, index, `unsupported log key ${key.algorithm}${key.rsaBits ? ` (${key.rsaBits} bits)` : ''}`)
  }
  const hashAlgorithm = log.hashAlgorithm ?? 'SHA2_256'
  if (!HASH_ALGORITHMS.has(hashAlgorithm)) invalid(list, index, `unsupported hash algorithm ${hashAlgorithm}`)
  if (log.logId !== undefined && log.origin !== undefined) invalid(list, index, 'give either a log ID or an origin')
  let logId: Uint8Array
  if (log.logId !== undefined) {
    if (!(log.logId instanceof Uint8Array) || log.logId.length === 0) invalid(list, index, 'log ID is empty')
    logId = log.logId
  } else {
    try {
      logId = transparencyLogId(key, log.origin)
    } catch (e) {
      invalid(list, index, (e as Error).message)
    }
  }
  const validFor = timeRange(list, index, log.start, log.end)
  return {
    id: toHex(logId),
    json: {
      ...(log.baseUrl ? { baseUrl: log.baseUrl } : {}),
      hashAlgorithm,
      publicKey: { rawBytes: toBase64(key.spki), keyDetails, validFor },
      logId: { keyId: toBase64(logId) },
    },
  }
}

/** Go's `pkix.Name`: Organization[0] is the first O attribute, CommonName the last CN one. */
function subjectOf(cert: TrustedRootCertificate): CertificateAuthorityJSON['subject'] {
  const attributes = cert.subject?.attributes ?? []
  const organization = attributes.find((a) => a.oid === OID_ORGANIZATION)?.value
  let commonName: string | undefined
  for (const a of attributes) if (a.oid === OID_COMMON_NAME) commonName = a.value
  // proto3 leaves empty strings out of the JSON.
  return { ...(organization ? { organization } : {}), ...(commonName ? { commonName } : {}) }
}

function buildAuthority(
  ca: TrustedRootAuthorityInput,
  list: string,
  index: number,
  tsa: boolean,
): CertificateAuthorityJSON {
  const chain = ca.certChain
  if (!Array.isArray(chain) || chain.length === 0) invalid(list, index, 'certificate chain is empty')
  chain.forEach((c, i) => {
    if (!c || !(c.raw instanceof Uint8Array) || !(c.notBefore instanceof Date)) {
      invalid(list, index, `certificate ${i} is not a parsed certificate`)
    }
  })
  const root = chain[chain.length - 1]!
  if (tsa) {
    // cosign: "first certificate in chain must be a leaf certificate"; with a lone leaf its `certs[1:0]` panics.
    if (chain[0]!.basicConstraints?.ca === true)
      invalid(list, index, 'first certificate in chain must be a leaf certificate')
    if (chain.length < 2) {
      invalid(
        list,
        index,
        'certificate chain must have at least two certificates (the timestamping leaf first, its root last)',
      )
    }
  }
  const start = ca.start ?? (tsa ? chain[0]! : root).notBefore
  return {
    subject: subjectOf(root),
    ...(ca.uri ? { uri: ca.uri } : {}),
    certChain: { certificates: chain.map((c) => ({ rawBytes: toBase64(c.raw) })) },
    validFor: timeRange(list, index, start, ca.end),
  }
}

/** sigstore-go sorts every list by start time; a stable sort keeps equal starts in input order (Go: any order). */
function byStart<T>(items: T[], start: (t: T) => string): T[] {
  return items
    .map((item) => ({ item, t: Date.parse(start(item)) }))
    .sort((a, b) => a.t - b.t)
    .map((x) => x.item)
}

function buildLogs(logs: readonly TrustedRootLogInput[] | undefined, list: string): TransparencyLogJSON[] {
  // Keyed by log ID, as cosign's maps are: a later entry for the same log replaces the earlier one.
  const byId = new Map<string, TransparencyLogJSON>()
  ;(logs ?? []).forEach((log, i) => {
    const { id, json } = buildLog(log, list, i)
    byId.set(id, json)
  })
  return byStart([...byId.values()], (l) => l.publicKey.validFor.start)
}

function buildAuthorities(
  cas: readonly TrustedRootAuthorityInput[] | undefined,
  list: string,
  tsa: boolean,
): CertificateAuthorityJSON[] {
  return byStart(
    (cas ?? []).map((ca, i) => buildAuthority(ca, list, i, tsa)),
    (c) => c.validFor.start,
  )
}

/**
 * Build a trusted root (media type `…trustedroot+json;version=0.1`) from CAs, logs and TSAs, with cosign v3's
 * `trusted-root create` rules: log IDs from the keys (and checkpoint origins), `keyDetails` from the key type,
 * `hashAlgorithm` `SHA2_256`, CA subjects from the root certificate (first O, CN), default start times from the
 * certificates, each list sorted by start time, empty fields and lists left out. Serialise it with `JSON.stringify`.
 *
 * @param input - The parts; certificates as parsed by `countersign/x509`, keys as parsed by `countersign/keys`.
 * @returns The root as protobuf JSON (fields in proto order); {@link parseTrustedRoot} reads it back.
 * @throws {CountersignError} ERR_INVALID_INPUT for an empty chain, a TSA chain without a leaf first or with fewer
 *   than two certificates, an unsupported key, an invalid origin, or an invalid or inverted time window
 *   (`details.list`, `details.index`, `details.reason` name the entry).
 * @example
 * ```ts
 * import { parsePublicKey } from 'countersign/keys'
 * import { createTrustedRoot } from 'countersign/trust'
 * import { parseCertificatePEM } from 'countersign/x509'
 * const root = createTrustedRoot({
 *   certificateAuthorities: [{ uri: 'https://fulcio.example.com', certChain: parseCertificatePEM(chainPem) }],
 *   tlogs: [{ baseUrl: 'https://rekor.example.com', publicKey: parsePublicKey(rekorPem), start: new Date() }],
 * })
 * await writeFile('trusted_root.json', JSON.stringify(root))
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function createTrustedRoot(input: CreateTrustedRootInput = {}): TrustedRootJSON {
  const tlogs = buildLogs(input.tlogs, 'tlogs')
  const certificateAuthorities = buildAuthorities(input.certificateAuthorities, 'certificateAuthorities', false)
  const ctlogs = buildLogs(input.ctlogs, 'ctlogs')
  const timestampAuthorities = buildAuthorities(input.timestampAuthorities, 'timestampAuthorities', true)
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE_V01,
    ...(tlogs.length > 0 ? { tlogs } : {}),
    ...(certificateAuthorities.length > 0 ? { certificateAuthorities } : {}),
    ...(ctlogs.length > 0 ? { ctlogs } : {}),
    ...(timestampAuthorities.length > 0 ? { timestampAuthorities } : {}),
  }
}
