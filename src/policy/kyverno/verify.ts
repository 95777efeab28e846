/**
 * `verifyImageAgainstKyverno`: decide about one image with Kyverno's `verifyImages` semantics. Rules whose entries'
 * `imageReferences` match the image (Kyverno's normalised name) apply; an image no rule matches is not checked and
 * is allowed. A rule passes when each matching entry passes: every attestor set with its `count`, every attestation
 * with its conditions, then the validate phase (`verifyDigest`, `required`). A failing rule denies under `Enforce`
 * and warns under `Audit`.
 * @module
 */
import { isCountersignError } from '../../errors.js'
import { resolveDigest } from '../../image/resolve.js'
import type { AttestationCheck } from '../../image/verify-attestation.js'
import { isJSONObject } from '../../internal/json.js'
import { parseReference, referenceToString, repositoryName } from '../../oci/reference.js'
import type { Reference } from '../../oci/types.js'
import type { AuthorityVerificationOptions } from '../authority-facts.js'
import type { PolicyCache } from '../cache.js'
import { evaluatePolicy } from '../evaluate.js'
import { memoizeStore } from '../memo-store.js'
import { policyContentHash } from '../policy-hash.js'
import type { AuthorityOutcome, NoMatchPolicy, PolicyDecision, PolicyOutcome, PolicyReason } from '../types.js'
import { type AttestorRunContext, verifyAttestorSet } from './attestors.js'
import { evaluateKyvernoConditions, kyvernoAttestationContext, kyvernoConditionsUseJMESPath } from './conditions.js'
import { type KyvernoImageInfo, kyvernoImageInfo, kyvernoPinnedImage } from './image-name.js'
import { loadJMESPathEngine } from './jmespath.js'
import { type KyvernoResource, kyvernoRuleMatchesResource } from './resources.js'
import type { KyvernoAttestorSet, KyvernoImageVerification, KyvernoPolicy, KyvernoRule } from './types.js'
import { matchKyvernoWildcard } from './wildcard.js'

/**
 * Options for {@link verifyImageAgainstKyverno}.
 *
 * Exported from `countersign/policy`.
 */
export interface VerifyImageAgainstKyvernoOptions extends AuthorityVerificationOptions {
  /**
   * The resource the image belongs to (the admission webhook knows it): rules' `match`/`exclude`, a namespaced
   * `Policy`'s namespace and `validationFailureActionOverrides` apply. Without it (the CLI), every rule applies.
   */
  readonly resource?: KyvernoResource
  /** Images no rule matches: allowed, as Kyverno (default), or `deny`/`warn` when given. */
  readonly noMatchPolicy?: NoMatchPolicy
  /**
   * Remember decisions per digest, the matching rules' policies, the resource and the options (see
   * {@link createPolicyCache}); failures are remembered too, for the cache's TTL.
   */
  readonly cache?: PolicyCache
}

// Kyverno's empty attestor: any certificate from the trusted root's CAs, no identity, no SCT check.
const EMPTY_ATTESTOR_SET: KyvernoAttestorSet = { entries: [{ keyless: { ctlog: { ignoreSCT: true } } }] }

interface RuleMatch {
  readonly policy: KyvernoPolicy
  readonly rule: KyvernoRule
  readonly entries: readonly { readonly entry: KyvernoImageVerification; readonly index: number }[]
}

