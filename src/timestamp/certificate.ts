/**
 * The TSA-specific rules on top of `src/x509`: which certificates a token may name, the RFC 3161 §2.3 EKU rule, the
 * TSA chain check through x509's chain verifier (with the timeStamping purpose) and the CMS signature with the
 * signing certificate's key. Certificates are x509's; trusted-root chains come from x509's one issuer cache, so
 * verifying many timestamps against one trusted root parses and checks the TSA chain once. Internal.
 *
 * @module
 */

import { isCountersignError } from '../errors.js'
import { equalBytes } from '../internal/bytes.js'
import type { PublicKey } from '../keys/types.js'
import { type SignatureBackend, verifySignature } from '../keys/verify.js'
import type { CertificateAuthority } from '../trust/trusted-root.js'
import {
  type Certificate,
  getExtension,
  OID_EKU_TIME_STAMPING,
  OID_EXTENDED_KEY_USAGE,
  parseCertificate,
} from '../x509/certificate.js'
import { authorityCertificates, verifyCertificateChain } from '../x509/chain.js'
import { certificatePublicKey } from '../x509/signature.js'
import { fail, signatureSchemeFor } from './algorithms.js'

/**
 * The parsed `certChain` of a timestamp authority (x509's cache; a certificate that does not parse is `malformed`).
 *
 * @example
 * ```ts
 * const [first] = trustedTSACertificates(root.timestampAuthorities[0]!)
 * ```
 */
export function trustedTSACertificates(authority: CertificateAuthority): readonly Certificate[] {
  try {
    return authorityCertificates(authority)
  } catch (cause) {
    return fail('malformed', 'certificate does not parse', { cause })
  }
}

// Certificates a token carries, parsed once per DER array (a token's arrays are its own, see parseTimestamp), so
// the early signature check and the ordered checks see the same object.
const embedded = new WeakMap<Uint8Array, Certificate>()

/**
 * A certificate the token embeds, parsed with x509's parser once per DER array.
 *
 * @example
 * ```ts
 * const cert = embeddedCertificate(token.certificates[0]!)
 * ```
 */
export function embeddedCertificate(der: Uint8Array): Certificate {
  let cert = embedded.get(der)
  if (cert === undefined) {
    try {
      cert = parseCertificate(der)
    } catch (cause) {
      fail('malformed', 'certificate does not parse', { cause })
    }
    embedded.set(der, cert)
  }
  return cert
}

/**
 * RFC 3161 §2.3: the TSA certificate has exactly one extended key usage, timeStamping, marked critical.
 *
 * @example
 * ```ts
 * if (!hasTimeStampingEKU(leaf)) fail('eku', '…')
 * ```
 */
export function hasTimeStampingEKU(cert: Certificate): boolean {
  const purposes = cert.extendedKeyUsage
  return (
    getExtension(cert, OID_EXTENDED_KEY_USAGE)?.critical === true &&
    purposes?.length === 1 &&
    purposes[0] === OID_EKU_TIME_STAMPING
  )
}

/**
 * Verify the TSA chain from `leaf` to `authority` at `time` with x509's chain verifier for the timeStamping
 * purpose (profiles, names and key identifiers, path length, signatures; link results cached per certificate
 * pair). Its failures become `chain`, or `unsupported-algorithm` when a signature cannot be checked.
 *
 * @example
 * ```ts
 * await verifyTSAChain(leaf, authority, token.genTime, backend)
 * ```
 */
export async function verifyTSAChain(
  leaf: Certificate,
  authority: CertificateAuthority,
  time: Date,
  backend: SignatureBackend | undefined,
): Promise<void> {
  // A trusted root may name a TSA by its one certificate. As in Go's x509 verification with the leaf among the roots
  // (sigstore-go's TSA verifier), that certificate is then the trust anchor itself; the caller has already checked
  // its validity at genTime and its timeStamping EKU.
  if (authority.certChain.length === 1 && equalBytes(authority.certChain[0]!, leaf.raw)) return
  try {
    await verifyCertificateChain(leaf, [authority], {
      time,
      extendedKeyUsage: OID_EKU_TIME_STAMPING,
      signatureBackend: backend,
    })
  } catch (error) {
    if (isCountersignError(error, 'ERR_CERT_CHAIN_INVALID') || isCountersignError(error, 'ERR_CERT_EXPIRED')) {
      if (error.details?.reason === 'unsupported-algorithm') {
        fail('unsupported-algorithm', `TSA ${error.message}`, { cause: error })
      }
      fail('chain', `TSA certificate chain does not verify: ${error.message}`, { cause: error })
    }
    throw error
  }
}

/**
 * Verify `signature` over `data` with `cert`'s key and the CMS algorithm OIDs; false when it does not verify.
 *
 * @example
 * ```ts
 * const ok = await verifyWithCertificate(leaf, signer.signedAttributesDER, signer.signature,
 *   signer.signatureAlgorithm, signer.digestAlgorithm)
 * ```
 */
export async function verifyWithCertificate(
  cert: Certificate,
  data: Uint8Array,
  signature: Uint8Array,
  signatureAlgorithm: string,
  digestAlgorithm?: string,
  backend?: SignatureBackend,
): Promise<boolean> {
  const scheme = signatureSchemeFor(signatureAlgorithm, digestAlgorithm)
  if (scheme === undefined) fail('unsupported-algorithm', `unsupported signature algorithm ${signatureAlgorithm}`)
  let key: PublicKey
  try {
    key = certificatePublicKey(cert)
  } catch (cause) {
    fail('unsupported-algorithm', 'TSA certificate key is not supported', { cause })
  }
  const family = key.algorithm.startsWith('ecdsa') ? 'ecdsa' : key.algorithm
  if (family !== scheme.family) return false
  return verifySignature(key, data, signature, { ...scheme.options, backend })
}
