/**
 * X.509 certificates (RFC 5280): parse DER or PEM once into a frozen, fully decoded value that keeps every signed
 * byte as given (nothing is re-serialised). Parsing is strict DER on the project's own reader, which is two orders
 * of magnitude faster than a generic ASN.1 object model and matters on the verification hot path.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8, toHex } from '../internal/bytes.js'
import {
  type DERNode,
  parseDER,
  readBitString,
  readChildren,
  readInteger,
  readOctetAlignedBitString,
  readOctetString,
  readOID,
  readSequence,
  TAG,
} from '../internal/der.js'
import { decodePEMBlocks } from '../internal/pem.js'
import { decodeUTF8, isBoolean, malformed, readBoolean, readDirectoryString, readIA5, readTime } from './asn1.js'

/** Extension OIDs this module decodes. */
export const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14'
export const OID_KEY_USAGE = '2.5.29.15'
export const OID_SUBJECT_ALT_NAME = '2.5.29.17'
export const OID_BASIC_CONSTRAINTS = '2.5.29.19'
export const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35'
export const OID_EXTENDED_KEY_USAGE = '2.5.29.37'
/**
 * id-kp-codeSigning, the extended key usage every Fulcio leaf carries.
 *
 * Exported from `countersign/x509`.
 */
export const OID_EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3'
/**
 * id-kp-timeStamping (RFC 3161 §2.3), the extended key usage of a timestamp authority's signing certificate.
 *
 * @example
 * ```ts
 * verifyCertificateChain(tsaLeaf, [authority], { time: genTime, extendedKeyUsage: OID_EKU_TIME_STAMPING })
 * ```
 */
export const OID_EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8'
/**
 * Sigstore "username" otherName SAN type (Fulcio OID 1.3.6.1.4.1.57264.1.7).
 *
 * Exported from `countersign/x509`.
 */
export const OID_OTHERNAME_SIGSTORE_USERNAME = '1.3.6.1.4.1.57264.1.7'

/**
 * A distinguished name: the DER bytes (compared byte-for-byte when matching issuer and subject) and an RFC 4514
 * rendering for messages.
 *
 * Exported from `countersign/x509`.
 */
export interface DistinguishedName {
  /** DER `Name` exactly as in the certificate. */
  readonly raw: Uint8Array
  /** RFC 4514 string, most specific attribute first, e.g. `CN=sigstore-intermediate,O=sigstore.dev`. */
  readonly text: string
  /** Attributes in certificate order (outermost RDN first). */
  readonly attributes: readonly { readonly oid: string; readonly value: string }[]
}

/**
 * One certificate extension; `value` is the contents of `extnValue` (the bytes inside the OCTET STRING).
 *
 * Exported from `countersign/x509`.
 */
export interface CertificateExtension {
  readonly oid: string
  readonly critical: boolean
  readonly value: Uint8Array
  /** The whole DER `Extension` element, as needed to rebuild a TBS without it (RFC 6962 precertificates). */
  readonly raw: Uint8Array
}

/**
 * A subject alternative name (RFC 5280 GeneralName). `otherName` values are decoded when the type is the Sigstore
 * username OID (a UTF8String); other otherName types keep only their raw DER value.
 *
 * Exported from `countersign/x509`.
 */
export type SubjectAltName =
  | { readonly type: 'email' | 'dns' | 'uri'; readonly value: string }
  | { readonly type: 'ip'; readonly value: string; readonly bytes: Uint8Array }
  | { readonly type: 'otherName'; readonly oid: string; readonly value: string | undefined; readonly raw: Uint8Array }
  | { readonly type: 'directoryName'; readonly value: DistinguishedName }
  | { readonly type: 'other'; readonly tag: number; readonly raw: Uint8Array }

/**
 * Decoded KeyUsage bits (RFC 5280 §4.2.1.3).
 *
 * Exported from `countersign/x509`.
 */
export interface KeyUsage {
  readonly critical: boolean
  readonly digitalSignature: boolean
  readonly contentCommitment: boolean
  readonly keyEncipherment: boolean
  readonly dataEncipherment: boolean
  readonly keyAgreement: boolean
  readonly keyCertSign: boolean
  readonly cRLSign: boolean
  readonly encipherOnly: boolean
  readonly decipherOnly: boolean
}

