/**
 * Identity policy for Fulcio certificates, as sigstore-go (and so cosign v3) applies it: one SAN value (URI, else
 * email, else the Sigstore username otherName), matched exactly or by an unanchored RE2 pattern; the OIDC issuer
 * (extension .1.8, else .1.1) likewise; and optional GitHub workflow claims (cosign's
 * `--certificate-github-workflow-*`, which read the v1 extensions .1.2 – .1.6).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { type Certificate, OID_OTHERNAME_SIGSTORE_USERNAME } from './certificate.js'
import { fulcioExtensions } from './fulcio-extensions.js'
import { compileRE2 } from './re2.js'

/**
 * What a certificate must show. Give `subject` or `subjectRegExp` (or both: both must match), and likewise for the
 * issuer; a policy with no subject or no issuer constraint is refused unless `allowAnySubject` / `allowAnyIssuer`
 * says so explicitly (fail closed). Regexps are Go RE2 syntax and unanchored, like cosign's `*-regexp` flags.
 *
 * Exported from `countersign/x509`.
 */
export interface IdentityPolicy {
  /** `--certificate-identity`: the exact SAN value. */
  readonly subject?: string
  /** `--certificate-identity-regexp`. */
  readonly subjectRegExp?: string
  /** `--certificate-oidc-issuer`: the exact issuer URL. */
  readonly issuer?: string
  /** `--certificate-oidc-issuer-regexp`. */
  readonly issuerRegExp?: string
  /** `--certificate-github-workflow-trigger` (extension .1.2). */
  readonly githubWorkflowTrigger?: string
  /** `--certificate-github-workflow-sha` (.1.3). */
  readonly githubWorkflowSha?: string
  /** `--certificate-github-workflow-name` (.1.4). */
  readonly githubWorkflowName?: string
  /** `--certificate-github-workflow-repository` (.1.5). */
  readonly githubWorkflowRepository?: string
  /** `--certificate-github-workflow-ref` (.1.6). */
  readonly githubWorkflowRef?: string
  /** Accept any SAN (only for callers that check identity elsewhere). Default false. */
  readonly allowAnySubject?: boolean
  /** Accept any issuer. Default false. */
  readonly allowAnyIssuer?: boolean
}

/**
 * The identity a certificate was issued to.
 *
 * Exported from `countersign/x509`.
 */
export interface CertificateIdentity {
  /** The SAN value policies match: URI, else email, else Sigstore username otherName. */
  readonly subject: string
  /** Which kind of SAN `subject` came from. */
  readonly subjectType: 'uri' | 'email' | 'otherName'
  /** OIDC issuer (.1.8, else .1.1), or undefined when the certificate has none. */
  readonly issuer: string | undefined
}

