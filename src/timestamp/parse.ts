/**
 * Parse RFC 3161 timestamps: a TimeStampResp (as a TSA returns it) or a bare TimeStampToken (CMS ContentInfo with
 * SignedData over a TSTInfo, as Sigstore bundles store it in `rfc3161Timestamps[].signedTimestamp`). Parsing checks
 * structure only; {@link verifyTimestamp} checks what it means.
 *
 * @module
 */
import { isCountersignError } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import {
  type DERNode,
  expectTag,
  parseDER,
  readChildren,
  readInteger,
  readOctetString,
  readOID,
  readSequence,
  readSmallInteger,
  TAG,
} from '../internal/der.js'
import { fail, OID_SIGNED_DATA, OID_TST_INFO } from './algorithms.js'

/**
 * A CMS attribute: its type OID and the DER encoding of each value.
 *
 * Exported from `countersign/timestamp`.
 */
export interface TimestampAttribute {
  readonly type: string
  readonly values: readonly Uint8Array[]
}

/**
 * The SignerInfo of a timestamp token: who signed it and the signed bytes.
 *
 * Exported from `countersign/timestamp`.
 */
export interface TimestampSigner {
  /** DER Name of the signing certificate's issuer (SignerIdentifier issuerAndSerialNumber). */
  readonly issuer?: Uint8Array
  /** Content bytes of the signing certificate's serial number INTEGER (issuerAndSerialNumber). */
  readonly serialNumber?: Uint8Array
  /** Subject key identifier of the signing certificate (SignerIdentifier subjectKeyIdentifier). */
  readonly subjectKeyIdentifier?: Uint8Array
  /** OID of the digest over the TSTInfo (messageDigest attribute). */
  readonly digestAlgorithm: string
  /** OID of the signature algorithm. */
  readonly signatureAlgorithm: string
  readonly signature: Uint8Array
  /** The signed attributes in encoded order. */
  readonly signedAttributes: readonly TimestampAttribute[]
  /** The signature input: the signed attributes as encoded, retagged as a SET (RFC 5652 §5.4). */
  readonly signedAttributesDER: Uint8Array
}

/**
 * A parsed RFC 3161 timestamp token.
 *
 * Exported from `countersign/timestamp`.
 */
export interface TimestampToken {
  /** PKIStatus when parsed from a TimeStampResp (0 granted, 1 grantedWithMods); absent for a bare token. */
  readonly status?: number
  /** DER of the TimeStampToken (ContentInfo), as found. */
  readonly token: Uint8Array
  /** DER of the TSTInfo (the signed eContent). */
  readonly tstInfo: Uint8Array
  readonly genTime: Date
  readonly messageImprint: {
    /** Hash algorithm OID, e.g. `2.16.840.1.101.3.4.2.1` (SHA-256). */
    readonly hashAlgorithm: string
    readonly hash: Uint8Array
  }
  readonly serialNumber: bigint
  readonly nonce?: bigint
  /** TSA policy OID (Sigstore's TSA uses `1.3.6.1.4.1.57264.2`). */
  readonly policy: string
  /** The TSTInfo `tsa` GeneralName, as text (`CN=…,O=…` for a directory name). */
  readonly tsaName?: string
  readonly accuracy?: { readonly seconds: number; readonly millis: number; readonly micros: number }
  /** DER certificates embedded in the SignedData, in token order; often empty (Sigstore's TSA omits them). */
  readonly certificates: readonly Uint8Array[]
  readonly signer: TimestampSigner
}

/** PKIStatus values a verifier may accept (RFC 3161 §2.4.2). */
const GRANTED = new Set([0, 1])

const CTX = { code: 'ERR_TIMESTAMP_INVALID', what: 'timestamp' } as const

// Context-specific tags used below.
const CTX0 = 0xa0 // [0] constructed
const CTX1 = 0xa1 // [1] constructed
const SKI_SID = 0x80 // SignerIdentifier subjectKeyIdentifier [0] IMPLICIT OCTET STRING
const GENERALIZED_TIME = 0x18
const BOOLEAN = 0x01

