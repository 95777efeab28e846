/**
 * Sigstore certificate-profile classification (sigstore-python `cert_is_ca`, `cert_is_root_ca`, `cert_is_leaf`):
 * useful for checking trusted-root material and for explaining why a certificate cannot play a role.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { type Certificate, OID_EKU_CODE_SIGNING } from './certificate.js'
import { isSignedBy } from './signature.js'

function invalid(message: string): never {
  throw new CountersignError('ERR_CERT_CHAIN_INVALID', `invalid X.509 certificate: ${message}`, {
    details: { check: 'chain', reason: 'profile' },
  })
}

function requireV3(cert: Certificate): void {
  if (cert.version !== 3) invalid('not an X.509 v3 certificate')
}

/**
 * Whether the certificate is a CA: BasicConstraints present (it must then be critical) with cA set, in which case
 * KeyUsage must be present with keyCertSign.
 *
 * @param cert - A parsed certificate.
 * @returns `true` for a CA, `false` for an end entity.
 * @throws {CountersignError} ERR_CERT_CHAIN_INVALID (`details.reason` = `profile`) for a non-v3 certificate, a
 *   non-critical BasicConstraints, or a CA without keyCertSign.
 * @example
 * ```ts
 * import { isCACertificate } from 'countersign/x509'
 * isCACertificate(intermediate) // true
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function isCACertificate(cert: Certificate): boolean {
  requireV3(cert)
  const bc = cert.basicConstraints
  if (bc === undefined) return false
  if (!bc.critical) invalid('BasicConstraints is not critical')
  if (!bc.ca) return false
  if (cert.keyUsage === undefined) invalid('CA certificate has no KeyUsage')
  if (!cert.keyUsage.keyCertSign) invalid('CA certificate KeyUsage lacks keyCertSign')
  return true
}

/**
 * Whether the certificate is a root CA: a CA whose signature verifies with its own key.
 *
 * @param cert - A parsed certificate.
 * @returns `true` for a self-signed CA.
 * @throws {CountersignError} as {@link isCACertificate}.
 * @example
 * ```ts
 * import { isRootCACertificate } from 'countersign/x509'
 * await isRootCACertificate(anchor) // true
 * ```
 *
 * Exported from `countersign/x509`.
 */
export async function isRootCACertificate(cert: Certificate): Promise<boolean> {
  if (!isCACertificate(cert)) return false
  try {
    return await isSignedBy(cert, cert)
  } catch {
    return false
  }
}

/**
 * Whether the certificate is a Sigstore leaf: not a CA, KeyUsage digitalSignature, EKU codeSigning.
 *
 * @param cert - A parsed certificate.
 * @returns `true` for a signing leaf; `false` for a CA or a leaf for another purpose.
 * @throws {CountersignError} as {@link isCACertificate}, and when a non-CA lacks KeyUsage, digitalSignature or
 *   ExtendedKeyUsage.
 * @example
 * ```ts
 * import { isLeafCertificate } from 'countersign/x509'
 * isLeafCertificate(leaf) // true
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function isLeafCertificate(cert: Certificate): boolean {
  requireV3(cert)
  if (isCACertificate(cert)) return false
  if (cert.keyUsage === undefined) invalid('leaf certificate has no KeyUsage')
  if (!cert.keyUsage.digitalSignature) invalid('leaf certificate KeyUsage lacks digitalSignature')
  if (cert.extendedKeyUsage === undefined) invalid('leaf certificate has no ExtendedKeyUsage')
  return cert.extendedKeyUsage.includes(OID_EKU_CODE_SIGNING)
}