/**
 * Decoded BasicConstraints (RFC 5280 §4.2.1.9).
 *
 * Exported from `countersign/x509`.
 */
export interface BasicConstraints {
  readonly critical: boolean
  readonly ca: boolean
  /** Maximum number of intermediate CAs below this one; absent = unlimited. */
  readonly pathLenConstraint?: number
}

/**
 * A parsed X.509 v1–v3 certificate. Byte fields are views of one private copy of the input.
 *
 * Exported from `countersign/x509`.
 */
export interface Certificate {
  /** The whole DER certificate. */
  readonly raw: Uint8Array
  /** The DER TBSCertificate: the bytes the issuer signed. */
  readonly tbs: Uint8Array
  /** 1, 2 or 3. */
  readonly version: number
  /** Serial number as lowercase hex of its DER INTEGER contents (two's complement, as encoded). */
  readonly serialNumber: string
  /** OID of the outer `signatureAlgorithm` (equal to the TBS one, which parsing enforces). */
  readonly signatureAlgorithm: string
  /** DER AlgorithmIdentifier of the signature algorithm (parameters matter for RSA-PSS). */
  readonly signatureAlgorithmRaw: Uint8Array
  readonly signature: Uint8Array
  readonly issuer: DistinguishedName
  readonly subject: DistinguishedName
  readonly notBefore: Date
  readonly notAfter: Date
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array
  readonly extensions: readonly CertificateExtension[]
  readonly subjectAltNames: readonly SubjectAltName[]
  /** EKU OIDs, or undefined when the extension is absent. */
  readonly extendedKeyUsage?: readonly string[]
  readonly basicConstraints?: BasicConstraints
  readonly keyUsage?: KeyUsage
  readonly subjectKeyId?: Uint8Array
  readonly authorityKeyId?: Uint8Array
}

const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.17': 'POSTALCODE',
  '0.9.2342.19200300.100.1.1': 'UID',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
}

function escapeRDNValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[ #]/, (c) => `\\${c}`)
    .replace(/ $/, '\\ ')
}

function parseName(node: DERNode | undefined, what: string): DistinguishedName {
  const rdns = readSequence(node, what)
  const attributes: { oid: string; value: string }[] = []
  // Per RDN, the indexes of its attributes and whether each is a string (rendered escaped) or RFC 4514 hex.
  const groups: { index: number; string: boolean }[][] = []
  for (const rdn of rdns) {
    if (rdn.tag !== TAG.SET) malformed(`${what} RDN is not a SET`)
    const atvs = readChildren(rdn)
    if (atvs.length === 0) malformed(`${what} has an empty RDN`)
    const group: { index: number; string: boolean }[] = []
    for (const atv of atvs) {
      const [type, value, ...rest] = readSequence(atv, `${what} attribute`)
      if (rest.length > 0 || value === undefined) malformed(`${what} attribute has the wrong shape`)
      const oid = readOID(type)
      let text: string
      let string = true
      try {
        text = readDirectoryString(value, `${what} attribute ${oid}`)
      } catch {
        // Non-string attribute values are legal; render them as RFC 4514 hex.
        text = `#${toHex(value.raw)}`
        string = false
      }
      group.push({ index: attributes.length, string })
      attributes.push({ oid, value: text })
    }
    groups.unshift(group)
  }
  // The RFC 4514 text is only read for messages and by callers, so it is rendered on first read (escaping costs
  // three regular expressions per value, paid for every bundle's leaf otherwise).
  let text: string | undefined
  return Object.freeze({
    raw: node!.raw,
    get text(): string {
      text ??= groups
        .map((group) =>
          group
            .map(({ index, string }) => {
              const { oid, value } = attributes[index]!
              return `${ATTRIBUTE_NAMES[oid] ?? oid}=${string ? escapeRDNValue(value) : value}`
            })
            .join('+'),
        )
        .join(',')
      return text
    },
    attributes: Object.freeze(attributes),
  })
}

