/**
 * Sigstore trusted roots (protobuf-specs `dev.sigstore.trustroot.v1.TrustedRoot`, JSON form): parse, and pick the
 * transparency-log or CT-log key for a log ID at a given time.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import { equalBytes, fromBase64, fromUtf8, toBase64 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { KeyAlgorithm, PublicKey, VerifyOptions } from '../keys/types.js'
import {
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  TRUSTED_ROOT_MEDIA_TYPE_V02,
  TRUSTED_ROOT_MEDIA_TYPE_V02_LEGACY,
} from '../oci/media-types.js'

/** Largest trusted root read from bytes or text; real ones are a few kilobytes (docs/formats.md §Input limits). */
const MAX_BYTES = 4 * 1024 * 1024

// The v0.2 message is unchanged from v0.1; the legacy `+json;version=0.2` spelling is accepted like the bundle's.
const MEDIA_TYPES: ReadonlySet<string> = /* @__PURE__ */ new Set([
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  TRUSTED_ROOT_MEDIA_TYPE_V02,
  TRUSTED_ROOT_MEDIA_TYPE_V02_LEGACY,
])

/**
 * A closed time interval (`TimeRange`): both ends inclusive, no `end` = open-ended.
 *
 * Exported from `countersign/trust`.
 */
export interface ValidityPeriod {
  readonly start: Date
  readonly end?: Date
}

/**
 * A transparency log (Rekor) or certificate-transparency log of the trusted root.
 *
 * Exported from `countersign/trust`.
 */
export interface TransparencyLog {
  /** e.g. `https://rekor.sigstore.dev`. */
  readonly baseUrl: string
  /** Merkle tree hash (`SHA2_256` for every Sigstore log). */
  readonly hashAlgorithm: string
  /** The log's public key: DER bytes as given (SPKI, or PKCS#1 for `PKCS1_RSA_PKCS1V5`), scheme and validity. */
  readonly publicKey: {
    readonly rawBytes: Uint8Array
    /** `PublicKeyDetails` enum name, e.g. `PKIX_ECDSA_P256_SHA_256`; empty when the root leaves it unspecified. */
    readonly keyDetails: string
    readonly validFor: ValidityPeriod
  }
  /** Log ID: SHA-256 of the SPKI for Rekor v1 and CT logs, the C2SP signed-note key ID for Rekor v2. */
  readonly logId: Uint8Array
  /** C2SP checkpoint key ID, when the root states it separately. */
  readonly checkpointKeyId?: Uint8Array
  readonly operator?: string
}

/**
 * A certificate authority (Fulcio) or timestamp authority of the trusted root.
 *
 * Exported from `countersign/trust`.
 */
export interface CertificateAuthority {
  readonly subject: { readonly organization?: string; readonly commonName?: string }
  readonly uri: string
  /** DER certificates in the root's order: for CAs the issuing certificate first and the anchor last; for TSAs the
   * signing leaf first. */
  readonly certChain: readonly Uint8Array[]
  readonly validFor: ValidityPeriod
  readonly operator?: string
}

/**
 * A parsed trusted root. Every DER value is kept as given.
 *
 * Exported from `countersign/trust`.
 */
export interface TrustedRoot {
  readonly mediaType: string
  readonly tlogs: readonly TransparencyLog[]
  readonly ctlogs: readonly TransparencyLog[]
  readonly certificateAuthorities: readonly CertificateAuthority[]
  readonly timestampAuthorities: readonly CertificateAuthority[]
}

function invalid(message: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `trusted root: ${message}`)
}

// protobuf JSON Timestamp: RFC 3339, "Z" or an offset, 0–9 fractional digits.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/

function parseTimestamp(value: unknown, where: string, round: 'up' | 'down'): Date {
  if (typeof value !== 'string') invalid(`${where} must be an RFC 3339 string`)
  const m = RFC3339.exec(value)
  if (!m) invalid(`${where} is not an RFC 3339 timestamp`)
  const [, y, mo, d, h, mi, s, frac = '', zone] = m
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) {
    invalid(`${where} is out of range`)
  }
  let ms = Date.UTC(Number(y), month - 1, day, Number(h), Number(mi), Number(s))
  if (new Date(ms).getUTCDate() !== day) invalid(`${where} is not a calendar date`)
  // Date holds milliseconds; round the sub-millisecond part inward so a window never grows (fail closed).
  const nanos = Number(frac.padEnd(9, '0'))
  ms += round === 'up' ? Math.ceil(nanos / 1e6) : Math.floor(nanos / 1e6)
  if (zone !== 'Z') {
    const sign = zone![0] === '-' ? -1 : 1
    const oh = Number(zone!.slice(1, 3))
    const om = Number(zone!.slice(4, 6))
    if (oh > 23 || om > 59) invalid(`${where} has an invalid offset`)
    ms -= sign * (oh * 60 + om) * 60_000
  }
  return new Date(ms)
}