/**
 * Decide about one image with Kyverno's image verification rules (see the module description; docs/policy.md,
 * "Kyverno", lists what is supported and the deliberate differences).
 *
 * @param ref - The image, as a reference or as written in a workload.
 * @param policies - Parsed Kyverno policies ({@link parsePolicies} returns them in `kyverno`).
 * @param options - The store, trusted root, key resolvers, and the resource when known.
 * @returns The decision: reasons for Enforce failures, warnings for Audit failures and skipped images.
 * @throws {CountersignError} ERR_ABORTED, ERR_NETWORK, ERR_OCI_HTTP, ERR_OCI_UNAUTHORIZED when the registry could
 *   not be asked; ERR_DEPENDENCY_MISSING when a condition uses `{{ }}` and `@jmespath-community/jmespath` is missing.
 * @example
 * ```ts
 * import { parsePoliciesAsync, verifyImageAgainstKyverno } from 'countersign/policy'
 * const { kyverno } = await parsePoliciesAsync(yamlText)
 * const d = await verifyImageAgainstKyverno('ghcr.io/acme/app:v1', kyverno, { store })
 * console.log(d.allowed, d.reasons)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export async function verifyImageAgainstKyverno(
  ref: Reference | string,
  policies: readonly KyvernoPolicy[],
  options: VerifyImageAgainstKyvernoOptions,
): Promise<PolicyDecision> {
  const image = typeof ref === 'string' ? ref : referenceToString(ref)
  let info: KyvernoImageInfo
  let parsed: Reference
  try {
    info = kyvernoImageInfo(image)
    parsed = typeof ref === 'string' ? parseReference(ref) : ref
  } catch (e) {
    if (!isCountersignError(e)) throw e
    const reason: PolicyReason = { image, policy: '', check: 'error', message: e.message }
    return { image, allowed: false, matched: [], policies: [], reasons: [reason], warnings: [] }
  }
  const matches = matchingRules(info, policies, options.resource)
  // Not checked: Kyverno allows what no rule names, unless the caller says otherwise.
  if (matches.length === 0) return evaluatePolicy(image, [], {}, { noMatchPolicy: options.noMatchPolicy ?? 'allow' })

  if (matches.some((m) => m.entries.some(({ entry }) => usesJMESPath(entry)))) {
    await loadJMESPathEngine()
  }
  const store = memoizeStore(options.store)
  let digest: string | undefined
  let lookupFailure: string | undefined
  try {
    digest = await resolveDigest(parsed, store, undefined, options.signal ? { signal: options.signal } : {})
  } catch (e) {
    if (!isCountersignError(e, 'ERR_OCI_NOT_FOUND') && !isCountersignError(e, 'ERR_OCI_DIGEST_MISMATCH')) throw e
    lookupFailure = e.message
  }
  // An entry with `useCache: false` asks for a fresh verification every time, as Kyverno skips its cache for it.
  const cacheable = matches.every((m) => m.entries.every(({ entry }) => entry.useCache))
  const cacheKey =
    options.cache && cacheable && digest !== undefined
      ? [
          `kyverno|${repositoryName(parsed)}@${digest}|${info.reference}`,
          ...(await Promise.all([...new Set(matches.map((m) => m.policy))].map(policyContentHash))),
          JSON.stringify(options.resource ?? null),
          `tlog=${options.insecureIgnoreTlog === true ? 'off' : 'on'}`,
        ].join('|')
      : ''
  const hit = cacheKey ? options.cache?.get(cacheKey) : undefined
  if (hit) return { ...hit, image, cached: true }
  const at: Reference | undefined = digest
    ? { registry: parsed.registry, repository: parsed.repository, digest }
    : undefined
  const shared = { runs: new Map(), keys: new Map() }
  const reasons: PolicyReason[] = []
  const warnings: PolicyReason[] = []
  const outcomes: PolicyOutcome[] = []
  for (const m of matches) {
    const action = ruleAction(m, options.resource)
    const entryOutcomes: AuthorityOutcome[] = []
    for (const { entry, index } of m.entries) {
      const name = `${m.rule.name}.verifyImages[${index}]`
      const reason = (check: PolicyReason['check'], message: string): PolicyReason => ({
        image,
        policy: policyName(m.policy),
        authority: name,
        check,
        message,
      })
      if (entry.skipImageReferences.some((g) => matchKyvernoWildcard(g, info.reference))) {
        warnings.push(reason('match', `skipping image reference ${info.reference}, rule ${m.rule.name}`))
        entryOutcomes.push({ name, passed: true, reasons: [] })
        continue
      }
      const failures: PolicyReason[] = []
      const verifies = entry.attestors.length > 0 || entry.attestations.length > 0
      if (verifies) {
        if (!at) failures.push(reason('error', `failed to verify image ${image}: ${lookupFailure}`))
        else {
          const ctx: AttestorRunContext = {
            at,
            store,
            options,
            signatureFormat: entry.type === 'SigstoreBundle' ? 'bundle' : 'legacy',
            ...(entry.repository !== undefined ? { repository: entry.repository } : {}),
            ...shared,
          }
          failures.push(...(await verifyEntry(entry, ctx, info, reason)))
        }
      }
      // The validate phase Kyverno runs on the mutated resource.
      if (failures.length === 0) {
        const pinned = info.digest !== '' || (entry.mutateDigest && at !== undefined)
        if (entry.verifyDigest && !pinned) failures.push(reason('policy', `missing digest for ${info.reference}`))
        if (entry.required && !verifies) failures.push(reason('policy', `unverified image ${info.reference}`))
      }
      entryOutcomes.push({ name, passed: failures.length === 0, reasons: failures })
    }
    const failed = entryOutcomes.flatMap((o) => o.reasons)
    outcomes.push({
      name: `${policyName(m.policy)}/${m.rule.name}`,
      mode: action === 'Enforce' ? 'enforce' : 'warn',
      passed: failed.length === 0,
      authorities: entryOutcomes,
      reasons: failed,
    })
    if (action === 'Enforce') reasons.push(...failed)
    else warnings.push(...failed)
  }
  // Kyverno pins what it matched (skipped images too) unless every matching entry says mutateDigest: false.
  const mutate = matches.some((m) => m.entries.some(({ entry }) => entry.mutateDigest))
  let pin: string | null | undefined
  if (info.digest === '' && digest !== undefined) pin = mutate ? kyvernoPinnedImage(image, digest) : null
  const decision: PolicyDecision = {
    image,
    ...(digest !== undefined ? { digest } : {}),
    ...(pin !== undefined ? { pin } : {}),
    allowed: reasons.length === 0,
    matched: [...new Set(matches.map((m) => policyName(m.policy)))],
    policies: outcomes,
    reasons,
    warnings,
  }
  if (cacheKey) options.cache?.set(cacheKey, decision)
  return decision
}

/** A namespaced `Policy` is named `namespace/name`, a `ClusterPolicy` by its name. */
function policyName(p: KyvernoPolicy): string {
  return p.kind === 'Policy' ? `${p.namespace}/${p.name}` : p.name
}

