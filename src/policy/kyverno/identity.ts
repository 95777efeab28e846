/**
 * Kyverno's keyless identity check, applied to certificates that already verified: `subject` is a Kyverno wildcard
 * matched against any subject alternative name, `subjectRegExp` an unanchored RE2 pattern (either may match when
 * both are given); `issuer` and `issuerRegExp` must both match when both are given; every `additionalExtensions`
 * value is a wildcard over that Fulcio extension. A certificate without SANs skips the subject check, as Kyverno.
 * @module
 */

import type { Certificate } from '../../x509/certificate.js'
import { FULCIO_EXTENSION_OIDS, fulcioExtensions } from '../../x509/fulcio-extensions.js'
import { compileIdentityRegExp } from '../../x509/identity-sync.js'
import type { KyvernoKeyless } from './types.js'
import { matchKyvernoWildcard } from './wildcard.js'

const EXTENSION_OIDS: Readonly<Record<string, string>> = {
  issuer: '1.3.6.1.4.1.57264.1.1',
  githubWorkflowTrigger: '1.3.6.1.4.1.57264.1.2',
  githubWorkflowSha: '1.3.6.1.4.1.57264.1.3',
  githubWorkflowName: '1.3.6.1.4.1.57264.1.4',
  githubWorkflowRepository: '1.3.6.1.4.1.57264.1.5',
  githubWorkflowRef: '1.3.6.1.4.1.57264.1.6',
}

/**
 * Whether a keyless attestor constrains the identity at all (Kyverno skips the check when it does not).
 *
 * @example
 * ```ts
 * constrainsIdentity({ issuer: 'https://accounts.google.com' }) // true
 * ```
 */
export function constrainsIdentity(k: KyvernoKeyless): boolean {
  return (
    k.subject !== undefined ||
    k.subjectRegExp !== undefined ||
    k.issuer !== undefined ||
    k.issuerRegExp !== undefined ||
    Object.keys(k.additionalExtensions ?? {}).length > 0
  )
}

/**
 * Why `cert` does not satisfy the keyless attestor's identity, or undefined when it does.
 *
 * @example
 * ```ts
 * const why = kyvernoIdentityMismatch(cert, { subject: 'https://github.com/acme/*', issuer: 'https://token.actions.githubusercontent.com' })
 * ```
 */
export function kyvernoIdentityMismatch(cert: Certificate | undefined, k: KyvernoKeyless): string | undefined {
  if (!constrainsIdentity(k)) return undefined
  if (!cert) return 'certificate not found'
  const sans = cert.subjectAltNames.flatMap((s) => ('value' in s && typeof s.value === 'string' ? [s.value] : []))
  if ((k.subject !== undefined || k.subjectRegExp !== undefined) && sans.length > 0) {
    const re = k.subjectRegExp !== undefined ? compileIdentityRegExp(k.subjectRegExp) : undefined
    const ok = sans.some(
      (san) => (k.subject !== undefined && matchKyvernoWildcard(k.subject, san)) || re?.test(san) === true,
    )
    if (!ok) return `subject mismatch: expected ${k.subject ?? k.subjectRegExp}, got ${sans.join(', ')}`
  }
  const ext = fulcioExtensions(cert)
  const issuer = ext.issuerV1 ?? ext.issuer ?? ''
  if (k.issuer !== undefined && !matchKyvernoWildcard(k.issuer, issuer)) {
    return `issuer mismatch: expected ${k.issuer}, got ${issuer}`
  }
  if (k.issuerRegExp !== undefined && !compileIdentityRegExp(k.issuerRegExp).test(issuer)) {
    return `issuer mismatch: expected ${k.issuerRegExp}, got ${issuer}`
  }
  for (const [name, want] of Object.entries(k.additionalExtensions ?? {})) {
    const oid = EXTENSION_OIDS[name] ?? name
    const got = extensionText(cert, oid)
    if (got === undefined || !matchKyvernoWildcard(want, got)) {
      return `extension ${name} mismatch: expected ${want}, got ${got ?? 'none'}`
    }
  }
  return undefined
}

/** A Fulcio extension's value as text (decoded as fulcioExtensions decodes it; other OIDs as raw UTF-8). */
function extensionText(cert: Certificate, oid: string): string | undefined {
  const name = Object.entries(FULCIO_EXTENSION_OIDS).find(([, o]) => o === oid)?.[0]
  if (name !== undefined) return (fulcioExtensions(cert) as Record<string, string | undefined>)[name]
  const raw = cert.extensions.find((e) => e.oid === oid)
  return raw ? new TextDecoder().decode(raw.value) : undefined
}
