/**
 * Certificate path validation for Sigstore: from a leaf to a certificate authority of the trusted root, at one
 * observer time (the verified signing time, not "now"). The only trust anchors are the trusted root's CA chains,
 * compared byte-for-byte; certificates a bundle carries are never trusted on their own. One verifier serves Fulcio
 * signing certificates (EKU codeSigning) and timestamp authority chains (EKU timeStamping), as in sigstore-go's
 * `pkg/verify/certificate.go` and `pkg/verify/tsa.go`, which both end in Go's `x509.Verify`.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { equalBytes } from '../internal/bytes.js'
import type { SignatureBackend } from '../keys/verify.js'
import type { CertificateAuthority } from '../trust/trusted-root.js'
import { selectCertificateAuthorities } from '../trust/trusted-root.js'
import {
  type Certificate,
  isCertificateValidAt,
  OID_AUTHORITY_KEY_IDENTIFIER,
  OID_BASIC_CONSTRAINTS,
  OID_EKU_CODE_SIGNING,
  OID_EKU_TIME_STAMPING,
  OID_EXTENDED_KEY_USAGE,
  OID_KEY_USAGE,
  OID_SUBJECT_ALT_NAME,
  OID_SUBJECT_KEY_IDENTIFIER,
  parseCertificate,
} from './certificate.js'
import { isSignedBy } from './signature.js'

const OID_ANY_EKU = '2.5.29.37.0'
const OID_CERTIFICATE_POLICIES = '2.5.29.32'

// How messages name a purpose: the EKU's name and what an issuer's EKU list must allow.
const PURPOSES: Readonly<Record<string, { readonly eku: string; readonly activity: string }>> = {
  [OID_EKU_CODE_SIGNING]: { eku: 'codeSigning', activity: 'code signing' },
  [OID_EKU_TIME_STAMPING]: { eku: 'timeStamping', activity: 'time stamping' },
}

function purposeNames(oid: string): { readonly eku: string; readonly activity: string } {
  return Object.hasOwn(PURPOSES, oid) ? PURPOSES[oid]! : { eku: oid, activity: `extended key usage ${oid}` }
}

// Critical extensions path validation understands. Anything else critical (name constraints, the CT poison of a
// precertificate, private extensions) makes the certificate unusable, as in Go's x509.Verify.
const HANDLED_CRITICAL: ReadonlySet<string> = /* @__PURE__ */ new Set([
  OID_KEY_USAGE,
  OID_BASIC_CONSTRAINTS,
  OID_SUBJECT_ALT_NAME,
  OID_EXTENDED_KEY_USAGE,
  OID_SUBJECT_KEY_IDENTIFIER,
  OID_AUTHORITY_KEY_IDENTIFIER,
  OID_CERTIFICATE_POLICIES,
])

/**
 * Options for {@link verifyCertificateChain}.
 *
 * Exported from `countersign/x509`.
 */
export interface VerifyCertificateChainOptions {
  /** The observer time every certificate (and the CA's `validFor`) must cover. */
  readonly time: Date
  /**
   * Certificates the bundle carried after the leaf (v0.1/v0.2 `x509CertificateChain`). They add no trust: each
   * must be a certificate of the verified path (so a bundle may repeat the trusted intermediate and root, but a
   * foreign root or intermediate fails).
   */
  readonly intermediates?: readonly Certificate[]
  /** Signature primitives (default Web Crypto; `nodeSignatureBackend` from `countersign/node` in Node). */
  readonly signatureBackend?: SignatureBackend | undefined
  /**
   * The extended key usage the path is for (dotted OID; default id-kp-codeSigning, a Fulcio leaf). The leaf must
   * list it, and every issuer that restricts its EKUs must allow it or anyExtendedKeyUsage (Go's `KeyUsages`).
   * A timestamp authority chain passes id-kp-timeStamping, `1.3.6.1.5.5.7.3.8`.
   */
  readonly extendedKeyUsage?: string | undefined
}

/**
 * A verified path.
 *
 * Exported from `countersign/x509`.
 */
export interface VerifiedChain {
  /** Leaf first, trust anchor (the CA chain's last certificate) last. */
  readonly path: readonly Certificate[]
  /** The trusted-root CA the path ends in. */
  readonly authority: CertificateAuthority
}