function parseExtensions(node: DERNode): CertificateExtension[] {
  const list = readSequence(readChildren(node)[0], 'extensions')
  if (readChildren(node).length !== 1) malformed('extensions wrapper has extra elements')
  if (list.length === 0) malformed('empty extensions')
  const seen = new Set<string>()
  return list.map((ext) => {
    const fields = readSequence(ext, 'extension')
    const oid = readOID(fields[0], 'extension OID')
    let i = 1
    let critical = false
    if (isBoolean(fields[i])) {
      critical = readBoolean(fields[i], 'extension critical flag')
      // DER omits DEFAULT values, so an explicit FALSE is not DER (Go rejects it too).
      if (!critical) malformed(`extension ${oid} encodes critical=FALSE explicitly`)
      i++
    }
    const value = readOctetString(fields[i], 'extension value')
    if (fields.length !== i + 1) malformed(`extension ${oid} has extra fields`)
    // RFC 5280 §4.2: a certificate must not include more than one instance of an extension.
    if (seen.has(oid)) malformed(`duplicate extension ${oid}`)
    seen.add(oid)
    return Object.freeze({ oid, critical, value, raw: ext.raw })
  })
}

function formatIP(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.')
  if (bytes.length === 16) {
    const groups: string[] = []
    for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16))
    return groups.join(':')
  }
  return malformed('SAN IP address is not 4 or 16 bytes')
}

function parseSubjectAltNames(value: Uint8Array): SubjectAltName[] {
  const names = readSequence(parseDER(value), 'subjectAltName')
  if (names.length === 0) malformed('empty subjectAltName')
  return names.map((gn): SubjectAltName => {
    switch (gn.tag) {
      case 0xa0: {
        // otherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }, with the SEQUENCE tag replaced by [0].
        const [type, wrapped, ...rest] = readChildren(gn)
        const oid = readOID(type, 'otherName type')
        if (wrapped?.tag !== 0xa0 || rest.length > 0) malformed('otherName value is not [0] EXPLICIT')
        const inner = readChildren(wrapped)
        if (inner.length !== 1) malformed('otherName value must hold one element')
        let text: string | undefined
        if (oid === OID_OTHERNAME_SIGSTORE_USERNAME) {
          if (inner[0]!.tag !== 0x0c) malformed('Sigstore username otherName is not a UTF8String')
          text = decodeUTF8(inner[0]!.value, 'otherName')
        }
        return Object.freeze({ type: 'otherName', oid, value: text, raw: inner[0]!.raw })
      }
      case 0x81:
        return Object.freeze({ type: 'email', value: readIA5(gn.value, 'SAN email') })
      case 0x82:
        return Object.freeze({ type: 'dns', value: readIA5(gn.value, 'SAN DNS name') })
      case 0x86:
        return Object.freeze({ type: 'uri', value: readIA5(gn.value, 'SAN URI') })
      case 0x87:
        return Object.freeze({ type: 'ip', value: formatIP(gn.value), bytes: gn.value })
      case 0xa4: {
        const inner = readChildren(gn)
        if (inner.length !== 1) malformed('directoryName must hold one Name')
        return Object.freeze({ type: 'directoryName', value: parseName(inner[0], 'SAN directoryName') })
      }
      default:
        return Object.freeze({ type: 'other', tag: gn.tag, raw: gn.raw })
    }
  })
}

const KEY_USAGE_BITS = [
  'digitalSignature',
  'contentCommitment',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const

function parseKeyUsage(ext: CertificateExtension): KeyUsage {
  const { bytes } = readBitString(parseDER(ext.value), 'keyUsage')
  const usage: Record<string, boolean> = { critical: ext.critical }
  KEY_USAGE_BITS.forEach((name, bit) => {
    usage[name] = ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) !== 0
  })
  return Object.freeze(usage as unknown as KeyUsage)
}

function parseBasicConstraints(ext: CertificateExtension): BasicConstraints {
  const fields = readSequence(parseDER(ext.value), 'basicConstraints')
  let i = 0
  let ca = false
  if (isBoolean(fields[i])) {
    ca = readBoolean(fields[i], 'basicConstraints cA')
    if (!ca) malformed('basicConstraints encodes cA=FALSE explicitly')
    i++
  }
  let pathLenConstraint: number | undefined
  if (fields[i] !== undefined) {
    const n = readInteger(fields[i], 'pathLenConstraint')
    if (n < 0n || n > 1_000_000n) malformed('pathLenConstraint out of range')
    pathLenConstraint = Number(n)
    i++
  }
  if (fields.length !== i) malformed('basicConstraints has extra fields')
  const bc: { critical: boolean; ca: boolean; pathLenConstraint?: number } = { critical: ext.critical, ca }
  if (pathLenConstraint !== undefined) bc.pathLenConstraint = pathLenConstraint
  return Object.freeze(bc)
}

