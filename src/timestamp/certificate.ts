/**
 * The slice of X.509 a TSA chain check needs: names, validity, key, CA and EKU extensions, and signature
 * verification between adjacent certificates. Parsed certificates and verified links are cached, so verifying many
 * timestamps against one trusted root parses and checks the TSA chain once. Internal.
 *
 * @module
 */

import { equalBytes } from '../internal/bytes.js'
import { type DERNode, parseDER, readChildren, TAG } from '../internal/der.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { PublicKey } from '../keys/types.js'
import { type SignatureBackend, verifySignature } from '../keys/verify.js'
import { parseCertificate } from '../x509/certificate.js'
import {
  fail,
  OID_EKU_TIME_STAMPING,
  OID_EXT_BASIC_CONSTRAINTS,
  OID_EXT_EXTENDED_KEY_USAGE,
  OID_EXT_KEY_USAGE,
  OID_EXT_SUBJECT_KEY_IDENTIFIER,
  signatureSchemeFor,
} from './algorithms.js'

/** A parsed certificate; every byte field is a view of the original DER. */
export interface TSACertificate {
  readonly der: Uint8Array
  readonly tbs: Uint8Array
  readonly serialNumber: Uint8Array
  readonly issuer: Uint8Array
  readonly subject: Uint8Array
  readonly spki: Uint8Array
  readonly notBefore: Date
  readonly notAfter: Date
  readonly signatureAlgorithm: string
  readonly signature: Uint8Array
  readonly isCA: boolean
  /** KeyUsage keyCertSign; true when the extension is absent (X.509 leaves it unconstrained). */
  readonly mayCertSign: boolean
  readonly extendedKeyUsage?: { readonly critical: boolean; readonly purposes: readonly string[] }
  readonly subjectKeyIdentifier?: Uint8Array
}

const DER_CTX = { code: 'ERR_TIMESTAMP_INVALID', what: 'TSA certificate' } as const

const parsed = new WeakMap<Uint8Array, TSACertificate>()
const keys = new WeakMap<TSACertificate, PublicKey>()
const links = new WeakMap<TSACertificate, WeakMap<TSACertificate, Promise<boolean>>>()

function tbsFields(tbs: DERNode): { serial: DERNode; issuer: DERNode; subject: DERNode; spki: DERNode } {
  const fields = readChildren(tbs)
  // [0] EXPLICIT version is optional (v1 certificates omit it).
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0
  const serial = fields[offset]
  const issuer = fields[offset + 2]
  const subject = fields[offset + 4]
  const spki = fields[offset + 5]
  if (
    serial?.tag !== TAG.INTEGER ||
    issuer?.tag !== TAG.SEQUENCE ||
    subject?.tag !== TAG.SEQUENCE ||
    spki?.tag !== TAG.SEQUENCE
  ) {
    fail('malformed', 'certificate TBS is malformed')
  }
  return { serial, issuer, subject, spki }
}

/** Issuer, serial and subject of a certificate, read with the DER walker only (cheap; for matching a SignerInfo). */
export interface CertificateNames {
  readonly serialNumber: Uint8Array
  readonly issuer: Uint8Array
  readonly subject: Uint8Array
}

const names = new WeakMap<Uint8Array, CertificateNames>()

/** The names of a certificate without a full parse (embedded certificates are usually only compared, not used). */
export function readCertificateNames(der: Uint8Array): CertificateNames {
  let cached = names.get(der)
  if (!cached) {
    const [tbsNode] = readChildren(parseDER(der, DER_CTX))
    if (tbsNode?.tag !== TAG.SEQUENCE) fail('malformed', 'certificate is malformed')
    const { serial, issuer, subject } = tbsFields(tbsNode)
    cached = Object.freeze({ serialNumber: serial.value, issuer: issuer.raw, subject: subject.raw })
    names.set(der, cached)
  }
  return cached
}