/**
 * Check that every constructed element below `node` is definite-length DER. Different encodings of unsigned parts
 * of a token (lengths, wrappers) must not verify alike, so the whole token is held to DER, not just the signed bytes.
 */
function assertDER(node: DERNode, depth = 0): void {
  if (depth > 32) fail('malformed', 'nesting too deep')
  if ((node.tag & 0x20) === 0) return
  for (const child of readChildren(node)) assertDER(child, depth + 1)
}

function algorithmOID(node: DERNode | undefined, name: string): string {
  const [oid, params, ...rest] = readSequence(node, name, CTX)
  if (rest.length > 0 || (params !== undefined && params.tag !== TAG.NULL && params.tag !== TAG.SEQUENCE)) {
    fail('malformed', `${name} is malformed`)
  }
  return readOID(oid, name, CTX)
}

/** DirectoryString / IA5String / PrintableString contents as text ('#' for anything that is not text). */
function stringValue(node: DERNode): string {
  // UTF8String, PrintableString, T61String, IA5String, and the [n] IMPLICIT IA5String of GeneralName.
  if (![0x0c, 0x13, 0x14, 0x16, 0x81, 0x82, 0x86].includes(node.tag)) return '#'
  try {
    return fromUtf8(node.value)
  } catch {
    return '#'
  }
}

const NAME_LABELS: Readonly<Record<string, string>> = Object.freeze({
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
})

/** A Name as `O=…,CN=…` in encoding order (display only; comparisons use the DER). */
function nameToString(name: DERNode): string {
  const parts: string[] = []
  for (const rdn of readSequence(name, 'Name', CTX)) {
    for (const atv of readChildren(expectTag(rdn, TAG.SET, 'RDN', CTX))) {
      const [type, value] = readSequence(atv, 'AttributeTypeAndValue', CTX)
      const oid = readOID(type, 'attribute type', CTX)
      if (value === undefined) fail('malformed', 'attribute value is missing')
      parts.push(`${Object.hasOwn(NAME_LABELS, oid) ? NAME_LABELS[oid] : oid}=${stringValue(value)}`)
    }
  }
  return parts.join(',')
}

function generalNameToString(wrapper: DERNode): string | undefined {
  // tsa [0] EXPLICIT GeneralName
  const [name] = readChildren(wrapper)
  if (name === undefined) fail('malformed', 'TSTInfo tsa is empty')
  if (name.tag === 0xa4) return nameToString(readChildren(name)[0] ?? fail('malformed', 'directoryName is empty'))
  if (name.tag === 0x81 || name.tag === 0x82 || name.tag === 0x86) return stringValue(name)
  return undefined
}

const GENERALIZED = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d*[1-9]))?Z$/

/** DER GeneralizedTime (RFC 3161 §2.4.2: UTC, "Z", fraction without trailing zeros); milliseconds truncated. */
function readGeneralizedTime(node: DERNode | undefined): Date {
  const n = expectTag(node, GENERALIZED_TIME, 'genTime', CTX)
  const m = GENERALIZED.exec(String.fromCharCode(...n.value))
  if (!m) fail('malformed', 'genTime is not a DER GeneralizedTime')
  const [, y, mo, d, h, mi, sec, frac = ''] = m
  const month = Number(mo)
  const day = Number(d)
  if (month < 1 || month > 12 || day < 1 || day > 31 || Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) {
    fail('malformed', 'genTime is out of range')
  }
  const ms = Date.UTC(
    Number(y),
    month - 1,
    day,
    Number(h),
    Number(mi),
    Number(sec),
    Number(frac.slice(0, 3).padEnd(3, '0')),
  )
  if (new Date(ms).getUTCDate() !== day) fail('malformed', 'genTime is not a calendar date')
  return new Date(ms)
}

interface ParsedTSTInfo {
  genTime: Date
  policy: string
  hashAlgorithm: string
  hash: Uint8Array
  serialNumber: bigint
  nonce?: bigint
  tsaName?: string
  accuracy?: { readonly seconds: number; readonly millis: number; readonly micros: number }
}

