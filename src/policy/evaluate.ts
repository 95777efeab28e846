/**
 * The decision, from policies and what verification established about each authority (pure: no I/O). Semantics as
 * policy-controller's webhook: every policy whose globs match must pass; within a policy one authority is enough;
 * an authority with attestations needs every listed attestation (verified, of its predicate type, its condition
 * true); a warn-mode policy's failure is a warning; an image that matches nothing follows `noMatchPolicy`.
 * @module
 */
import { PREDICATE_TYPE_ALIASES } from '../attestation/predicates.js'
import { isCountersignError } from '../errors.js'
import { boundedJoin, quoteClipped } from '../internal/bounded-text.js'
import { celConditionFor } from './cel.js'
import { matchImageGlob } from './glob.js'
import type {
  AuthorityOutcome,
  ClusterImagePolicy,
  NoMatchPolicy,
  PolicyAuthority,
  PolicyCheck,
  PolicyCondition,
  PolicyDecision,
  PolicyOutcome,
  PolicyReason,
} from './types.js'

/**
 * A verified signature that satisfied an authority (for keyless: one of its identities).
 *
 * Exported from `countersign/policy`.
 */
export interface SignatureFact {
  readonly format: 'bundle' | 'legacy'
  /** Digest of the signature layer or bundle blob. */
  readonly id: string
  readonly subject?: string
  readonly issuer?: string
}

/**
 * A verified attestation of an authority's signer, with its statement as plain JSON.
 *
 * Exported from `countersign/policy`.
 */
export interface AttestationFact extends SignatureFact {
  readonly predicateType: string
  /** The in-toto statement as decoded JSON (`_type`, `subject`, `predicateType`, `predicate`). */
  readonly statement: unknown
}

/**
 * What verification established for one authority (`undefined` = not verified, which fails closed).
 *
 * Exported from `countersign/policy`.
 */
export interface AuthorityFacts {
  /** Signatures that verified and matched (authorities without attestations). */
  readonly signatures?: readonly SignatureFact[]
  /** Attestations that verified and matched (authorities with attestations). */
  readonly attestations?: readonly AttestationFact[]
  /** Why verification failed or could not run. */
  readonly failure?: { readonly check: PolicyCheck; readonly message: string }
  /** Notes that become warnings (ignored fields, weaker checks than asked). */
  readonly notes?: readonly string[]
}

/**
 * Facts per policy name, one entry per authority (by index).
 *
 * Exported from `countersign/policy`.
 */
export type PolicyFacts = Readonly<Record<string, readonly (AuthorityFacts | undefined)[]>>

/**
 * Options for {@link evaluatePolicy}.
 *
 * Exported from `countersign/policy`.
 */
export interface EvaluatePolicyOptions {
  /** Images that match no policy: `deny` (policy-controller's default), `allow` or `warn`. */
  readonly noMatchPolicy?: NoMatchPolicy
  /** The digest the facts were established at, recorded in the decision. */
  readonly digest?: string
}