function parseValidity(value: unknown, where: string): ValidityPeriod {
  if (!isJSONObject(value)) invalid(`${where}.validFor is missing`)
  // A missing start must not be read as "since forever" (sigstore-conformance trust-root-tlog-missing-validity-start).
  if (value.start === undefined || value.start === null) invalid(`${where}.validFor.start is missing`)
  const start = parseTimestamp(value.start, `${where}.validFor.start`, 'up')
  if (value.end === undefined || value.end === null) return Object.freeze({ start })
  const end = parseTimestamp(value.end, `${where}.validFor.end`, 'down')
  if (end.getTime() < start.getTime()) invalid(`${where}.validFor ends before it starts`)
  return Object.freeze({ start, end })
}

function parseBytes(value: unknown, where: string): Uint8Array {
  if (typeof value !== 'string' || value.length === 0) invalid(`${where} is missing`)
  try {
    return fromBase64(value)
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `trusted root: ${where} is not base64`, { cause })
  }
}

function optionalString(value: unknown, where: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') invalid(`${where} must be a string`)
  return value
}

function parseLog(value: unknown, where: string): TransparencyLog {
  if (!isJSONObject(value)) invalid(`${where} must be an object`)
  const baseUrl = optionalString(value.baseUrl, `${where}.baseUrl`) ?? ''
  const hashAlgorithm = optionalString(value.hashAlgorithm, `${where}.hashAlgorithm`) ?? ''
  const pk = value.publicKey
  if (!isJSONObject(pk)) invalid(`${where}.publicKey is missing`)
  const rawBytes = parseBytes(pk.rawBytes, `${where}.publicKey.rawBytes`)
  const keyDetails = optionalString(pk.keyDetails, `${where}.publicKey.keyDetails`) ?? ''
  const validFor = parseValidity(pk.validFor, `${where}.publicKey`)
  if (!isJSONObject(value.logId)) invalid(`${where}.logId is missing`)
  const logId = parseBytes(value.logId.keyId, `${where}.logId.keyId`)
  const log: {
    -readonly [K in keyof TransparencyLog]: TransparencyLog[K]
  } = {
    baseUrl,
    hashAlgorithm,
    publicKey: Object.freeze({ rawBytes, keyDetails, validFor }),
    logId,
  }
  if (value.checkpointKeyId !== undefined && value.checkpointKeyId !== null) {
    if (!isJSONObject(value.checkpointKeyId)) invalid(`${where}.checkpointKeyId must be an object`)
    log.checkpointKeyId = parseBytes(value.checkpointKeyId.keyId, `${where}.checkpointKeyId.keyId`)
  }
  const operator = optionalString(value.operator, `${where}.operator`)
  if (operator !== undefined) log.operator = operator
  return Object.freeze(log)
}

function parseAuthority(value: unknown, where: string): CertificateAuthority {
  if (!isJSONObject(value)) invalid(`${where} must be an object`)
  const subjectIn = value.subject
  const subject: { organization?: string; commonName?: string } = {}
  if (subjectIn !== undefined && subjectIn !== null) {
    if (!isJSONObject(subjectIn)) invalid(`${where}.subject must be an object`)
    const organization = optionalString(subjectIn.organization, `${where}.subject.organization`)
    const commonName = optionalString(subjectIn.commonName, `${where}.subject.commonName`)
    if (organization !== undefined) subject.organization = organization
    if (commonName !== undefined) subject.commonName = commonName
  }
  const uri = optionalString(value.uri, `${where}.uri`) ?? ''
  const chain = value.certChain
  if (!isJSONObject(chain) || !Array.isArray(chain.certificates) || chain.certificates.length === 0) {
    invalid(`${where}.certChain.certificates is missing or empty`)
  }
  const certChain = chain.certificates.map((c, i) => {
    if (!isJSONObject(c)) invalid(`${where}.certChain.certificates[${i}] must be an object`)
    return parseBytes(c.rawBytes, `${where}.certChain.certificates[${i}].rawBytes`)
  })
  const validFor = parseValidity(value.validFor, where)
  const ca: { -readonly [K in keyof CertificateAuthority]: CertificateAuthority[K] } = {
    subject: Object.freeze(subject),
    uri,
    certChain: Object.freeze(certChain),
    validFor,
  }
  const operator = optionalString(value.operator, `${where}.operator`)
  if (operator !== undefined) ca.operator = operator
  return Object.freeze(ca)
}

