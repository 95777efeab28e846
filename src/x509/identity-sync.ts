/**
 * The synchronous identity checks of `countersign/x509` (and of policy parsing): they import re2js statically and
 * hand it to the RE2 compiler before running, so callers need not await anything. The verifiers use the lazy forms
 * in identity.ts instead, so that `countersign/verify` loads re2js only when a policy has a regexp.
 *
 * @module
 */
import { RE2JS } from 're2js'
import type { Certificate } from './certificate.js'
import {
  type CertificateIdentity,
  checkIdentity as checkWithEngine,
  compileIdentityRegExp as compileWithEngine,
  type IdentityPolicy,
} from './identity.js'
import { useRE2Engine } from './re2.js'

/**
 * Compile a Go RE2 pattern to a RegExp that RE2 runs, so matching takes time linear in the input (a backtracking
 * `^(a+)+$` on 34 a's and a `!` would run for over an hour). `test` is Go's unanchored `MatchString`; `exec`,
 * `match`, `search` and `replace` work too, `split` and `matchAll` throw. Every pattern Go's `regexp` accepts is
 * accepted, with Go's meaning (`(?i)`, `(?U)`, `(?P<name>…)`, `\pL`, `\Q…\E`, `[[:alpha:]]`, …); patterns Go
 * refuses (look-arounds, backreferences) are refused.
 *
 * @param pattern - Go `regexp` syntax.
 * @returns A RegExp to use with `test()`; its `source` is `pattern`.
 * @throws {CountersignError} ERR_INVALID_INPUT with `details.reason` `re2-incompatible` (look-around,
 *   backreference) or `invalid-regexp` (anything else RE2 refuses).
 * @example
 * ```ts
 * import { compileIdentityRegExp } from 'countersign/x509'
 * compileIdentityRegExp('^https://github.com/acme/').test(subject)
 * ```
 *
 * Exported from `countersign/x509`.
 */
export function compileIdentityRegExp(pattern: string): RegExp {
  useRE2Engine(RE2JS)
  return compileWithEngine(pattern)
}

/**
 * Check a certificate against an identity policy. Every failed rule is reported (in `details.reasons`), not just
 * the first. Invalid patterns are reported before any matching. Regexps are Go RE2, unanchored, matched in linear
 * time; a SAN or issuer longer than 8192 characters fails a regexp rule without being matched.
 *
 * @param cert - The (chain-verified) leaf certificate.
 * @param policy - Expected subject, issuer and GitHub claims.
 * @returns The certificate's identity.
 * @throws {CountersignError} ERR_POLICY_DENIED (`details.check` = `identity`) when a rule fails; ERR_INVALID_INPUT
 *   for a pattern RE2 refuses or a policy without subject/issuer constraints.
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
  useRE2Engine(RE2JS)
  return checkWithEngine(cert, policy)
}
