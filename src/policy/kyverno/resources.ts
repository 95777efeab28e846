/**
 * Which resources a Kyverno rule applies to: its `match` and `exclude` blocks (`pkg/engine/utils/match.go`,
 * `pkg/utils/match/*`, `pkg/utils/kube/kind.go`) and the rules Kyverno's autogen derives from a rule on Pods for the
 * Pod controllers (`pkg/autogen/v1`), as of kyverno/kyverno 111e07bb. Pure: no I/O.
 *
 * Some attributes cannot be decided from what countersign knows about a request: `roles`, `clusterRoles` and
 * `subjects` (countersign does not use the request's user info), `namespaceSelector` when the caller did not give
 * the namespace's labels, and `operations` when it gave no operation. An attribute like that is taken as satisfied
 * in `match` and as not satisfied in `exclude`: a rule that applies checks the resource's images, and one that does
 * not apply lets them through, so in both blocks the undecidable case falls on the side where images are checked.
 * @module
 */
import type { AdmissionResource } from '../../admission/types.js'
import { CountersignError } from '../../errors.js'
import type { KyvernoLabelSelector, KyvernoMatch, KyvernoPolicy, KyvernoResourceFilter, KyvernoRule } from './types.js'
import { matchKyvernoWildcard } from './wildcard.js'

/**
 * The resource an admission request (or a background scan) is about, as `match`/`exclude` look at it.
 *
 * @example
 * ```ts
 * const resource: KyvernoResource = {
 *   group: 'apps', version: 'v1', kind: 'Deployment', name: 'web', namespace: 'prod', operation: 'CREATE',
 *   labels: { app: 'web' }, namespaceLabels: { env: 'prod' },
 * }
 * ```
 *
 * Exported from `countersign/policy`.
 */
export interface KyvernoResource extends Omit<AdmissionResource, 'operation'> {
  /** The admission operation: `CREATE`, `UPDATE`, `DELETE` or `CONNECT`. Absent: `operations` are undecidable. */
  readonly operation?: string
  /**
   * The labels of the resource's namespace, for `namespaceSelector`. Absent for a namespaced resource: the selector
   * is undecidable (satisfied in `match`, not in `exclude`). A cluster-scoped resource is matched against no labels,
   * as Kyverno does, whether or not this is given.
   */
  readonly namespaceLabels?: Readonly<Record<string, string>>
}

/**
 * The Pod controllers Kyverno's autogen extends a rule on Pods to, in its order (`PodControllers`), when the policy's
 * `pod-policies.kyverno.io/autogen-controllers` annotation does not say otherwise.
 *
 * @example
 * ```ts
 * import { KYVERNO_POD_CONTROLLERS } from 'countersign/policy'
 * KYVERNO_POD_CONTROLLERS.includes('CronJob') // true
 * ```
 *
 * Exported from `countersign/policy`.
 */
export const KYVERNO_POD_CONTROLLERS: readonly string[] = Object.freeze([
  'DaemonSet',
  'Deployment',
  'Job',
  'StatefulSet',
  'ReplicaSet',
  'ReplicationController',
  'CronJob',
])

type Side = 'match' | 'exclude'

const VERSION_RE = /^(?:v\d+(?:(?:alpha|beta)\d+)?|\*)$/

interface KindSelector {
  readonly group: string
  readonly version: string
  readonly kind: string
  readonly subresource: string
}