/**
 * The policies whose globs match `image`.
 *
 * @throws {CountersignError} ERR_OCI_REFERENCE_INVALID when the image does not parse.
 * @example
 * ```ts
 * import { matchingPolicies } from 'countersign/policy'
 * const applicable = matchingPolicies('ghcr.io/acme/app:v1', policies)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function matchingPolicies(
  image: string,
  policies: readonly ClusterImagePolicy[],
): readonly ClusterImagePolicy[] {
  return policies.filter((p) => p.images.some((g) => matchImageGlob(g.glob, image)))
}

/**
 * Decide about `image` from `policies` and the verification `facts`. Every reason is kept: each failing authority
 * of each failing policy, each missing or failing attestation, a failing CIP-level condition.
 *
 * @param image - The image as written.
 * @param policies - All policies; those whose globs match apply.
 * @param facts - Per policy name and authority index, what verification established.
 * @param options - `noMatchPolicy`, `digest`.
 * @example
 * ```ts
 * import { evaluatePolicy } from 'countersign/policy'
 * const d = evaluatePolicy('ghcr.io/acme/app@sha256:…', policies, {
 *   'require-signed': [{ signatures: [{ format: 'bundle', id: 'sha256:…' }] }],
 * })
 * if (!d.allowed) console.log(d.reasons.map((r) => r.message))
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function evaluatePolicy(
  image: string,
  policies: readonly ClusterImagePolicy[],
  facts: PolicyFacts,
  options?: EvaluatePolicyOptions,
): PolicyDecision {
  const digest = options?.digest !== undefined ? { digest: options.digest } : {}
  let matched: readonly ClusterImagePolicy[]
  try {
    matched = matchingPolicies(image, policies)
  } catch (e) {
    if (!isCountersignError(e)) throw e
    const reason: PolicyReason = { image, policy: '', check: 'error', message: e.message }
    return { image, ...digest, allowed: false, matched: [], policies: [], reasons: [reason], warnings: [] }
  }
  if (matched.length === 0) {
    const noMatch = options?.noMatchPolicy ?? 'deny'
    const reason: PolicyReason = { image, policy: '', check: 'match', message: 'no matching policies' }
    return {
      image,
      ...digest,
      allowed: noMatch !== 'deny',
      matched: [],
      policies: [],
      reasons: noMatch === 'deny' ? [reason] : [],
      warnings: noMatch === 'warn' ? [reason] : [],
    }
  }
  const outcomes = matched.map((p) => evaluateOne(image, p, facts[p.name] ?? []))
  const reasons: PolicyReason[] = []
  const warnings: PolicyReason[] = []
  for (const [i, o] of outcomes.entries()) {
    const p = matched[i]!
    for (const [j, a] of p.authorities.entries()) {
      for (const note of facts[p.name]?.[j]?.notes ?? []) {
        warnings.push({ image, policy: p.name, authority: a.name, check: 'unsupported', message: note })
      }
    }
    if (o.passed) continue
    if (o.mode === 'warn') warnings.push(...o.reasons)
    else reasons.push(...o.reasons)
  }
  return {
    image,
    ...digest,
    allowed: reasons.length === 0,
    matched: matched.map((p) => p.name),
    policies: outcomes,
    reasons,
    warnings,
  }
}

function evaluateOne(image: string, policy: ClusterImagePolicy, facts: readonly (AuthorityFacts | undefined)[]) {
  const authorities = policy.authorities.map((a, i) => evaluateAuthority(image, policy.name, a, facts[i]))
  const passed = authorities.filter((a) => a.passed)
  const reasons: PolicyReason[] = []
  if (passed.length === 0) {
    for (const a of authorities) reasons.push(...a.reasons)
    if (authorities.length === 0) {
      reasons.push({ image, policy: policy.name, check: 'policy', message: 'policy has no authorities' })
    }
  } else if (policy.policy) {
    const matches = authorityMatches(policy, authorities, facts)
    const r = runCondition(policy.policy, { authorityMatches: matches })
    if (!r.ok) reasons.push({ image, policy: policy.name, check: 'policy', message: r.message })
  }
  const outcome: PolicyOutcome = {
    name: policy.name,
    mode: policy.mode,
    passed: reasons.length === 0,
    authorities,
    reasons,
  }
  return outcome
}

function evaluateAuthority(
  image: string,
  policy: string,
  a: PolicyAuthority,
  facts: AuthorityFacts | undefined,
): AuthorityOutcome {
  const reason = (check: PolicyCheck, message: string): PolicyReason => ({
    image,
    policy,
    authority: a.name,
    check,
    message,
  })
  const failed = (...reasons: PolicyReason[]): AuthorityOutcome => ({ name: a.name, passed: false, reasons })
  if (a.static) {
    if (a.static.action === 'pass') return { name: a.name, passed: true, reasons: [] }
    return failed(reason('static', `disallowed by static policy: ${a.static.message ?? ''}`.trimEnd()))
  }
  if (!facts) return failed(reason('error', 'authority was not verified'))
  if (facts.failure) return failed(reason(facts.failure.check, facts.failure.message))
  const wanted = a.attestations ?? []
  if (wanted.length === 0) {
    const n = facts.signatures?.length ?? 0
    if (n === 0) return failed(reason('signature', 'no valid signatures'))
    return { name: a.name, passed: true, signatures: n, reasons: [] }
  }
  const found = facts.attestations ?? []
  const counts: Record<string, number> = {}
  const reasons: PolicyReason[] = []
  for (const w of wanted) {
    const uri = predicateURI(w.predicateType)
    const candidates = found.filter((f) => f.predicateType === uri)
    if (candidates.length === 0) {
      const types = boundedJoin([...new Set(found.map((f) => f.predicateType))], ',', {
        format: (t) => quoteClipped(t),
      })
      reasons.push(
        reason(
          'attestation',
          `attestation ${w.name}: no matching attestations with type ${w.predicateType}, checked the following predicateTypes: ${types || 'none'}`,
        ),
      )
      continue
    }
    if (!w.policy) {
      counts[w.name] = candidates.length
      continue
    }
    // As upstream: any one attestation of the type may satisfy the condition; the first failure is reported.
    let ok = 0
    let first: string | undefined
    for (const c of candidates) {
      const r = runCondition(w.policy, statementBindings(c.statement))
      if (r.ok) ok++
      else first ??= r.message
    }
    if (ok > 0) counts[w.name] = ok
    else {
      const check: PolicyCheck = w.policy.type === 'cel' && w.policy.data !== undefined ? 'condition' : 'unsupported'
      reasons.push(reason(check, `attestation ${w.name}: ${first}`))
    }
  }
  if (reasons.length > 0) return failed(...reasons)
  return { name: a.name, passed: true, attestations: counts, reasons: [] }
}

/** cosign's short predicate names stand for their URIs; anything else is compared verbatim. */
function predicateURI(t: string): string {
  return Object.hasOwn(PREDICATE_TYPE_ALIASES, t) ? PREDICATE_TYPE_ALIASES[t]! : t
}