type Reason =
  | 'leaf-profile'
  | 'ca-profile'
  | 'issuer-mismatch'
  | 'signature'
  | 'path-length'
  | 'no-authority-valid-at-time'
  | 'untrusted-issuer'
  | 'bundle-chain-mismatch'
  | 'unsupported-algorithm'
  | 'not-valid-at-time'

function chainError(reason: Reason, message: string, extra?: Record<string, unknown>): CountersignError {
  return new CountersignError('ERR_CERT_CHAIN_INVALID', message, { details: { check: 'chain', reason, ...extra } })
}

function expiredError(cert: Certificate, role: string, time: Date): CountersignError {
  return new CountersignError(
    'ERR_CERT_EXPIRED',
    `${role} certificate is not valid at ${time.toISOString()} (valid ${cert.notBefore.toISOString()} – ${cert.notAfter.toISOString()})`,
    {
      details: {
        check: 'chain',
        reason: 'not-valid-at-time',
        certificate: role,
        time: time.toISOString(),
        notBefore: cert.notBefore.toISOString(),
        notAfter: cert.notAfter.toISOString(),
      },
    },
  )
}

function unhandledCritical(cert: Certificate): string | undefined {
  return cert.extensions.find((e) => e.critical && !HANDLED_CRITICAL.has(e.oid))?.oid
}

/** Leaf requirements: a v3 end-entity certificate for the purpose `eku` (code signing unless told otherwise). */
function checkLeafProfile(leaf: Certificate, eku: string): void {
  if (leaf.version !== 3) throw chainError('leaf-profile', 'leaf certificate is not X.509 v3')
  if (leaf.basicConstraints?.ca === true) throw chainError('leaf-profile', 'leaf certificate is a CA certificate')
  if (!leaf.extendedKeyUsage?.includes(eku)) {
    throw chainError('leaf-profile', `leaf certificate lacks the ${purposeNames(eku).eku} extended key usage`)
  }
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.digitalSignature) {
    throw chainError('leaf-profile', 'leaf certificate key usage lacks digitalSignature')
  }
  const critical = unhandledCritical(leaf)
  if (critical !== undefined)
    throw chainError('leaf-profile', `leaf certificate has unhandled critical extension ${critical}`)
}

/** CA requirements: v3, critical-or-not BasicConstraints cA, keyCertSign, an EKU (if any) allowing `eku`. */
function checkCAProfile(ca: Certificate, below: number, eku: string): void {
  // A getter: the subject's text is rendered only when a message needs it.
  const name = { toString: () => ca.subject.text || '(empty subject)' }
  if (ca.version !== 3 || ca.basicConstraints?.ca !== true) {
    throw chainError('ca-profile', `issuing certificate ${name} is not a CA certificate`)
  }
  if (ca.keyUsage === undefined || !ca.keyUsage.keyCertSign) {
    throw chainError('ca-profile', `issuing certificate ${name} may not sign certificates (keyCertSign)`)
  }
  const allowed = ca.extendedKeyUsage
  if (allowed !== undefined && !allowed.includes(eku) && !allowed.includes(OID_ANY_EKU)) {
    throw chainError('ca-profile', `issuing certificate ${name} does not allow ${purposeNames(eku).activity}`)
  }
  const pathLen = ca.basicConstraints.pathLenConstraint
  if (pathLen !== undefined && below > pathLen) {
    throw chainError(
      'path-length',
      `issuing certificate ${name} allows ${pathLen} intermediates below it, found ${below}`,
    )
  }
  const critical = unhandledCritical(ca)
  if (critical !== undefined)
    throw chainError('ca-profile', `issuing certificate ${name} has unhandled critical extension ${critical}`)
}

function namesChain(child: Certificate, parent: Certificate): boolean {
  if (!equalBytes(child.issuer.raw, parent.subject.raw)) return false
  // When both identifiers are present they must agree (RFC 5280 §4.2.1.1); this also picks the right key when a CA
  // was re-keyed under the same name.
  if (child.authorityKeyId !== undefined && parent.subjectKeyId !== undefined) {
    return equalBytes(child.authorityKeyId, parent.subjectKeyId)
  }
  return true
}

// The one parse of every trusted-root chain (Fulcio and TSA authorities alike), keyed by the root's own object.
const authorityCache = new WeakMap<CertificateAuthority, readonly Certificate[] | CountersignError>()