/** `ParseKindSelector`: `Kind`, `version/Kind`, `group/version/Kind`, each with an optional `/sub` or `.sub`. */
function parseKindSelector(input: string): KindSelector {
  const parts = input.split('/')
  const last = parts.pop()!
  parts.push(...last.split('.'))
  const [a = '', b = '', c = '', d = ''] = parts
  switch (parts.length) {
    case 1:
      return { group: '*', version: '*', kind: a, subresource: '' }
    case 2:
      if (a === '*' && b === '*') return { group: '*', version: '*', kind: '*', subresource: '*' }
      // `*/exec`: a lower-case second part after `*` is a subresource.
      if (a === '*' && b.toLowerCase() === b) return { group: '*', version: '*', kind: a, subresource: b }
      if (VERSION_RE.test(a)) return { group: '*', version: a, kind: b, subresource: '' }
      return { group: '*', version: '*', kind: a, subresource: b }
    case 3:
      if (VERSION_RE.test(a)) return { group: '*', version: a, kind: b, subresource: c }
      return { group: a, version: b, kind: c, subresource: '' }
    case 4:
      return { group: a, version: b, kind: c, subresource: d }
    default:
      // Kyverno returns empty parts, which only an empty GVK could match.
      return { group: '', version: '', kind: '', subresource: '' }
  }
}

/** `CheckKind`, with Kyverno's allowance that a rule on Pods also sees their `ephemeralcontainers` subresource. */
function checkKind(kinds: readonly string[], r: KyvernoResource): boolean {
  const sub = r.subresource ?? ''
  for (const k of kinds) {
    const s = parseKindSelector(k)
    if (
      matchKyvernoWildcard(s.group, r.group) &&
      matchKyvernoWildcard(s.version, r.version) &&
      matchKyvernoWildcard(s.kind, r.kind)
    ) {
      if (matchKyvernoWildcard(s.subresource, sub)) return true
      if (r.group === '' && r.version === 'v1' && r.kind === 'Pod' && sub === 'ephemeralcontainers') return true
    }
  }
  return false
}

/** `ContainsKind`: whether a kinds list names `kind` (in any of the selector forms, subresource ignored). */
function containsKind(kinds: readonly string[], kind: string): boolean {
  for (const e of kinds) {
    const parts = e.split('/')
    let k: string
    if (parts.length === 1) k = e.replace('.', '/')
    else if (parts.length === 2)
      k = parts[0] === '*' && parts[1] === '*' ? e : VERSION_RE.test(parts[0]!) ? parts[1]!.replace('.', '/') : e
    else if (parts.length === 3)
      k = VERSION_RE.test(parts[0]!) ? `${parts[1]}/${parts[2]}` : parts[2]!.replace('.', '/')
    else if (parts.length === 4) k = `${parts[2]}/${parts[3]}`
    else k = ''
    const split = k.split('/')
    if ((split.length === 2 ? split[0] : k) === kind) return true
  }
  return false
}

function hasWildcard(s: string): boolean {
  return s.includes('*') || s.includes('?')
}

function invalidSelector(message: string): CountersignError {
  return new CountersignError(
    'ERR_INVALID_INPUT',
    `invalid label selector in a Kyverno match/exclude block: ${message}`,
  )
}

/**
 * `CheckSelector`: a Kubernetes label selector, where a `matchLabels` entry whose key or value holds a wildcard is
 * met by any label matching both (Kyverno's `ReplaceInSelector`). Kyverno expands all entries into one map before
 * matching, so two entries expanding to the same key race in Go's map order; here every entry must hold on its own.
 */
function checkSelector(selector: KyvernoLabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (k: string): boolean => Object.hasOwn(labels, k)
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (hasWildcard(k) || hasWildcard(v)) {
      if (!Object.entries(labels).some(([lk, lv]) => matchKyvernoWildcard(k, lk) && matchKyvernoWildcard(v, lv))) {
        return false
      }
    } else if (!has(k) || labels[k] !== v) {
      return false
    }
  }
  for (const e of selector.matchExpressions ?? []) {
    const values = e.values ?? []
    switch (e.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0)
          throw invalidSelector(`operator ${e.operator} for key ${JSON.stringify(e.key)} needs values`)
        const found = has(e.key) && values.includes(labels[e.key]!)
        if (e.operator === 'In' ? !found : found) return false
        break
      }
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          throw invalidSelector(`operator ${e.operator} for key ${JSON.stringify(e.key)} takes no values`)
        if ((e.operator === 'Exists') !== has(e.key)) return false
        break
      default:
        // Kubernetes knows no other operator; Kyverno refuses such a policy when it is created.
        throw invalidSelector(`unknown operator ${JSON.stringify(e.operator)}`)
    }
  }
  return true
}