function parseTSTInfo(der: Uint8Array): ParsedTSTInfo {
  const node = parseDER(der, CTX)
  assertDER(node)
  const fields = readSequence(node, 'TSTInfo', CTX)
  if (readSmallInteger(fields[0], 'TSTInfo version', CTX) !== 1) fail('malformed', 'TSTInfo version must be 1')
  const policy = readOID(fields[1], 'policy', CTX)
  const [imprintAlg, imprintHash, ...imprintRest] = readSequence(fields[2], 'messageImprint', CTX)
  if (imprintRest.length > 0) fail('malformed', 'messageImprint is malformed')
  const out: ParsedTSTInfo = {
    policy,
    hashAlgorithm: algorithmOID(imprintAlg, 'messageImprint hashAlgorithm'),
    hash: readOctetString(imprintHash, 'hashedMessage', CTX),
    serialNumber: readInteger(fields[3], 'serialNumber', CTX),
    genTime: readGeneralizedTime(fields[4]),
  }
  let i = 5
  if (fields[i]?.tag === TAG.SEQUENCE) {
    const acc = readChildren(fields[i]!)
    const accuracy = { seconds: 0, millis: 0, micros: 0 }
    let j = 0
    if (acc[j]?.tag === TAG.INTEGER) accuracy.seconds = readSmallInteger(acc[j++], 'accuracy seconds', CTX)
    // millis [0] and micros [1] are IMPLICIT INTEGERs: read them as INTEGER contents.
    for (const [tag, key] of [
      [0x80, 'millis'],
      [0x81, 'micros'],
    ] as const) {
      if (acc[j]?.tag === tag) accuracy[key] = readSmallInteger({ ...acc[j++]!, tag: TAG.INTEGER }, key, CTX)
    }
    if (j !== acc.length) fail('malformed', 'accuracy is malformed')
    out.accuracy = Object.freeze(accuracy)
    i++
  }
  if (fields[i]?.tag === BOOLEAN) {
    // DEFAULT FALSE: DER omits a false value, so only TRUE (0xff) may appear.
    const v = fields[i]!.value
    if (v.length !== 1 || v[0] !== 0xff) fail('malformed', 'ordering is not a DER TRUE')
    i++
  }
  if (fields[i]?.tag === TAG.INTEGER) out.nonce = readInteger(fields[i++], 'nonce', CTX)
  if (fields[i]?.tag === CTX0) {
    const name = generalNameToString(fields[i++]!)
    if (name !== undefined) out.tsaName = name
  }
  if (fields[i]?.tag === CTX1) i++ // extensions: none is understood, and RFC 3161 defines none as critical here
  if (i !== fields.length) fail('malformed', 'TSTInfo has unexpected fields')
  return out
}

function parseAttributes(node: DERNode): TimestampAttribute[] {
  return readChildren(node).map((attr) => {
    const [type, values, ...rest] = readSequence(attr, 'Attribute', CTX)
    if (rest.length > 0) fail('malformed', 'Attribute is malformed')
    const oid = readOID(type, 'attribute type', CTX)
    const list = readChildren(expectTag(values, TAG.SET, 'attribute values', CTX)).map((v) => v.raw)
    return Object.freeze({ type: oid, values: Object.freeze(list) })
  })
}