/**
 * The certificates of a trusted-root authority's `certChain`, parsed once per authority object (the issuer cache
 * the Fulcio and timestamp chain checks share; the per-pair signature cache is keyed by these objects).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when a certificate of the chain does not parse (remembered).
 * @example
 * ```ts
 * const [tsaLeaf, ...issuers] = authorityCertificates(trustedRoot.timestampAuthorities[0]!)
 * ```
 */
export function authorityCertificates(ca: CertificateAuthority): readonly Certificate[] {
  let certs = authorityCache.get(ca)
  if (certs === undefined) {
    try {
      certs = Object.freeze(ca.certChain.map((der) => parseCertificate(der)))
    } catch (cause) {
      certs = new CountersignError('ERR_INVALID_INPUT', `trusted root CA ${ca.uri} has a malformed certificate`, {
        cause,
      })
    }
    authorityCache.set(ca, certs)
  }
  if (certs instanceof CountersignError) throw certs
  return certs
}

const signatureCache = new WeakMap<Certificate, WeakMap<Certificate, Promise<boolean>>>()

function signedBy(child: Certificate, parent: Certificate, backend: SignatureBackend | undefined): Promise<boolean> {
  let perParent = signatureCache.get(child)
  if (!perParent) {
    perParent = new WeakMap()
    signatureCache.set(child, perParent)
  }
  let result = perParent.get(parent)
  if (!result) {
    result = isSignedBy(child, parent, backend)
    // A rejected promise (unsupported algorithm) is not cached, so a transient failure is not remembered.
    result.catch(() => perParent.delete(parent))
    perParent.set(parent, result)
  }
  return result
}

/**
 * Start checking the leaf's signature before the observer time is known: against the first certificate of each
 * trusted-root CA (valid when the leaf was) that names the leaf's issuer. For a Fulcio leaf that is a P-384 verify,
 * by far the costliest step of a bundle, so starting it first lets it run while the log entries are checked.
 * {@link verifyCertificateChain} later finds the outcome in the per-pair cache (keyed by this leaf object, so
 * nothing is kept across bundles). Purely an optimisation: it decides nothing and reports no error.
 *
 * @returns The candidate issuers (distinct certificates), for callers that want to start issuer-dependent work too.
 */
export function prefetchLeafSignature(
  leaf: Certificate,
  authorities: readonly CertificateAuthority[],
  backend?: SignatureBackend,
): Certificate[] {
  const started: Certificate[] = []
  const candidates = new Set([
    ...selectCertificateAuthorities(authorities, leaf.notBefore),
    ...selectCertificateAuthorities(authorities, leaf.notAfter),
  ])
  for (const ca of candidates) {
    let certs: readonly Certificate[]
    try {
      certs = authorityCertificates(ca)
    } catch {
      continue
    }
    const issuer = certs.find((c) => namesChain(leaf, c))
    if (issuer === undefined || started.some((c) => equalBytes(c.raw, issuer.raw))) continue
    started.push(issuer)
    signedBy(leaf, issuer, backend).catch(() => undefined)
  }
  return started
}

async function verifyLink(
  child: Certificate,
  parent: Certificate,
  childRole: string,
  backend: SignatureBackend | undefined,
): Promise<void> {
  let ok: boolean
  try {
    ok = await signedBy(child, parent, backend)
  } catch (cause) {
    if (cause instanceof CountersignError && cause.code !== 'ERR_INVALID_INPUT') {
      throw new CountersignError('ERR_CERT_CHAIN_INVALID', `${childRole} certificate signature cannot be checked`, {
        cause,
        details: { check: 'chain', reason: 'unsupported-algorithm' },
      })
    }
    throw cause
  }
  if (!ok) throw chainError('signature', `${childRole} certificate signature does not verify with its issuer's key`)
}

