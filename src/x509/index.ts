/**
 * X.509 for Sigstore: parse certificates, verify chains to the trusted root's Fulcio CAs at a signed time, read
 * Fulcio extensions, check identity policies (SAN and issuer, exact or Go-RE2 regexp, GitHub claims), and verify
 * embedded Certificate Transparency SCTs. Pure core: Web Crypto only, no I/O.
 *
 * Exported from `countersign/x509`.
 * @module
 */
export {
  type BasicConstraints,
  type Certificate,
  type CertificateExtension,
  type DistinguishedName,
  getExtension,
  isCertificateValidAt,
  type KeyUsage,
  OID_EKU_CODE_SIGNING,
  OID_OTHERNAME_SIGSTORE_USERNAME,
  parseCertificate,
  parseCertificatePEM,
  type SubjectAltName,
} from './certificate.js'
export { type VerifiedChain, type VerifyCertificateChainOptions, verifyCertificateChain } from './chain.js'
export {
  certificateIssuer,
  FULCIO_EXTENSION_OIDS,
  type FulcioExtensions,
  fulcioExtensions,
} from './fulcio-extensions.js'
export { type CertificateIdentity, certificateIdentity, type IdentityPolicy } from './identity.js'
export { checkIdentity, compileIdentityRegExp } from './identity-sync.js'
export { isCACertificate, isLeafCertificate, isRootCACertificate } from './profile.js'
export {
  checkSCTThreshold,
  embeddedSCTs,
  OID_CT_POISON,
  OID_SCT_LIST,
  parseSCT,
  parseSCTList,
  precertificateEntry,
  type SCTEntry,
  type SCTResult,
  type SignedCertificateTimestamp,
  type VerifyEmbeddedSCTsOptions,
  verifyEmbeddedSCTs,
  verifySCT,
} from './sct.js'