function checkAnnotations(
  expected: Readonly<Record<string, string>>,
  actual: Readonly<Record<string, string>>,
): boolean {
  const pairs = Object.entries(actual)
  return Object.entries(expected).every(([k, v]) =>
    pairs.some(([ak, av]) => matchKyvernoWildcard(k, ak) && matchKyvernoWildcard(v, av)),
  )
}

function isEmptyFilter(f: KyvernoResourceFilter): boolean {
  return (
    !f.kinds?.length &&
    !f.names?.length &&
    !f.namespaces?.length &&
    Object.keys(f.annotations ?? {}).length === 0 &&
    f.selector === undefined &&
    f.namespaceSelector === undefined &&
    !f.operations?.length &&
    !f.roles?.length &&
    !f.clusterRoles?.length &&
    !f.subjects?.length
  )
}

/**
 * `doesResourceMatchConditionBlock`: every attribute the filter names must hold (AND); a list attribute holds when one
 * of its elements does (OR). An empty filter matches nothing: in `match` Kyverno reports "match cannot be empty", in
 * `exclude` it excludes nothing.
 */
function filterMatches(f: KyvernoResourceFilter, r: KyvernoResource, side: Side): boolean {
  if (isEmptyFilter(f)) return false
  // What cannot be decided holds in `match` and fails in `exclude` (see the module comment).
  const undecidable = side === 'match'
  if (f.operations?.length) {
    if (r.operation === undefined) {
      if (!undecidable) return false
    } else if (!f.operations.includes(r.operation)) {
      return false
    }
  }
  if (f.kinds?.length && !checkKind(f.kinds, r)) return false
  if (f.names?.length && !f.names.some((n) => matchKyvernoWildcard(n, r.name))) return false
  if (f.namespaces?.length) {
    // A Namespace is matched by its own name.
    const ns = r.kind === 'Namespace' ? r.name : (r.namespace ?? '')
    if (!f.namespaces.some((p) => matchKyvernoWildcard(p, ns))) return false
  }
  if (f.annotations && Object.keys(f.annotations).length > 0 && !checkAnnotations(f.annotations, r.annotations ?? {})) {
    return false
  }
  if (f.selector !== undefined && !checkSelector(f.selector, r.labels ?? {})) return false
  if (f.namespaceSelector !== undefined) {
    if (r.kind === 'Namespace') return false // "namespace selector is not applicable for namespace resource"
    if (r.kind !== '' || (f.kinds?.includes('*') ?? false)) {
      const labels = r.namespace ? r.namespaceLabels : {}
      if (labels === undefined) {
        if (!undecidable) return false
      } else if (!checkSelector(f.namespaceSelector, labels)) {
        return false
      }
    }
  }
  if (f.roles?.length || f.clusterRoles?.length || f.subjects?.length) {
    if (!undecidable) return false
  }
  return true
}

function blockMatches(block: KyvernoMatch | undefined, r: KyvernoResource): boolean {
  if (block?.any?.length) return block.any.some((f) => filterMatches(f, r, 'match'))
  if (block?.all?.length) return block.all.every((f) => filterMatches(f, r, 'match'))
  return false // "match cannot be empty"
}

function blockExcludes(block: KyvernoMatch | undefined, r: KyvernoResource): boolean {
  if (block?.any?.length) return block.any.some((f) => filterMatches(f, r, 'exclude'))
  if (block?.all?.length) return block.all.every((f) => filterMatches(f, r, 'exclude'))
  return false
}