function parseAuthorityKeyId(ext: CertificateExtension): Uint8Array | undefined {
  const fields = readSequence(parseDER(ext.value), 'authorityKeyIdentifier')
  const keyId = fields.find((f) => f.tag === 0x80)
  return keyId?.value
}

function certificateFromDER(input: Uint8Array): Certificate {
  // A private copy: callers may reuse their buffer, and every field below is a view of these bytes.
  const raw = input.slice()
  const top = readSequence(parseDER(raw), 'certificate')
  if (top.length !== 3) malformed('Certificate must have three fields')
  const [tbsNode, sigAlgNode, sigNode] = top as [DERNode, DERNode, DERNode]
  const outerAlg = readSequence(sigAlgNode, 'signatureAlgorithm')
  const signatureAlgorithm = readOID(outerAlg[0], 'signature algorithm')
  const signature = readOctetAlignedBitString(sigNode, 'signatureValue')

  const tbsFields = readSequence(tbsNode, 'TBSCertificate')
  let i = 0
  let version = 1
  if (tbsFields[0]?.tag === 0xa0) {
    const v = readChildren(tbsFields[0])
    if (v.length !== 1) malformed('version wrapper')
    const n = readInteger(v[0], 'version')
    // DER omits the DEFAULT v1, so an explicit v1 is not DER.
    if (n !== 1n && n !== 2n) malformed('unsupported version')
    version = Number(n) + 1
    i++
  }
  const serialNode = tbsFields[i++]
  if (serialNode?.tag !== TAG.INTEGER || serialNode.value.length === 0) malformed('serialNumber')
  const serialNumber = toHex(serialNode.value)
  const innerAlg = tbsFields[i++]
  if (innerAlg === undefined || !equalDER(innerAlg.raw, sigAlgNode.raw)) {
    malformed('TBS signature algorithm differs from the outer one')
  }
  const issuer = parseName(tbsFields[i++], 'issuer')
  const validity = readSequence(tbsFields[i++], 'validity')
  if (validity.length !== 2) malformed('validity must have two times')
  const notBefore = readTime(validity[0], 'notBefore')
  const notAfter = readTime(validity[1], 'notAfter')
  const subject = parseName(tbsFields[i++], 'subject')
  const spkiNode = tbsFields[i++]
  readSequence(spkiNode, 'subjectPublicKeyInfo')
  const spki = spkiNode!.raw
  // Optional unique identifiers ([1], [2]) are v2+ only and carry nothing we use.
  if (tbsFields[i]?.tag === 0x81) i++
  if (tbsFields[i]?.tag === 0x82) i++
  let extensions: CertificateExtension[] = []
  if (tbsFields[i]?.tag === 0xa3) {
    if (version !== 3) malformed('extensions in a pre-v3 certificate')
    extensions = parseExtensions(tbsFields[i]!)
    i++
  }
  if (i !== tbsFields.length) malformed('TBSCertificate has unexpected fields')

  const cert: { -readonly [K in keyof Certificate]: Certificate[K] } = {
    raw,
    tbs: tbsNode.raw,
    version,
    serialNumber,
    signatureAlgorithm,
    signatureAlgorithmRaw: sigAlgNode.raw,
    signature,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki,
    extensions: Object.freeze(extensions),
    subjectAltNames: Object.freeze([]),
  }
  for (const ext of extensions) {
    switch (ext.oid) {
      case OID_SUBJECT_ALT_NAME:
        cert.subjectAltNames = Object.freeze(parseSubjectAltNames(ext.value))
        break
      case OID_EXTENDED_KEY_USAGE: {
        const oids = readSequence(parseDER(ext.value), 'extKeyUsage').map((n) => readOID(n, 'EKU'))
        if (oids.length === 0) malformed('empty extKeyUsage')
        cert.extendedKeyUsage = Object.freeze(oids)
        break
      }
      case OID_BASIC_CONSTRAINTS:
        cert.basicConstraints = parseBasicConstraints(ext)
        break
      case OID_KEY_USAGE:
        cert.keyUsage = parseKeyUsage(ext)
        break
      case OID_SUBJECT_KEY_IDENTIFIER:
        cert.subjectKeyId = readOctetString(parseDER(ext.value), 'subjectKeyIdentifier')
        break
      case OID_AUTHORITY_KEY_IDENTIFIER: {
        const id = parseAuthorityKeyId(ext)
        if (id !== undefined) cert.authorityKeyId = id
        break
      }
    }
  }
  return Object.freeze(cert)
}