function statementBindings(statement: unknown): Record<string, unknown> {
  const s = typeof statement === 'object' && statement !== null ? (statement as Record<string, unknown>) : {}
  return {
    statement: s,
    predicateType: s.predicateType ?? null,
    predicate: s.predicate ?? null,
    subject: s.subject ?? [],
  }
}

function runCondition(
  condition: PolicyCondition,
  bindings: Record<string, unknown>,
): { ok: true } | { ok: false; message: string } {
  if (condition.type !== 'cel') {
    return { ok: false, message: `${condition.type} policies are not evaluated by countersign (use type: cel)` }
  }
  if (condition.data === undefined) {
    return { ok: false, message: 'remote and configMapRef policies are not fetched by countersign' }
  }
  try {
    return celConditionFor(condition, condition.data).evaluate(bindings)
  } catch (e) {
    return { ok: false, message: (e as Error).message }
  }
}

/** policy-controller's PolicyResult.authorityMatches, for the CIP-level condition. */
function authorityMatches(
  policy: ClusterImagePolicy,
  outcomes: readonly AuthorityOutcome[],
  facts: readonly (AuthorityFacts | undefined)[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [i, a] of policy.authorities.entries()) {
    if (!outcomes[i]!.passed) continue
    const f = facts[i]
    const sig = (s: SignatureFact) => ({ id: s.id, format: s.format, subject: s.subject ?? '', issuer: s.issuer ?? '' })
    if (a.static) out[a.name] = { static: true }
    else if (a.attestations && a.attestations.length > 0) {
      const atts: Record<string, unknown[]> = {}
      for (const w of a.attestations) {
        const uri = predicateURI(w.predicateType)
        atts[w.name] = (f?.attestations ?? [])
          .filter((x) => x.predicateType === uri)
          .map((x) => ({ ...sig(x), predicateType: x.predicateType }))
      }
      out[a.name] = { attestations: atts }
    } else out[a.name] = { signatures: (f?.signatures ?? []).map(sig) }
  }
  return out
}

/**
 * One line for a reason: `image: policy P, authority A: check: message`.
 *
 * @example
 * ```ts
 * import { formatPolicyReason } from 'countersign/policy'
 * decision.reasons.map(formatPolicyReason)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function formatPolicyReason(r: PolicyReason): string {
  const where = [r.policy ? `policy ${r.policy}` : '', r.authority ? `authority ${r.authority}` : '']
    .filter((x) => x !== '')
    .join(', ')
  return `${r.image}: ${where ? `${where}: ` : ''}${r.check}: ${r.message}`
}
