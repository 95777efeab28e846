/**
 * Identity policy for Fulcio certificates, as sigstore-go (and so cosign v3) applies it: one SAN value (URI, else
 * email, else the Sigstore username otherName), matched exactly or by an unanchored RE2 pattern; the OIDC issuer
 * (extension .1.8, else .1.1) likewise; and optional GitHub workflow claims (cosign's
 * `--certificate-github-workflow-*`, which read the v1 extensions .1.2 – .1.6).
 *
 * Regexps run on RE2 (re2js), loaded on demand: async callers `await loadIdentityRegExps(policy)` before the
 * synchronous checks here; the `countersign/x509` entry points (identity-sync.ts) bring the engine in statically.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import { type Certificate, OID_OTHERNAME_SIGSTORE_USERNAME } from './certificate.js'
import { fulcioExtensions } from './fulcio-extensions.js'
import { compileRE2, loadRE2Engine } from './re2.js'

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

/**
 * Longest SAN or issuer value a regexp is matched against, in characters; a longer value fails the rule (fail
 * closed) without running the pattern. RE2 is linear in the input, but with a large pattern the constant is large,
 * and a certificate is attacker-supplied. 8 KiB is the common HTTP request-line limit (Apache's LimitRequestLine
 * 8190, nginx's 8k header buffers), above any real workflow URI or e-mail (RFC 5321: 254). Exact values are
 * compared whatever their length.
 *
 * @example
 * ```ts
 * if (subject.length > MAX_MATCHED_IDENTITY_LENGTH) deny()
 * ```
 */
export const MAX_MATCHED_IDENTITY_LENGTH = 8192

/**
 * Load the RE2 engine when `policy` has a subject or issuer regexp, so that `checkIdentity` and
 * `compileIdentityRegExp` can run synchronously afterwards. Verifiers call it only when a certificate is to be
 * checked, so key-based verification never loads re2js.
 *
 * @param policy - The identity policy about to be checked, if any.
 * @example
 * ```ts
 * await loadIdentityRegExps(options.identity)
 * checkIdentity(leaf, options.identity)
 * ```
 */
export async function loadIdentityRegExps(policy: IdentityPolicy | undefined): Promise<void> {
  if (policy?.subjectRegExp !== undefined || policy?.issuerRegExp !== undefined) await loadRE2Engine()
}

// Compiled patterns, shared across calls: a reusable verifier checks the same policy many times.
const patternCache = new Map<string, RegExp>()

/**
 * Compile a Go RE2 pattern to a RegExp that RE2 runs (unanchored, like Go's `MatchString`), cached. The engine must
 * be loaded (`loadIdentityRegExps`); the public form in identity-sync.ts loads it itself.
 *
 * @param pattern - Go `regexp` syntax.
 * @returns A RegExp to use with `test()`.
 * @throws {CountersignError} ERR_INVALID_INPUT with `details.reason` `re2-incompatible` or `invalid-regexp`.
 * @example
 * ```ts
 * await loadIdentityRegExps({ subjectRegExp: '^https://github.com/acme/' })
 * compileIdentityRegExp('^https://github.com/acme/').test(subject)
 * ```
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

/**
 * Whether an identity value matches a policy regexp: false, without matching, when it is longer than
 * `MAX_MATCHED_IDENTITY_LENGTH`. The engine must be loaded.
 *
 * @param value - A SAN or issuer from a certificate.
 * @param pattern - Go `regexp` syntax.
 * @returns True when RE2 finds the pattern in the value.
 * @example
 * ```ts
 * identityRegExpMatches('https://github.com/acme/app', '^https://github.com/acme/') // true
 * ```
 */
export function identityRegExpMatches(value: string, pattern: string): boolean {
  return value.length <= MAX_MATCHED_IDENTITY_LENGTH && compileIdentityRegExp(pattern).test(value)
}

type Verdict = 'match' | 'mismatch' | 'too-long'

function matches(value: string | undefined, exact: string | undefined, pattern: string | undefined): Verdict {
  if (value === undefined) return 'mismatch'
  if (exact !== undefined && value !== exact) return 'mismatch'
  if (pattern === undefined) return 'match'
  if (value.length > MAX_MATCHED_IDENTITY_LENGTH) return 'too-long'
  return compileIdentityRegExp(pattern).test(value) ? 'match' : 'mismatch'
}

function mismatch(what: string, value: string | null, verdict: Verdict, expected: string | undefined): string {
  return verdict === 'too-long'
    ? `${what} ${quoteClipped(value)} is longer than ${MAX_MATCHED_IDENTITY_LENGTH} characters, too long to match ${JSON.stringify(expected)}`
    : `${what} ${quoteClipped(value)} does not match ${JSON.stringify(expected)}`
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
 * the first. Invalid patterns are reported before any matching. A policy with regexps needs the engine loaded
 * (`loadIdentityRegExps`); the public form in identity-sync.ts loads it itself.
 *
 * @param cert - The (chain-verified) leaf certificate.
 * @param policy - Expected subject, issuer and GitHub claims.
 * @returns The certificate's identity.
 * @throws {CountersignError} ERR_POLICY_DENIED (`details.check` = `identity`) when a rule fails (a SAN or issuer
 *   longer than `MAX_MATCHED_IDENTITY_LENGTH` fails a regexp rule); ERR_INVALID_INPUT for a pattern RE2 refuses or
 *   a policy without subject/issuer constraints.
 * @example
 * ```ts
 * const policy = {
 *   subjectRegExp: '^https://github.com/acme/app/',
 *   issuer: 'https://token.actions.githubusercontent.com',
 * }
 * await loadIdentityRegExps(policy)
 * checkIdentity(leaf, policy)
 * ```
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
  if (subject !== undefined || subjectRegExp !== undefined) {
    const verdict = matches(identity.subject, subject, subjectRegExp)
    if (verdict !== 'match') {
      const expected = verdict === 'too-long' ? subjectRegExp : (subject ?? subjectRegExp)
      reasons.push({ rule: 'subject', message: mismatch('certificate identity', identity.subject, verdict, expected) })
    }
  }
  if (issuer !== undefined || issuerRegExp !== undefined) {
    const verdict = matches(identity.issuer, issuer, issuerRegExp)
    if (verdict !== 'match') {
      const expected = verdict === 'too-long' ? issuerRegExp : (issuer ?? issuerRegExp)
      reasons.push({
        rule: 'issuer',
        message: mismatch('certificate issuer', identity.issuer ?? null, verdict, expected),
      })
    }
  }
  const ext = fulcioExtensions(cert)
  for (const claim of GITHUB_CLAIMS) {
    const expected = policy[claim]
    if (expected !== undefined && ext[claim] !== expected) {
      reasons.push({
        rule: claim,
        message: `${claim} ${quoteClipped(ext[claim] ?? null)} is not ${JSON.stringify(expected)}`,
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