function parseList<T>(value: unknown, name: string, parse: (v: unknown, where: string) => T): readonly T[] {
  if (value === undefined || value === null) return Object.freeze([])
  if (!Array.isArray(value)) invalid(`${name} must be an array`)
  return Object.freeze(value.map((v, i) => parse(v, `${name}[${i}]`)))
}

/**
 * Parse a Sigstore `trusted_root.json`. Every log, CT log, CA and TSA must carry a `validFor.start` (a missing start
 * rejects the whole root instead of being read as "valid forever"); `validFor.end` is optional. Keys and certificates
 * are kept as DER and parsed only when used, so a root with one unusable key still serves the others.
 *
 * @param input - JSON bytes or text, or an already parsed object.
 * @returns The trusted root (frozen).
 * @throws {CountersignError} ERR_INVALID_INPUT for malformed JSON, an unknown media type or a malformed entry.
 * @example
 * ```ts
 * import { parseTrustedRoot } from 'countersign/trust'
 * const root = parseTrustedRoot(await (await fetch(url)).bytes())
 * console.log(root.tlogs.map((l) => l.baseUrl))
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function parseTrustedRoot(input: Uint8Array | string | unknown): TrustedRoot {
  let value: unknown = input
  const limits = { code: 'ERR_INVALID_INPUT', what: 'trusted root', maxDepth: MAX_JSON_DEPTH } as const
  if (input instanceof Uint8Array || typeof input === 'string')
    assertJSONText(input, { ...limits, maxBytes: MAX_BYTES })
  if (input instanceof Uint8Array) value = fromUtf8(input, 'trusted root')
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', 'trusted root is not valid JSON', { cause })
    }
  }
  assertJSONShape(value, limits)
  if (!isJSONObject(value)) invalid('must be a JSON object')
  const mediaType = value.mediaType
  if (typeof mediaType !== 'string' || !MEDIA_TYPES.has(mediaType)) {
    invalid(`unsupported media type ${quoteClipped(mediaType ?? null)}`)
  }
  return Object.freeze({
    mediaType,
    tlogs: parseList(value.tlogs, 'tlogs', parseLog),
    ctlogs: parseList(value.ctlogs, 'ctlogs', parseLog),
    certificateAuthorities: parseList(value.certificateAuthorities, 'certificateAuthorities', parseAuthority),
    timestampAuthorities: parseList(value.timestampAuthorities, 'timestampAuthorities', parseAuthority),
  })
}

/**
 * Whether `time` lies in `validity`; both ends are inclusive (protobuf-specs `TimeRange` is a closed interval).
 *
 * @param validity - A `validFor` period.
 * @param time - The time to test.
 * @returns `true` when `start ≤ time ≤ end` (or `start ≤ time` without an end).
 * @example
 * ```ts
 * import { isValidAt } from 'countersign/trust'
 * isValidAt(log.publicKey.validFor, new Date(integratedTime * 1000))
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function isValidAt(validity: ValidityPeriod, time: Date): boolean {
  const t = time.getTime()
  if (Number.isNaN(t)) return false
  if (t < validity.start.getTime()) return false
  return validity.end === undefined || t <= validity.end.getTime()
}

/**
 * The logs whose `logId` equals `logId` and, when `time` is given, whose key is valid at `time`. Use it for Rekor
 * entries (`tlogs`, by the entry's `logId`) and SCTs (`ctlogs`, by the SCT's log ID).
 *
 * @param logs - `root.tlogs` or `root.ctlogs`.
 * @param logId - The log ID to look for.
 * @param time - Signed time to check the key's validity at (integrated time, SCT time); omit to skip the check.
 * @returns Matching logs in root order (usually zero or one).
 * @example
 * ```ts
 * import { selectTransparencyLogs } from 'countersign/trust'
 * const [log] = selectTransparencyLogs(root.tlogs, logId, new Date(integratedTime * 1000))
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function selectTransparencyLogs(
  logs: readonly TransparencyLog[],
  logId: Uint8Array,
  time?: Date,
): TransparencyLog[] {
  if (!(logId instanceof Uint8Array)) throw new TypeError('logId must be a Uint8Array')
  return logs.filter(
    (log) => equalBytes(log.logId, logId) && (time === undefined || isValidAt(log.publicKey.validFor, time)),
  )
}

/**
 * The CAs (or TSAs) of a list whose `validFor` covers `time`.
 *
 * @param authorities - `root.certificateAuthorities` or `root.timestampAuthorities`.
 * @param time - The signed time.
 * @returns Authorities valid at `time`, in root order.
 * @example
 * ```ts
 * import { selectCertificateAuthorities } from 'countersign/trust'
 * const cas = selectCertificateAuthorities(root.certificateAuthorities, signedTime)
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function selectCertificateAuthorities(
  authorities: readonly CertificateAuthority[],
  time: Date,
): CertificateAuthority[] {
  return authorities.filter((ca) => isValidAt(ca.validFor, time))
}

/**
 * A log key ready for {@link countersign/keys!verifySignature | verifySignature}: the parsed key and the options its
 * `keyDetails` imply.
 *
 * Exported from `countersign/trust`.
 */