function parseSignerInfo(node: DERNode): TimestampSigner {
  const f = readSequence(node, 'SignerInfo', CTX)
  const version = readSmallInteger(f[0], 'SignerInfo version', CTX)
  const sid = f[1]
  const signer: { -readonly [K in keyof TimestampSigner]: TimestampSigner[K] } = {} as TimestampSigner
  // RFC 5652 §5.3: version 1 with issuerAndSerialNumber, 3 with subjectKeyIdentifier.
  if (sid?.tag === TAG.SEQUENCE) {
    if (version !== 1) fail('malformed', `SignerInfo version ${version} does not match its sid`)
    const [issuer, serial, ...rest] = readChildren(sid)
    if (rest.length > 0 || issuer?.tag !== TAG.SEQUENCE) fail('malformed', 'issuerAndSerialNumber is malformed')
    readInteger(serial, 'serialNumber', CTX)
    signer.issuer = issuer.raw
    signer.serialNumber = serial!.value
  } else if (sid?.tag === SKI_SID) {
    if (version !== 3) fail('malformed', `SignerInfo version ${version} does not match its sid`)
    if (sid.value.length === 0) fail('malformed', 'subjectKeyIdentifier is empty')
    signer.subjectKeyIdentifier = sid.value
  } else {
    fail('malformed', 'SignerInfo sid is malformed')
  }
  signer.digestAlgorithm = algorithmOID(f[2], 'digestAlgorithm')
  // signedAttrs are mandatory here: the content type is not id-data (RFC 5652 §5.3).
  const attrs = f[3]
  if (attrs?.tag !== CTX0) fail('malformed', 'SignerInfo has no signed attributes')
  if (attrs.value.length === 0) fail('malformed', 'signed attributes are empty')
  signer.signedAttributes = Object.freeze(parseAttributes(attrs))
  // The signature covers the attributes with the universal SET tag instead of the [0] IMPLICIT one.
  const setEncoded = new Uint8Array(attrs.raw)
  setEncoded[0] = TAG.SET
  signer.signedAttributesDER = setEncoded
  signer.signatureAlgorithm = algorithmOID(f[4], 'signatureAlgorithm')
  signer.signature = readOctetString(f[5], 'signature', CTX)
  if (f.length > 7 || (f.length === 7 && f[6]!.tag !== CTX1)) fail('malformed', 'SignerInfo has unexpected fields')
  return Object.freeze(signer)
}

function parseTokenDER(token: DERNode, status: number | undefined): TimestampToken {
  assertDER(token)
  // ContentInfo ::= SEQUENCE { contentType, [0] EXPLICIT content }
  const [typeNode, wrapper, ...rest] = readSequence(token, 'ContentInfo', CTX)
  if (rest.length > 0 || wrapper?.tag !== CTX0) fail('malformed', 'ContentInfo is malformed')
  const contentType = readOID(typeNode, 'contentType', CTX)
  if (contentType !== OID_SIGNED_DATA) fail('content-type', `ContentInfo type ${contentType} is not signedData`)
  const [signedData, ...extra] = readChildren(wrapper)
  if (extra.length > 0) fail('malformed', 'ContentInfo is malformed')
  const sd = readSequence(signedData, 'SignedData', CTX)
  // RFC 5652 §5.1: version 3 whenever eContentType is not id-data, which a TSTInfo never is.
  if (readSmallInteger(sd[0], 'SignedData version', CTX) !== 3) fail('malformed', 'SignedData version is not 3')
  const digestAlgorithms = readChildren(expectTag(sd[1], TAG.SET, 'digestAlgorithms', CTX)).map((a) =>
    algorithmOID(a, 'digestAlgorithm'),
  )
  const [eContentType, eContentWrapper, ...encapRest] = readSequence(sd[2], 'encapContentInfo', CTX)
  const eType = readOID(eContentType, 'eContentType', CTX)
  if (eType !== OID_TST_INFO) fail('content-type', `eContentType ${eType} is not id-ct-TSTInfo`)
  if (encapRest.length > 0 || eContentWrapper?.tag !== CTX0) fail('malformed', 'eContent is missing')
  const [eContent, ...eExtra] = readChildren(eContentWrapper)
  // DER: a primitive OCTET STRING, so the hashed TSTInfo bytes are unambiguous.
  if (eExtra.length > 0) fail('malformed', 'eContent is malformed')
  const tstInfo = readOctetString(eContent, 'eContent', CTX)

  let i = 3
  let certificates: Uint8Array[] = []
  if (sd[i]?.tag === CTX0) {
    // Only X.509 certificates: attribute and other certificate choices have no place in a timestamp token.
    certificates = readChildren(sd[i++]!).map((c) => expectTag(c, TAG.SEQUENCE, 'certificate', CTX).raw)
  }
  if (sd[i]?.tag === CTX1) {
    // An empty crls field carries nothing and no TSA writes one; refusing it keeps a token's encoding unique
    // (an empty [0] certificates field retagged [1] would otherwise still verify).
    if (sd[i]!.value.length === 0) fail('malformed', 'SignedData has an empty crls field')
    i++
  }
  const signerInfos = readChildren(expectTag(sd[i], TAG.SET, 'signerInfos', CTX))
  if (i + 1 !== sd.length) fail('malformed', 'SignedData has unexpected fields')
  // RFC 3161 §2.4.1: the TSA's signature is the only one.
  if (signerInfos.length !== 1) fail('malformed', `token must have exactly one SignerInfo, has ${signerInfos.length}`)
  const signer = parseSignerInfo(signerInfos[0]!)
  if (!digestAlgorithms.includes(signer.digestAlgorithm)) {
    fail('malformed', 'the signer digest algorithm is not listed in SignedData digestAlgorithms')
  }

  const tst = parseTSTInfo(tstInfo)
  const result: { -readonly [K in keyof TimestampToken]: TimestampToken[K] } = {
    token: token.raw,
    tstInfo,
    genTime: tst.genTime,
    messageImprint: Object.freeze({ hashAlgorithm: tst.hashAlgorithm, hash: tst.hash }),
    serialNumber: tst.serialNumber,
    policy: tst.policy,
    certificates: Object.freeze(certificates),
    signer,
  }
  if (status !== undefined) result.status = status
  if (tst.nonce !== undefined) result.nonce = tst.nonce
  if (tst.tsaName !== undefined) result.tsaName = tst.tsaName
  if (tst.accuracy !== undefined) result.accuracy = tst.accuracy
  return Object.freeze(result)
}