/** The rules that apply to the image (and resource), with their entries whose `imageReferences` match. */
function matchingRules(
  info: KyvernoImageInfo,
  policies: readonly KyvernoPolicy[],
  resource: KyvernoResource | undefined,
): RuleMatch[] {
  const out: RuleMatch[] = []
  for (const policy of policies) {
    for (const rule of policy.rules) {
      if (resource && !kyvernoRuleMatchesResource(policy, rule, resource)) continue
      const entries = rule.verifyImages
        .map((entry, index) => ({ entry, index }))
        .filter(({ entry }) => entry.imageReferences.some((g) => matchKyvernoWildcard(g, info.reference)))
      if (entries.length > 0) out.push({ policy, rule, entries })
    }
  }
  return out
}

/**
 * Kyverno's action for a failing rule: an entry that says Enforce wins, else the first entry that says anything,
 * else the policy's overrides for the resource's namespace, else `validationFailureAction`.
 */
function ruleAction(m: RuleMatch, resource: KyvernoResource | undefined): 'Enforce' | 'Audit' {
  const actions = m.rule.verifyImages.map((e) => e.failureAction).filter((a) => a !== undefined)
  if (actions.includes('Enforce')) return 'Enforce'
  if (actions[0]) return actions[0]
  const ns = resource?.namespace
  if (ns) {
    const o = m.policy.validationFailureActionOverrides?.find((x) =>
      x.namespaces.some((p) => matchKyvernoWildcard(p, ns)),
    )
    if (o) return o.action
  }
  return m.policy.validationFailureAction
}

function usesJMESPath(entry: KyvernoImageVerification): boolean {
  return (
    entry.attestations.some((a) => kyvernoConditionsUseJMESPath(a.conditions)) ||
    (entry.validate !== undefined && kyvernoConditionsUseJMESPath(entry.validate.deny))
  )
}

/** The attestor sets (image signatures), then the attestations; every failure is reported. */
async function verifyEntry(
  entry: KyvernoImageVerification,
  ctx: AttestorRunContext,
  info: KyvernoImageInfo,
  reason: (check: PolicyReason['check'], message: string) => PolicyReason,
): Promise<PolicyReason[]> {
  const failures: PolicyReason[] = []
  // Named attestations' predicates, for the entry's deny conditions.
  const named: Record<string, unknown> = {}
  for (const [i, set] of entry.attestors.entries()) {
    const r = await verifyAttestorSet(set, `.attestors[${i}]`, ctx, { kind: 'signatures' })
    if (!r.ok) failures.push(reason('signature', `failed to verify image ${info.reference}: ${r.message}`))
  }
  for (const [i, att] of entry.attestations.entries()) {
    const sets = att.attestors.length > 0 ? att.attestors : [EMPTY_ATTESTOR_SET]
    const check = (c: AttestationCheck): string | undefined => {
      if (att.conditions.length === 0) return undefined
      const predicate = c.statement?.predicate
      const context = kyvernoAttestationContext(predicate, { image: info })
      const r = evaluateKyvernoConditions(att.conditions, context, ctx.options.now ? { now: ctx.options.now } : {})
      return r.ok ? undefined : r.message
    }
    for (const [j, set] of sets.entries()) {
      const r = await verifyAttestorSet(set, `.attestations[${i}].attestors[${j}]`, ctx, {
        kind: 'attestations',
        predicateType: att.type,
        check,
      })
      if (!r.ok) {
        failures.push(
          reason('attestation', `image attestations verification failed for ${info.reference}: ${r.message}`),
        )
      } else if (att.name !== undefined && !Object.hasOwn(named, att.name)) {
        const first = (r.accepted as readonly AttestationCheck[]).find((c) => isJSONObject(c.statement?.predicate))
        if (first) named[att.name] = first.statement!.predicate
      }
    }
  }
  if (entry.validate && failures.length === 0) {
    const context = { ...named, image: info }
    const r = evaluateKyvernoConditions(entry.validate.deny, context, ctx.options.now ? { now: ctx.options.now } : {})
    // The deny conditions holding denies; so does a deny that cannot be evaluated (fail closed).
    if (r.ok || r.error) {
      const why = [entry.validate.message, r.ok ? '' : r.message].filter((m) => m).join('; ')
      failures.push(reason('condition', `validation in verifyImages failed: ${why}`))
    }
  }
  return failures
}