/** Parse (once per DER array) a certificate of a TSA chain. */
export function parseTSACertificate(der: Uint8Array): TSACertificate {
  const cached = parsed.get(der)
  if (cached) return cached
  let cert: TSACertificate
  try {
    const outer = parseDER(der, DER_CTX)
    const [tbsNode] = readChildren(outer)
    if (tbsNode?.tag !== TAG.SEQUENCE) fail('malformed', 'certificate is malformed')
    const { serial, issuer, subject, spki } = tbsFields(tbsNode)
    // Our own strict parser (src/x509): pkijs costs ~40 ms to import and ~3 ms per certificate.
    const c = parseCertificate(der)
    const eku = c.extensions.find((e) => e.oid === OID_EXT_EXTENDED_KEY_USAGE)
    for (const ext of c.extensions) {
      const known = [
        OID_EXT_BASIC_CONSTRAINTS,
        OID_EXT_KEY_USAGE,
        OID_EXT_EXTENDED_KEY_USAGE,
        OID_EXT_SUBJECT_KEY_IDENTIFIER,
      ].includes(ext.oid)
      // An unknown critical extension makes the certificate unusable (RFC 5280 §4.2), as Go's x509 treats it.
      if (ext.critical && !known) fail('chain', `certificate has an unhandled critical extension ${ext.oid}`)
    }
    cert = Object.freeze({
      der,
      tbs: tbsNode.raw,
      serialNumber: serial.value,
      issuer: issuer.raw,
      subject: subject.raw,
      spki: spki.raw,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
      signatureAlgorithm: c.signatureAlgorithm,
      signature: c.signature,
      isCA: c.basicConstraints?.ca === true,
      // KeyUsage absent: unconstrained; present: keyCertSign decides.
      mayCertSign: c.keyUsage === undefined || c.keyUsage.keyCertSign,
      ...(eku && c.extendedKeyUsage
        ? {
            extendedKeyUsage: Object.freeze({
              critical: eku.critical,
              purposes: Object.freeze([...c.extendedKeyUsage]),
            }),
          }
        : {}),
      ...(c.subjectKeyId ? { subjectKeyIdentifier: c.subjectKeyId } : {}),
    })
  } catch (error) {
    if ((error as { details?: { reason?: unknown } }).details?.reason !== undefined) throw error
    fail('malformed', 'certificate does not parse', { cause: error })
  }
  parsed.set(der, cert)
  return cert
}

/** The certificate's public key, parsed once. */
export function certificateKey(cert: TSACertificate): PublicKey {
  let key = keys.get(cert)
  if (!key) {
    try {
      key = parsePublicKey(cert.spki)
    } catch (cause) {
      fail('unsupported-algorithm', 'TSA certificate key is not supported', { cause })
    }
    keys.set(cert, key)
  }
  return key
}

/** Verify `signature` over `data` with `cert`'s key and the given algorithm OIDs; false when it does not verify. */
export async function verifyWithCertificate(
  cert: TSACertificate,
  data: Uint8Array,
  signature: Uint8Array,
  signatureAlgorithm: string,
  digestAlgorithm?: string,
  backend?: SignatureBackend,
): Promise<boolean> {
  const scheme = signatureSchemeFor(signatureAlgorithm, digestAlgorithm)
  if (scheme === undefined) fail('unsupported-algorithm', `unsupported signature algorithm ${signatureAlgorithm}`)
  const key = certificateKey(cert)
  const family = key.algorithm.startsWith('ecdsa') ? 'ecdsa' : key.algorithm
  if (family !== scheme.family) return false
  return verifySignature(key, data, signature, { ...scheme.options, backend })
}

/** Whether `issuer` signed `cert` (names, CA constraints, signature); the signature result is cached per pair. */
export function isIssuedBy(cert: TSACertificate, issuer: TSACertificate, backend?: SignatureBackend): Promise<boolean> {
  if (!equalBytes(cert.issuer, issuer.subject) || !issuer.isCA || !issuer.mayCertSign) return Promise.resolve(false)
  let perCert = links.get(cert)
  if (!perCert) {
    perCert = new WeakMap()
    links.set(cert, perCert)
  }
  let pending = perCert.get(issuer)
  if (!pending) {
    pending = verifyWithCertificate(issuer, cert.tbs, cert.signature, cert.signatureAlgorithm, undefined, backend)
    // Only a definite answer is worth keeping; a thrown error (unsupported algorithm) is re-evaluated next time.
    pending.catch(() => perCert.delete(issuer))
    perCert.set(issuer, pending)
  }
  return pending
}

/** RFC 3161 §2.3: the TSA certificate has exactly one extended key usage, timeStamping, marked critical. */
export function hasTimeStampingEKU(cert: TSACertificate): boolean {
  const eku = cert.extendedKeyUsage
  return eku?.critical === true && eku.purposes.length === 1 && eku.purposes[0] === OID_EKU_TIME_STAMPING
}

/** Whether `time` lies within notBefore..notAfter (inclusive, as RFC 5280 §4.1.2.5 defines the period). */
export function isCertificateValidAt(cert: TSACertificate, time: Date): boolean {
  const t = time.getTime()
  return t >= cert.notBefore.getTime() && t <= cert.notAfter.getTime()
}