function equalDER(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function wrap(cause: unknown): never {
  if (cause instanceof CountersignError && cause.code === 'ERR_INVALID_INPUT') {
    if (cause.message.startsWith('certificate')) throw cause
    throw new CountersignError('ERR_INVALID_INPUT', `certificate is malformed: ${cause.message}`, { cause })
  }
  throw cause
}

/**
 * Parse one X.509 certificate from DER bytes or PEM (the first `CERTIFICATE` block; text around it is ignored, as
 * OpenSSL dumps often precede the block). Strict DER: trailing data, non-minimal lengths, explicit DEFAULT values,
 * duplicate extensions and a TBS/outer signature-algorithm mismatch are rejected.
 *
 * @param input - DER bytes, or PEM text (as a string or UTF-8 bytes).
 * @returns The parsed certificate (frozen). Parse once and pass the object around; it is the cache key for the
 *   imported public key.
 * @throws {CountersignError} ERR_INVALID_INPUT when the input is not a well-formed certificate.
 * @example
 * ```ts
 * import { parseCertificate } from 'countersign/x509'
 * const cert = parseCertificate(pem)
 * console.log(cert.subjectAltNames, cert.notAfter)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function parseCertificate(input: Uint8Array | string): Certificate {
  if (typeof input === 'string') return parseCertificatePEM(input)[0]!
  if (!(input instanceof Uint8Array)) throw new TypeError('certificate must be a Uint8Array or a string')
  if (input.length > 0 && input[0] !== TAG.SEQUENCE) return parseCertificatePEM(fromUtf8(input, 'certificate'))[0]!
  try {
    return certificateFromDER(input)
  } catch (cause) {
    return wrap(cause)
  }
}

/**
 * Parse every `CERTIFICATE` block of a PEM text, in order (a chain file, a cosign `--certificate-chain`).
 *
 * @param pem - PEM text.
 * @returns The certificates; at least one.
 * @throws {CountersignError} ERR_INVALID_INPUT when there is no CERTIFICATE block or one does not parse.
 * @example
 * ```ts
 * import { parseCertificatePEM } from 'countersign/x509'
 * const [leaf, ...intermediates] = parseCertificatePEM(chainPem)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function parseCertificatePEM(pem: string): Certificate[] {
  if (typeof pem !== 'string') throw new TypeError('pem must be a string')
  const blocks = decodePEMBlocks(pem).filter((b) => b.label === 'CERTIFICATE')
  if (blocks.length === 0) throw new CountersignError('ERR_INVALID_INPUT', 'no CERTIFICATE PEM block found')
  return blocks.map((b) => {
    try {
      return certificateFromDER(b.bytes)
    } catch (cause) {
      return wrap(cause)
    }
  })
}

/**
 * The extension with the given OID, if the certificate has it.
 *
 * @param cert - A parsed certificate.
 * @param oid - Dotted OID.
 * @returns The extension or undefined.
 * @example
 * ```ts
 * import { getExtension } from 'countersign/x509'
 * const sctList = getExtension(cert, '1.3.6.1.4.1.11129.2.4.2')
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function getExtension(cert: Certificate, oid: string): CertificateExtension | undefined {
  return cert.extensions.find((e) => e.oid === oid)
}

/**
 * Whether `time` lies within the certificate's validity (both ends inclusive, as RFC 5280 §4.1.2.5 and Go say).
 *
 * @param cert - A parsed certificate.
 * @param time - The time to test.
 * @returns `notBefore ≤ time ≤ notAfter`.
 * @example
 * ```ts
 * import { isCertificateValidAt } from 'countersign/x509'
 * isCertificateValidAt(leaf, new Date(integratedTime * 1000))
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function isCertificateValidAt(cert: Certificate, time: Date): boolean {
  const t = time.getTime()
  return !Number.isNaN(t) && t >= cert.notBefore.getTime() && t <= cert.notAfter.getTime()
}