/** Try one CA: the leaf must be issued by some certificate of its chain, and the chain continue to the anchor. */
async function pathThrough(
  leaf: Certificate,
  ca: CertificateAuthority,
  time: Date,
  eku: string,
  backend: SignatureBackend | undefined,
): Promise<Certificate[]> {
  const certs = authorityCertificates(ca)
  const start = certs.findIndex((c) => namesChain(leaf, c))
  if (start === -1) throw chainError('untrusted-issuer', `leaf certificate was not issued by CA ${ca.uri}`)
  const path = [leaf, ...certs.slice(start)]
  for (let k = 1; k < path.length; k++) {
    const cert = path[k]!
    const role = k === path.length - 1 ? 'root' : 'intermediate'
    checkCAProfile(cert, k - 1, eku)
    if (!isCertificateValidAt(cert, time)) throw expiredError(cert, role, time)
    if (k < path.length - 1 && !namesChain(cert, path[k + 1]!)) {
      throw chainError('issuer-mismatch', `trusted root CA ${ca.uri} chain is out of order`)
    }
  }
  // Cheapest first: the CA-internal links are cached across calls, so usually only the leaf link costs a verify.
  for (let k = path.length - 2; k >= 0; k--) {
    await verifyLink(path[k]!, path[k + 1]!, k === 0 ? 'leaf' : 'intermediate', backend)
  }
  return path
}

/**
 * Verify a leaf certificate's chain to a CA of the trusted root at `options.time`.
 *
 * Checks: the leaf is a v3 non-CA with EKU codeSigning, or `options.extendedKeyUsage` (and digitalSignature when
 * KeyUsage is present), no unhandled critical extension; the CA's `validFor` covers the time; every certificate of
 * the path is valid at the time; issuer/subject names match byte-for-byte and AKI/SKI agree; every issuer is a CA
 * with keyCertSign, within its pathLenConstraint and (if it has an EKU) allowed to issue certificates for that
 * purpose; every signature verifies. The anchor is the CA chain's last certificate, trusted because it is in the
 * root, not because it is self-signed. Bundle-supplied `intermediates` must each be a certificate of the verified
 * path. A timestamp authority's `certChain` may start with the TSA's own certificate: passed as the leaf, its path
 * continues with the certificates after it.
 *
 * @param leaf - The signing certificate.
 * @param authorities - `trustedRoot.certificateAuthorities` (or one timestamp authority).
 * @param options - Observer time, bundle-supplied certificates, purpose.
 * @returns The verified path (leaf first) and its authority.
 * @throws {CountersignError} ERR_CERT_EXPIRED when the leaf (or a CA certificate) is outside its validity at the
 *   time; ERR_CERT_CHAIN_INVALID otherwise (`details.check` = `chain`, `details.reason` says which rule).
 * @example
 * ```ts
 * import { parseCertificate, verifyCertificateChain } from 'countersign/x509'
 * const leaf = parseCertificate(bundleCertDer)
 * const { path } = await verifyCertificateChain(leaf, root.certificateAuthorities, { time: signedTime })
 * ```
 *
 * Exported from `countersign/x509`.
 */
export async function verifyCertificateChain(
  leaf: Certificate,
  authorities: readonly CertificateAuthority[],
  options: VerifyCertificateChainOptions,
): Promise<VerifiedChain> {
  const time = options?.time
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw new TypeError('options.time must be a valid Date')
  const eku = options.extendedKeyUsage ?? OID_EKU_CODE_SIGNING
  checkLeafProfile(leaf, eku)
  if (!isCertificateValidAt(leaf, time)) throw expiredError(leaf, 'leaf', time)

  const candidates = selectCertificateAuthorities(authorities, time)
  if (candidates.length === 0) {
    throw chainError(
      'no-authority-valid-at-time',
      `no certificate authority of the trusted root is valid at ${time.toISOString()}`,
    )
  }
  let best: unknown
  for (const ca of candidates) {
    let path: Certificate[]
    try {
      path = await pathThrough(leaf, ca, time, eku, options.signatureBackend)
    } catch (error) {
      // Keep the most specific failure: any error from a CA that did issue the leaf beats "not issued by this CA".
      const reason = (error as CountersignError).details?.reason
      if (best === undefined || reason !== 'untrusted-issuer') best = error
      continue
    }
    for (const extra of options.intermediates ?? []) {
      if (!path.slice(1).some((c) => equalBytes(c.raw, extra.raw))) {
        const selfIssued = equalBytes(extra.issuer.raw, extra.subject.raw)
        throw chainError(
          'bundle-chain-mismatch',
          selfIssued
            ? `bundle certificate chain contains a root certificate (${extra.subject.text}) that is not the trusted root's`
            : `bundle certificate chain contains ${extra.subject.text || 'a certificate'}, which is not in the trusted root's chain`,
        )
      }
    }
    return Object.freeze({ path: Object.freeze(path), authority: ca })
  }
  throw best
}