export interface LogKey {
  readonly key: PublicKey
  readonly verifyOptions: VerifyOptions
}

// PublicKeyDetails (protobuf-specs sigstore_common.proto) → expected key family and verification scheme.
const KEY_DETAILS: Readonly<Record<string, { algorithm: KeyAlgorithm; options: VerifyOptions; pkcs1?: boolean }>> =
  /* @__PURE__ */ Object.freeze({
    PKIX_ECDSA_P256_SHA_256: { algorithm: 'ecdsa-p256', options: { hash: 'sha256' } },
    PKIX_ECDSA_P384_SHA_384: { algorithm: 'ecdsa-p384', options: { hash: 'sha384' } },
    PKIX_ECDSA_P521_SHA_512: { algorithm: 'ecdsa-p521', options: { hash: 'sha512' } },
    PKIX_ED25519: { algorithm: 'ed25519', options: {} },
    PKIX_ED25519_PH: { algorithm: 'ed25519', options: { ed25519ph: true } },
    PKIX_RSA_PKCS1V15_2048_SHA256: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pkcs1v15' } },
    PKIX_RSA_PKCS1V15_3072_SHA256: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pkcs1v15' } },
    PKIX_RSA_PKCS1V15_4096_SHA256: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pkcs1v15' } },
    PKIX_RSA_PSS_2048_SHA256: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pss' } },
    PKIX_RSA_PSS_3072_SHA256: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pss' } },
    PKIX_RSA_PSS_4096_SHA256: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pss' } },
    // Deprecated values still found in older roots (the staging CT log uses PKCS1_RSA_PKCS1V5 with a PKCS#1 key).
    PKIX_RSA_PKCS1V5: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pkcs1v15' } },
    PKCS1_RSA_PKCS1V5: { algorithm: 'rsa', options: { hash: 'sha256', rsaPadding: 'pkcs1v15' }, pkcs1: true },
  })

const DEFAULT_OPTIONS: Readonly<Record<KeyAlgorithm, VerifyOptions>> = /* @__PURE__ */ Object.freeze({
  'ecdsa-p256': { hash: 'sha256' },
  'ecdsa-p384': { hash: 'sha384' },
  'ecdsa-p521': { hash: 'sha512' },
  ed25519: {},
  rsa: { hash: 'sha256', rsaPadding: 'pkcs1v15' },
})

const keyCache = /* @__PURE__ */ new WeakMap<TransparencyLog, LogKey>()

/**
 * Parse a log's public key and derive how to verify with it from `keyDetails` (cached per log object). A key whose
 * type contradicts its `keyDetails` is refused.
 *
 * @param log - A log of a parsed trusted root.
 * @returns The key and its verification options.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM for an unknown `keyDetails`; ERR_KEY_INVALID (or
 *   ERR_INVALID_INPUT) for a key that does not parse or does not match `keyDetails`.
 * @example
 * ```ts
 * import { transparencyLogKey } from 'countersign/trust'
 * import { verifySignature } from 'countersign/keys'
 * const { key, verifyOptions } = transparencyLogKey(log)
 * await verifySignature(key, data, signature, verifyOptions)
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function transparencyLogKey(log: TransparencyLog): LogKey {
  const cached = keyCache.get(log)
  if (cached) return cached
  const { rawBytes, keyDetails } = log.publicKey
  let result: LogKey
  if (keyDetails === '' || keyDetails === 'PUBLIC_KEY_DETAILS_UNSPECIFIED') {
    const key = parsePublicKey(rawBytes)
    result = Object.freeze({ key, verifyOptions: DEFAULT_OPTIONS[key.algorithm] })
  } else {
    if (!Object.hasOwn(KEY_DETAILS, keyDetails)) {
      throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported log key type ${keyDetails}`)
    }
    const details = KEY_DETAILS[keyDetails]!
    const key = details.pkcs1
      ? parsePublicKey(`-----BEGIN RSA PUBLIC KEY-----\n${toBase64(rawBytes)}\n-----END RSA PUBLIC KEY-----\n`)
      : parsePublicKey(rawBytes)
    if (key.algorithm !== details.algorithm) {
      throw new CountersignError('ERR_KEY_INVALID', `log key is ${key.algorithm}, but keyDetails says ${keyDetails}`)
    }
    result = Object.freeze({ key, verifyOptions: details.options })
  }
  keyCache.set(log, result)
  return result
}