/** `MatchesResourceDescription` for one rule as written (no autogen). */
function ruleMatches(policy: KyvernoPolicy, rule: KyvernoRule, r: KyvernoResource): boolean {
  // A namespaced Policy sees only its own namespace. One read from a file without metadata.namespace is not limited:
  // kubectl would have put it in some namespace, and guessing one would leave the others unchecked.
  if (policy.kind === 'Policy' && policy.namespace && policy.namespace !== (r.namespace ?? '')) return false
  return blockMatches(rule.match, r) && !blockExcludes(rule.exclude, r)
}

// autogen internal/gvk.go PodControllerGVKMap: the kinds generated rules match.
const CONTROLLER_GVK: Readonly<Record<string, string>> = {
  DaemonSet: 'apps/v1/DaemonSet',
  Deployment: 'apps/v1/Deployment',
  Job: 'batch/v1/Job',
  StatefulSet: 'apps/v1/StatefulSet',
  ReplicaSet: 'apps/v1/ReplicaSet',
  ReplicationController: 'v1/ReplicationController',
  CronJob: 'batch/v1/CronJob',
  Pod: 'v1/Pod',
}
const NON_CRONJOB_CONTROLLERS = KYVERNO_POD_CONTROLLERS.filter((c) => c !== 'CronJob')
const AUTOGEN_TRIGGER_KINDS = new Set(['Pod', ...KYVERNO_POD_CONTROLLERS])

function filtersOf(block: KyvernoMatch | undefined): readonly KyvernoResourceFilter[] {
  return [...(block?.any ?? []), ...(block?.all ?? [])]
}

/**
 * `CanAutoGen`, decided over the whole policy: no filter of any rule may name resources (`name`, `names`), select
 * them by labels or annotations (present, even empty), or mix Pod with other kinds, and some filter must name Pod or a controller (the
 * plain kind, as Kyverno compares it).
 */
function canAutogen(policy: KyvernoPolicy): boolean {
  let needed = false
  for (const rule of policy.rules) {
    for (const f of [...filtersOf(rule.match), ...filtersOf(rule.exclude)]) {
      const kinds = f.kinds ?? []
      if (
        f.names?.length ||
        f.selector !== undefined ||
        f.annotations !== undefined ||
        (kinds.length > 1 && containsKind(kinds, 'Pod'))
      ) {
        return false
      }
      if (kinds.some((k) => AUTOGEN_TRIGGER_KINDS.has(k))) needed = true
    }
  }
  return needed
}

/** `generateRuleForControllers`' reading of a controllers string: `all`, the known ones named, or else as written. */
function controllerKinds(controllers: readonly string[]): readonly string[] {
  // Kyverno sorts the list (splitKinds) before and after picking the known names.
  if (controllers.length === 1 && controllers[0] === 'all') return [...NON_CRONJOB_CONTROLLERS].sort()
  const known = controllers.filter((c) => NON_CRONJOB_CONTROLLERS.includes(c))
  // Kyverno's quirk: with no known controller, the names are used as kinds as they are.
  return [...(known.length > 0 ? known : controllers)].sort()
}

function toGVK(kinds: readonly string[]): readonly string[] {
  return kinds.map((k) => CONTROLLER_GVK[k] ?? k)
}

function mapFilters(
  block: KyvernoMatch | undefined,
  f: (x: KyvernoResourceFilter) => KyvernoResourceFilter,
): KyvernoMatch | undefined {
  if (block === undefined) return undefined
  if (block.any?.length) return { ...block, any: block.any.map(f) }
  if (block.all?.length) return { ...block, all: block.all.map(f) }
  return block
}

function autogenName(prefix: string, name: string): string {
  const s = `${prefix}-${name}`
  return s.length > 63 ? s.slice(0, 63) : s
}