/**
 * The identity of a Fulcio certificate (sigstore-go `SummarizeCertificate` order: first URI SAN, else first email
 * SAN, else the username otherName).
 *
 * @param cert - A parsed certificate.
 * @returns Subject and issuer.
 * @throws {CountersignError} ERR_POLICY_DENIED when the certificate has no usable SAN.
 * @example
 * ```ts
 * import { certificateIdentity } from 'countersign/x509'
 * const { subject, issuer } = certificateIdentity(leaf)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function certificateIdentity(cert: Certificate): CertificateIdentity {
  const issuer = fulcioExtensions(cert).issuer
  const uri = cert.subjectAltNames.find((n) => n.type === 'uri')
  if (uri?.type === 'uri') return Object.freeze({ subject: uri.value, subjectType: 'uri', issuer })
  const email = cert.subjectAltNames.find((n) => n.type === 'email')
  if (email?.type === 'email') return Object.freeze({ subject: email.value, subjectType: 'email', issuer })
  for (const n of cert.subjectAltNames) {
    if (n.type === 'otherName' && n.oid === OID_OTHERNAME_SIGSTORE_USERNAME && n.value !== undefined) {
      return Object.freeze({ subject: n.value, subjectType: 'otherName', issuer })
    }
  }
  throw new CountersignError('ERR_POLICY_DENIED', 'certificate has no subject alternative name to match', {
    details: { check: 'identity', reasons: [{ rule: 'subject', message: 'no usable SAN' }] },
  })
}

// Compiled patterns, shared across calls: a reusable verifier checks the same policy many times.
const patternCache = new Map<string, RegExp>()

/**
 * Compile a Go RE2 pattern to a JavaScript RegExp with the same meaning (unanchored). Patterns RE2 would reject
 * (look-arounds, backreferences) and RE2 features without a faithful translation are refused.
 *
 * @param pattern - Go `regexp` syntax.
 * @returns A RegExp to use with `test()`.
 * @throws {CountersignError} ERR_INVALID_INPUT with `details.reason` `re2-incompatible` or `invalid-regexp`.
 * @example
 * ```ts
 * import { compileIdentityRegExp } from 'countersign/x509'
 * compileIdentityRegExp('^https://github.com/acme/').test(subject)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function compileIdentityRegExp(pattern: string): RegExp {
  let re = patternCache.get(pattern)
  if (re === undefined) {
    re = compileRE2(pattern)
    if (patternCache.size > 256) patternCache.clear()
    patternCache.set(pattern, re)
  }
  // A fresh lastIndex is irrelevant without the g/y flags, which compileRE2 never sets.
  return re
}

function matches(value: string | undefined, exact: string | undefined, pattern: string | undefined): boolean {
  if (value === undefined) return false
  if (exact !== undefined && value !== exact) return false
  if (pattern !== undefined && !compileIdentityRegExp(pattern).test(value)) return false
  return true
}

const GITHUB_CLAIMS = [
  'githubWorkflowTrigger',
  'githubWorkflowSha',
  'githubWorkflowName',
  'githubWorkflowRepository',
  'githubWorkflowRef',
] as const

/**
 * Check a certificate against an identity policy. Every failed rule is reported (in `details.reasons`), not just
 * the first. Invalid patterns are reported before any matching.
 *
 * @param cert - The (chain-verified) leaf certificate.
 * @param policy - Expected subject, issuer and GitHub claims.
 * @returns The certificate's identity.
 * @throws {CountersignError} ERR_POLICY_DENIED (`details.check` = `identity`) when a rule fails; ERR_INVALID_INPUT
 *   for an RE2-incompatible pattern or a policy without subject/issuer constraints.
 * @example
 * ```ts
 * import { checkIdentity } from 'countersign/x509'
 * checkIdentity(leaf, {
 *   subjectRegExp: '^https://github.com/acme/app/',
 *   issuer: 'https://token.actions.githubusercontent.com',
 * })
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function checkIdentity(cert: Certificate, policy: IdentityPolicy): CertificateIdentity {
  if (typeof policy !== 'object' || policy === null) throw new TypeError('policy must be an object')
  const { subject, subjectRegExp, issuer, issuerRegExp } = policy
  if (subject === undefined && subjectRegExp === undefined && policy.allowAnySubject !== true) {
    throw new CountersignError('ERR_INVALID_INPUT', 'identity policy needs a subject or subject regexp')
  }
  if (issuer === undefined && issuerRegExp === undefined && policy.allowAnyIssuer !== true) {
    throw new CountersignError('ERR_INVALID_INPUT', 'identity policy needs an issuer or issuer regexp')
  }
  if (subjectRegExp !== undefined) compileIdentityRegExp(subjectRegExp)
  if (issuerRegExp !== undefined) compileIdentityRegExp(issuerRegExp)

  const identity = certificateIdentity(cert)
  const reasons: { rule: string; message: string }[] = []
  if ((subject !== undefined || subjectRegExp !== undefined) && !matches(identity.subject, subject, subjectRegExp)) {
    reasons.push({
      rule: 'subject',
      message: `certificate identity ${JSON.stringify(identity.subject)} does not match ${JSON.stringify(subject ?? subjectRegExp)}`,
    })
  }
  if ((issuer !== undefined || issuerRegExp !== undefined) && !matches(identity.issuer, issuer, issuerRegExp)) {
    reasons.push({
      rule: 'issuer',
      message: `certificate issuer ${JSON.stringify(identity.issuer ?? null)} does not match ${JSON.stringify(issuer ?? issuerRegExp)}`,
    })
  }
  const ext = fulcioExtensions(cert)
  for (const claim of GITHUB_CLAIMS) {
    const expected = policy[claim]
    if (expected !== undefined && ext[claim] !== expected) {
      reasons.push({
        rule: claim,
        message: `${claim} ${JSON.stringify(ext[claim] ?? null)} is not ${JSON.stringify(expected)}`,
      })
    }
  }
  if (reasons.length > 0) {
    throw new CountersignError('ERR_POLICY_DENIED', reasons.map((r) => r.message).join('; '), {
      details: { check: 'identity', reasons },
    })
  }
  return identity
}