/**
 * Parse a DER TimeStampResp (RFC 3161 §2.4.2; its status must be granted or grantedWithMods) or a bare
 * TimeStampToken (a CMS ContentInfo, the form Sigstore bundles carry). The two are told apart by their first
 * element. Nothing is verified here except structure: use {@link verifyTimestamp}.
 *
 * @param der - The DER bytes (decode a bundle's base64 `signedTimestamp` first).
 * @returns The token (frozen).
 * @throws {CountersignError} ERR_TIMESTAMP_INVALID with `details.reason` `malformed`, `status` or `content-type`.
 * @example
 * ```ts
 * import { parseTimestamp } from 'countersign/timestamp'
 * const token = parseTimestamp(responseBytes)
 * console.log(token.genTime.toISOString(), token.policy)
 * ```
 *
 * Exported from `countersign/timestamp`.
 */
export function parseTimestamp(der: Uint8Array): TimestampToken {
  if (!(der instanceof Uint8Array)) throw new TypeError('der must be a Uint8Array')
  try {
    // Copy once into a plain Uint8Array (a Node Buffer's slice() would share memory): the token keeps views into
    // it, and the caller may reuse its buffer.
    const outer = parseDER(new Uint8Array(der), CTX)
    const children = readSequence(outer, 'timestamp', CTX)
    if (children[0]?.tag === TAG.OID) return parseTokenDER(outer, undefined)
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
    assertDER(outer)
    const [statusInfo, tokenNode, ...rest] = children
    const [statusNode, ...statusRest] = readSequence(statusInfo, 'PKIStatusInfo', CTX)
    const status = readSmallInteger(statusNode, 'PKIStatus', CTX)
    if (!GRANTED.has(status)) {
      const text = statusRest[0]?.tag === TAG.SEQUENCE ? readChildren(statusRest[0]).map(stringValue).join('; ') : ''
      fail('status', `TSA refused the request (status ${status}${text ? `: ${text}` : ''})`, { details: { status } })
    }
    if (tokenNode === undefined || rest.length > 0) fail('malformed', 'TimeStampResp carries no token')
    return parseTokenDER(tokenNode, status)
  } catch (error) {
    if (isCountersignError(error, 'ERR_TIMESTAMP_INVALID') && (error.details?.reason as unknown) !== undefined) {
      throw error
    }
    fail('malformed', 'not a valid RFC 3161 timestamp', { cause: error })
  }
}