/** The rule for the controllers other than CronJob (`generateRuleForControllers`), or undefined. */
function controllersRule(rule: KyvernoRule, controllers: readonly string[]): KyvernoRule | undefined {
  // Kyverno tests the joined string: an empty list and a list of one empty name both generate nothing.
  if (rule.name.startsWith('autogen-') || controllers.join(',') === '') return undefined
  const matchKinds = filtersOf(rule.match).flatMap((f) => f.kinds ?? [])
  const excludeKinds = filtersOf(rule.exclude).flatMap((f) => f.kinds ?? [])
  if (!containsKind(matchKinds, 'Pod') || (excludeKinds.length > 0 && !containsKind(excludeKinds, 'Pod'))) {
    return undefined
  }
  const kinds = toGVK(controllerKinds(controllers))
  // Filters on Pods now name the controllers; the others stay as written.
  const swap = (f: KyvernoResourceFilter): KyvernoResourceFilter =>
    f.kinds && containsKind(f.kinds, 'Pod') ? { ...f, kinds } : f
  return {
    ...rule,
    name: autogenName('autogen', rule.name),
    match: mapFilters(rule.match, swap),
    exclude: mapFilters(rule.exclude, swap),
  }
}

/**
 * The rules Kyverno's autogen derives from `rule` (`computeRules`/`generateRules`): `autogen-<rule>` for DaemonSet,
 * Deployment, Job, StatefulSet, ReplicaSet and ReplicationController, and `autogen-cronjob-<rule>` for CronJob (names
 * cut at 63 characters), each with the same `verifyImages` and with the Pod kinds of its filters replaced by the
 * controllers'. None when the rule does not match Pods, when `exclude` names kinds but not Pod, when the rule's name
 * starts with `autogen-`, when any rule of the policy stops autogen (names, selectors or annotations in a filter, or
 * Pod mixed with other kinds), or when `autogenControllers` is `none`; a comma list (`Deployment,CronJob`) restricts
 * it, exactly as Kyverno reads it (no spaces trimmed; `all` means every controller). Only the rules the policy carries
 * (its `verifyImages` rules) are consulted: a rule of another type that would stop Kyverno's autogen is not seen, so
 * countersign may check controllers Kyverno would not.
 *
 * @param policy - The policy the rule belongs to (autogen is decided for the policy as a whole).
 * @param rule - One of its rules.
 * @returns Zero, one or two generated rules.
 * @example
 * ```ts
 * import { kyvernoAutogenRules } from 'countersign/policy'
 * kyvernoAutogenRules(policy, policy.rules[0]).map((r) => r.name) // ['autogen-check', 'autogen-cronjob-check']
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function kyvernoAutogenRules(policy: KyvernoPolicy, rule: KyvernoRule): readonly KyvernoRule[] {
  if (!canAutogen(policy)) return []
  const controllers = [...new Set((policy.autogenControllers ?? KYVERNO_POD_CONTROLLERS.join(',')).split(','))]
  if (controllers.length === 1 && controllers[0] === 'none') return []
  const out: KyvernoRule[] = []
  const base = controllersRule(
    rule,
    controllers.filter((c) => c !== 'CronJob'),
  )
  if (base !== undefined) out.push(base)
  // generateCronJobRule looks for the substrings in the joined list, as Kyverno does.
  const joined = controllers.join(',')
  if (joined.includes('CronJob') || joined.includes('all')) {
    const cronBase = controllersRule(rule, controllers)
    if (cronBase !== undefined) {
      const cron = toGVK(['CronJob'])
      const swap = (f: KyvernoResourceFilter): KyvernoResourceFilter => ({ ...f, kinds: cron })
      out.push({
        ...cronBase,
        name: autogenName('autogen-cronjob', rule.name),
        match: mapFilters(cronBase.match, swap),
        exclude: mapFilters(cronBase.exclude, swap),
      })
    }
  }
  return out
}

/**
 * The name of the rule that applies to `resource`: `rule`'s own when its `match` holds and its `exclude` does not,
 * else the name of the autogen rule derived from it that applies (`autogen-<rule>`, `autogen-cronjob-<rule>`), else
 * undefined. Kyverno reports results, and keys its `kyverno.io/verify-images-scoped` annotation, by that name.
 * Semantics and undecidable attributes as {@link kyvernoRuleMatchesResource}.
 *
 * @param policy - The policy (its kind and namespace, and its autogen setting).
 * @param rule - One of its rules, as written (not an autogen rule: those are derived here).
 * @param resource - The resource of the request.
 * @throws {CountersignError} ERR_INVALID_INPUT when a label selector has an operator other than `In`, `NotIn`,
 *   `Exists`, `DoesNotExist`, or values where they do not belong (Kyverno refuses such a policy).
 * @example
 * ```ts
 * import { kyvernoMatchingRuleName } from 'countersign/policy'
 * kyvernoMatchingRuleName(policy, rule, { group: 'apps', version: 'v1', kind: 'Deployment', name: 'web' })
 * // 'autogen-check-images' for a rule `check-images` on Pods
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function kyvernoMatchingRuleName(
  policy: KyvernoPolicy,
  rule: KyvernoRule,
  resource: KyvernoResource,
): string | undefined {
  if (ruleMatches(policy, rule, resource)) return rule.name
  return kyvernoAutogenRules(policy, rule).find((g) => ruleMatches(policy, g, resource))?.name
}

/**
 * Whether a Kyverno rule applies to a resource: its `match` holds and its `exclude` does not, for the rule as written
 * or for one of the rules Kyverno's autogen derives from it for Pod controllers ({@link kyvernoAutogenRules}); and a
 * namespaced `Policy` applies only in its own namespace.
 *
 * - `match.any`: one filter matches; `match.all`: every one does; neither: nothing matches. `exclude` likewise, and
 *   is looked at only when `match` holds. Within a filter every attribute named must hold; within a list, one element.
 * - `kinds`: `Pod`, `v1/Pod`, `*\/Pod`, `apps/v1/Deployment`, `tekton.dev/v1beta1/Task`, with `/sub` or `.sub` for a
 *   subresource (`Pod/exec`, `Pod.exec`), `*\/*` for everything; each part a wildcard. A kind without subresource
 *   matches only requests on the resource itself, except that `Pod` also matches `ephemeralcontainers`.
 * - `names` (and the deprecated `name`), `namespaces` (a Namespace is matched by its own name), `annotations` (keys
 *   and values): Kyverno wildcards. `selector.matchLabels` values and keys may hold wildcards; `matchExpressions`
 *   take `In`, `NotIn`, `Exists`, `DoesNotExist`. `operations`: exact.
 * - Undecidable here, so satisfied in `match` (the rule applies and the images are checked) and not satisfied in
 *   `exclude` (the resource is not excluded, and its images are checked): `roles`, `clusterRoles`, `subjects`;
 *   `namespaceSelector` when `resource.namespaceLabels` is absent; `operations` when `resource.operation` is.
 *   (Kyverno's background scans, which lack user info too, ignore roles and subjects in `match` the same way.)
 *
 * @param policy - The policy the rule belongs to.
 * @param rule - One of its rules, as written.
 * @param resource - The resource of the request; the caller passes `generateName` as `name` when there is no name.
 * @returns True when the rule's `verifyImages` should look at the resource's images.
 * @throws {CountersignError} ERR_INVALID_INPUT for a malformed label selector, as {@link kyvernoMatchingRuleName}.
 * @example
 * ```ts
 * import { kyvernoRuleMatchesResource } from 'countersign/policy'
 * const rule = { name: 'check', match: { any: [{ kinds: ['Pod'], namespaces: ['prod-*'] }] }, verifyImages: [] }
 * kyvernoRuleMatchesResource(policy, rule, { group: '', version: 'v1', kind: 'Pod', name: 'p', namespace: 'prod-eu' }) // true
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function kyvernoRuleMatchesResource(
  policy: KyvernoPolicy,
  rule: KyvernoRule,
  resource: KyvernoResource,
): boolean {
  return kyvernoMatchingRuleName(policy, rule, resource) !== undefined
}
