/** OIDs, digests and the coded failure helper shared by the RFC 3161 modules. Internal. @module */
import { CountersignError } from '../errors.js'
import { toArrayBufferView } from '../internal/bytes.js'
import type { HashAlgorithm, VerifyOptions } from '../keys/types.js'
import { getSubtle } from '../keys/webcrypto.js'

/** id-signedData (RFC 5652 §5.1). */
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2'
/** id-ct-TSTInfo (RFC 3161 §2.4.2). */
export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4'
/** CMS signed attributes (RFC 5652 §11, RFC 2634 §5.4, RFC 5035 §3). */
export const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3'
export const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4'
export const OID_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12'
export const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47'

/** Digest algorithms by OID. SHA-1 appears only in ESSCertID (v1), which RFC 2634 fixes to SHA-1. */
const DIGESTS: Readonly<Record<string, HashAlgorithm>> = Object.freeze({
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
})

/** The hash for a digest OID (SHA-256/384/512), or undefined. */
export function digestForOID(oid: string): HashAlgorithm | undefined {
  return Object.hasOwn(DIGESTS, oid) ? DIGESTS[oid] : undefined
}

const WEBCRYPTO_NAMES: Readonly<Record<HashAlgorithm | 'sha1', string>> = Object.freeze({
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
})

/** Web Crypto digest. */
export async function digest(hash: HashAlgorithm | 'sha1', data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await getSubtle().digest(WEBCRYPTO_NAMES[hash], toArrayBufferView(data)))
}

/** How to check a signature made with a given signatureAlgorithm OID. */
export interface SignatureScheme {
  readonly family: 'ecdsa' | 'rsa' | 'ed25519'
  readonly options: VerifyOptions
}

const SIGNATURE_SCHEMES: Readonly<Record<string, SignatureScheme>> = Object.freeze({
  '1.2.840.10045.4.3.2': { family: 'ecdsa', options: { hash: 'sha256' } },
  '1.2.840.10045.4.3.3': { family: 'ecdsa', options: { hash: 'sha384' } },
  '1.2.840.10045.4.3.4': { family: 'ecdsa', options: { hash: 'sha512' } },
  '1.2.840.113549.1.1.11': { family: 'rsa', options: { hash: 'sha256', rsaPadding: 'pkcs1v15' } },
  '1.2.840.113549.1.1.12': { family: 'rsa', options: { hash: 'sha384', rsaPadding: 'pkcs1v15' } },
  '1.2.840.113549.1.1.13': { family: 'rsa', options: { hash: 'sha512', rsaPadding: 'pkcs1v15' } },
  '1.3.101.112': { family: 'ed25519', options: {} },
})

// CMS signers (OpenSSL among them) often name only the key type in signatureAlgorithm (rsaEncryption,
// id-ecPublicKey, RFC 5754 §3) and let the SignerInfo digestAlgorithm choose the hash.
const KEY_ONLY_SCHEMES: Readonly<Record<string, SignatureScheme['family']>> = Object.freeze({
  '1.2.840.113549.1.1.1': 'rsa',
  '1.2.840.10045.2.1': 'ecdsa',
})

/**
 * The verification scheme for a signature algorithm OID; `digestOID` supplies the hash when the OID names only the
 * key type (CMS). Undefined for anything unsupported (RSASSA-PSS, SHA-1 signatures, …), which callers reject.
 */
export function signatureSchemeFor(oid: string, digestOID?: string): SignatureScheme | undefined {
  if (Object.hasOwn(SIGNATURE_SCHEMES, oid)) return SIGNATURE_SCHEMES[oid]
  if (digestOID !== undefined && Object.hasOwn(KEY_ONLY_SCHEMES, oid)) {
    const hash = digestForOID(digestOID)
    if (hash === undefined) return undefined
    const family = KEY_ONLY_SCHEMES[oid]!
    return { family, options: family === 'rsa' ? { hash, rsaPadding: 'pkcs1v15' } : { hash } }
  }
  return undefined
}

/**
 * Why a timestamp was rejected: the value of `details.reason` on ERR_TIMESTAMP_INVALID.
 *
 * - `malformed`: not a DER TimeStampResp / TimeStampToken, or a required field is missing or invalid.
 * - `status`: the TimeStampResp status is neither granted (0) nor grantedWithMods (1).
 * - `content-type`: ContentInfo is not signedData, eContentType or the contentType attribute is not id-ct-TSTInfo.
 * - `unsupported-algorithm`: an imprint, digest or signature algorithm outside SHA-2 / ECDSA / RSA PKCS#1 / Ed25519.
 * - `imprint-mismatch`: the message imprint is not the hash of the timestamped data.
 * - `message-digest-mismatch`: the messageDigest attribute is not the hash of the TSTInfo.
 * - `signing-certificate-mismatch`: the ESSCertID(v2) signingCertificate attribute names another certificate.
 * - `signature`: the CMS signature does not verify with the TSA certificate's key.
 * - `no-authorities`: the trusted root lists no timestamp authority.
 * - `untrusted`: no timestamp authority of the trusted root issued the signing certificate.
 * - `chain`: the TSA certificate chain does not verify (x509's chain verifier for the timeStamping purpose:
 *   certificate profiles, names, path length, signatures; its error is the `cause`).
 * - `eku`: the signing certificate lacks a critical extended key usage of exactly timeStamping (RFC 3161 §2.3).
 * - `outside-authority-validity`: genTime lies outside the authority's `validFor` window in the trusted root.
 * - `outside-certificate-validity`: genTime lies outside a TSA certificate's notBefore..notAfter.
 * - `duplicate`, `too-many`, `threshold`: raised by {@link verifyTimestamps} for the set of timestamps.
 *
 * Exported from `countersign/timestamp`.
 */
export type TimestampFailureReason =
  | 'malformed'
  | 'status'
  | 'content-type'
  | 'unsupported-algorithm'
  | 'imprint-mismatch'
  | 'message-digest-mismatch'
  | 'signing-certificate-mismatch'
  | 'signature'
  | 'no-authorities'
  | 'untrusted'
  | 'chain'
  | 'eku'
  | 'outside-authority-validity'
  | 'outside-certificate-validity'
  | 'duplicate'
  | 'too-many'
  | 'threshold'

/** Throw ERR_TIMESTAMP_INVALID with `details.reason` (and any extra details). */
export function fail(
  reason: TimestampFailureReason,
  message: string,
  extra?: { cause?: unknown; details?: Record<string, unknown> },
): never {
  throw new CountersignError('ERR_TIMESTAMP_INVALID', `timestamp: ${message}`, {
    cause: extra?.cause,
    details: { reason, ...extra?.details },
  })
}
