/**
 * Kyverno `ClusterPolicy`/`Policy` documents (`kyverno.io/v1`, `v2beta1`): their `verifyImages` rules checked with
 * Kyverno's validation rules and CRD defaults (`mutateDigest`, `verifyDigest`, `required`, `useCache` default true;
 * `validationFailureAction` default `Audit`), and what countersign cannot evaluate reported — as an error when
 * ignoring it could let an image through, as a warning otherwise.
 * @module
 */
import { isJSONObject } from '../../internal/json.js'
import {
  type Ctx,
  fail,
  newFieldContext,
  objects,
  optArray,
  optBool,
  optObject,
  optString,
  type PolicyFieldError,
  shown,
  unknownFields,
  warn,
} from '../field-checks.js'
import type {
  KyvernoAttestation,
  KyvernoAttestorSet,
  KyvernoImageVerification,
  KyvernoLabelSelector,
  KyvernoMatch,
  KyvernoPolicy,
  KyvernoResourceFilter,
  KyvernoRule,
} from './types.js'
import { checkAttestation, checkAttestorSet, checkConditionBlockList } from './validate-attestors.js'

/** The API versions whose `ClusterPolicy`/`Policy` countersign reads. */
export const KYVERNO_API_VERSIONS: readonly string[] = ['kyverno.io/v1', 'kyverno.io/v2beta1']
const AUTOGEN_ANNOTATION = 'pod-policies.kyverno.io/autogen-controllers'

const SPEC_FIELDS = [
  'rules',
  'validationFailureAction',
  'validationFailureActionOverrides',
  'background',
  'admission',
  'failurePolicy',
  'webhookTimeoutSeconds',
  'webhookConfiguration',
  'mutateExistingOnPolicyUpdate',
  'generateExisting',
  'generateExistingOnPolicyUpdate',
  'useServerSideApply',
  'applyRules',
  'emitWarning',
  'schemaValidation',
]
const RULE_FIELDS = [
  'name',
  'match',
  'exclude',
  'verifyImages',
  'context',
  'preconditions',
  'imageExtractors',
  'celPreconditions',
  'skipBackgroundRequests',
  'reportProperties',
  'validate',
  'mutate',
  'generate',
]
const VERIFY_FIELDS = [
  'type',
  'imageReferences',
  'skipImageReferences',
  'attestors',
  'attestations',
  'repository',
  'mutateDigest',
  'verifyDigest',
  'required',
  'useCache',
  'failureAction',
  'validate',
  'imageRegistryCredentials',
  'cosignOCI11',
  'image',
  'key',
  'roots',
  'subject',
  'issuer',
  'annotations',
  'additionalExtensions',
]

/**
 * What {@link checkKyvernoDocument} found: the policy when valid, else its (bounded) field errors.
 *
 * @example
 * ```ts
 * const { policy, errors } = checkKyvernoDocument(doc, 'policy.yaml#0')
 * ```
 */
export interface CheckedKyvernoDocument {
  readonly policy?: KyvernoPolicy
  readonly name: string
  readonly errors: PolicyFieldError[]
  readonly omittedErrors: number
  readonly warnings: string[]
  readonly omittedWarnings: number
}

/**
 * Whether a decoded document is a Kyverno policy countersign reads (by `apiVersion` group and `kind`).
 *
 * @example
 * ```ts
 * if (isKyvernoDocument(doc)) checkKyvernoDocument(doc, 'policy.yaml#0')
 * ```
 */
export function isKyvernoDocument(doc: Record<string, unknown>): boolean {
  return (
    typeof doc.apiVersion === 'string' &&
    doc.apiVersion.startsWith('kyverno.io/') &&
    (doc.kind === 'ClusterPolicy' || doc.kind === 'Policy')
  )
}

/**
 * Validate and default one Kyverno policy document (already decoded).
 *
 * @example
 * ```ts
 * const r = checkKyvernoDocument(doc, 'policy.yaml#0')
 * if (r.policy) console.log(r.policy.rules.length)
 * ```
 */
export function checkKyvernoDocument(doc: Record<string, unknown>, where: string): CheckedKyvernoDocument {
  const ctx = newFieldContext()
  const metadata = isJSONObject(doc.metadata) ? doc.metadata : {}
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : ''
  const label = name || where
  const apiVersion = String(doc.apiVersion)
  if (!KYVERNO_API_VERSIONS.includes(apiVersion)) {
    fail(ctx, 'apiVersion', `unsupported ${shown(apiVersion)}: ${KYVERNO_API_VERSIONS.join(' or ')}`)
  }
  if (name === '') fail(ctx, 'metadata.name', 'required')
  const kind = doc.kind as 'ClusterPolicy' | 'Policy'
  const namespace =
    kind === 'Policy' ? (typeof metadata.namespace === 'string' && metadata.namespace) || 'default' : undefined
  const annotations = isJSONObject(metadata.annotations) ? metadata.annotations : {}
  const autogen = annotations[AUTOGEN_ANNOTATION]
  const spec = isJSONObject(doc.spec) ? doc.spec : undefined
  if (!spec) {
    fail(ctx, 'spec', 'required')
    return done(ctx, label)
  }
  unknownFields(ctx, spec, SPEC_FIELDS, 'spec')
  const action = failureAction(ctx, spec.validationFailureAction, 'spec.validationFailureAction') ?? 'Audit'
  const overrides = checkOverrides(ctx, spec)
  const rules: KyvernoRule[] = []
  let others = 0
  for (const [r, path] of objects(ctx, optArray(ctx, spec, 'rules', 'spec'), 'spec.rules')) {
    if (r.verifyImages === undefined || r.verifyImages === null) {
      others++
      continue
    }
    const rule = checkRule(ctx, r, path, action)
    if (rule) rules.push(rule)
  }
  if (others > 0) warn(ctx, `${others} rule(s) without verifyImages ignored: countersign evaluates image verification`)
  if (rules.length === 0) warn(ctx, 'no verifyImages rules: the policy checks no images')
  if (ctx.errors.length > 0 || ctx.omittedErrors > 0) return done(ctx, label)
  const policy: KyvernoPolicy = {
    kind,
    apiVersion,
    name,
    ...(namespace !== undefined ? { namespace } : {}),
    validationFailureAction: action,
    ...(overrides.length > 0 ? { validationFailureActionOverrides: overrides } : {}),
    ...(typeof autogen === 'string' ? { autogenControllers: autogen } : {}),
    rules,
  }
  return { ...done(ctx, label), policy }
}

function done(ctx: Ctx, name: string): CheckedKyvernoDocument {
  return {
    name,
    errors: ctx.errors,
    omittedErrors: ctx.omittedErrors,
    warnings: ctx.warnings,
    omittedWarnings: ctx.omittedWarnings,
  }
}

function failureAction(ctx: Ctx, v: unknown, path: string): 'Enforce' | 'Audit' | undefined {
  if (v === undefined || v === null) return undefined
  if (v === 'Enforce' || v === 'enforce') return 'Enforce'
  if (v === 'Audit' || v === 'audit') return 'Audit'
  fail(ctx, path, `expected Enforce or Audit, got ${shown(String(v))}`)
  return undefined
}

function checkOverrides(ctx: Ctx, spec: Record<string, unknown>) {
  const out: { action: 'Enforce' | 'Audit'; namespaces: string[] }[] = []
  const path = 'spec.validationFailureActionOverrides'
  for (const [o, p] of objects(ctx, optArray(ctx, spec, 'validationFailureActionOverrides', 'spec'), path)) {
    unknownFields(ctx, o, ['action', 'namespaces', 'namespaceSelector'], p)
    const action = failureAction(ctx, o.action, `${p}.action`)
    // A namespace selector needs the namespace's labels, which an image check does not have: the override cannot
    // be applied, and ignoring it could turn Enforce into Audit or back, so refuse the document.
    if (o.namespaceSelector !== undefined) fail(ctx, `${p}.namespaceSelector`, 'not supported by countersign')
    const namespaces = strings(ctx, o, 'namespaces', p) ?? []
    if (action) out.push({ action, namespaces })
  }
  return out
}

function strings(ctx: Ctx, obj: Record<string, unknown>, key: string, path: string): string[] | undefined {
  const list = optArray(ctx, obj, key, path)
  if (!list) return undefined
  const out: string[] = []
  for (const [i, v] of list.entries()) {
    if (typeof v === 'string') out.push(v)
    else fail(ctx, `${path}.${key}[${i}]`, 'expected a string')
  }
  return out
}

function checkRule(ctx: Ctx, r: Record<string, unknown>, path: string, action: 'Enforce' | 'Audit') {
  unknownFields(ctx, r, RULE_FIELDS, path)
  const name = optString(ctx, r, 'name', path)
  if (name === undefined) fail(ctx, `${path}.name`, 'required')
  for (const f of ['context', 'preconditions', 'celPreconditions'] as const) {
    if (r[f] !== undefined && r[f] !== null) {
      // Applying the rule regardless is the stricter reading: the rule may skip fewer images, never more.
      warn(ctx, `${path}.${f}: not evaluated by countersign; the rule applies to every image it matches`)
    }
  }
  if (r.imageExtractors !== undefined) {
    warn(ctx, `${path}.imageExtractors: not applied; countersign checks the images of pods and pod templates`)
  }
  const match = checkMatch(ctx, r, 'match', path)
  const exclude = checkMatch(ctx, r, 'exclude', path)
  const verifyImages: KyvernoImageVerification[] = []
  // As Kyverno's policy validation: an entry without its own failureAction keeps the previous entry's.
  let audit = action === 'Audit'
  for (const [v, p] of objects(ctx, optArray(ctx, r, 'verifyImages', path), `${path}.verifyImages`)) {
    const entryAction = failureAction(ctx, v.failureAction, `${p}.failureAction`)
    if (entryAction) audit = entryAction === 'Audit'
    const entry = checkVerifyImages(ctx, v, p, audit, entryAction)
    if (entry) verifyImages.push(entry)
  }
  if (name === undefined) return undefined
  return {
    name,
    ...(match ? { match } : {}),
    ...(exclude ? { exclude } : {}),
    verifyImages,
  }
}

function checkVerifyImages(
  ctx: Ctx,
  v: Record<string, unknown>,
  path: string,
  audit: boolean,
  failure: 'Enforce' | 'Audit' | undefined,
): KyvernoImageVerification | undefined {
  unknownFields(ctx, v, VERIFY_FIELDS, path)
  const type = optString(ctx, v, 'type', path) ?? 'Cosign'
  if (type !== 'Cosign' && type !== 'SigstoreBundle') {
    fail(ctx, `${path}.type`, `${shown(type)} is not supported by countersign (Cosign or SigstoreBundle)`)
  }
  const imageReferences = strings(ctx, v, 'imageReferences', path) ?? []
  const image = optString(ctx, v, 'image', path)
  if (image !== undefined) {
    warn(ctx, `${path}.image: deprecated, use imageReferences`)
    imageReferences.push(image)
  }
  if (imageReferences.length === 0) fail(ctx, path, 'An image reference is required')
  for (const [i, ref] of imageReferences.entries()) {
    if (ref.includes('{{')) fail(ctx, `${path}.imageReferences[${i}]`, 'variables ({{ }}) are not supported')
  }
  const skipImageReferences = strings(ctx, v, 'skipImageReferences', path) ?? []
  const bools: Record<string, boolean> = {}
  for (const f of ['mutateDigest', 'verifyDigest', 'required', 'useCache'] as const) {
    bools[f] = optBool(ctx, v, f, path) ?? true
  }
  if (audit && bools.mutateDigest) {
    fail(ctx, `${path}.mutateDigest`, "mutateDigest must be set to false for 'Audit' failure action")
  }
  // cosign's experimental OCI 1.1 storage (signatures as referrers in cosign's own format) is not read by countersign.
  if (optBool(ctx, v, 'cosignOCI11', path) === true) fail(ctx, `${path}.cosignOCI11`, 'not supported by countersign')
  if (v.imageRegistryCredentials !== undefined) {
    warn(ctx, `${path}.imageRegistryCredentials: ignored; images are read with countersign's registry credentials`)
  }
  const deprecated = deprecatedAttestor(ctx, v, path)
  const attestors: KyvernoAttestorSet[] = []
  for (const [s, p] of objects(ctx, optArray(ctx, v, 'attestors', path), `${path}.attestors`)) {
    const set = checkAttestorSet(ctx, s, p, true)
    if (set) attestors.push(set)
  }
  const rawAttestations = optArray(ctx, v, 'attestations', path)
  const attestations: KyvernoAttestation[] = []
  for (const [a, p] of objects(ctx, rawAttestations, `${path}.attestations`)) {
    const att = checkAttestation(ctx, a, p, deprecated ? [deprecated] : [])
    if (att) attestations.push(att)
  }
  // Kyverno puts the deprecated fields' attestor on the attestations when there are any, else on the image.
  if (deprecated && attestations.length === 0) attestors.push(deprecated)
  const repository = optString(ctx, v, 'repository', path)
  const validate = checkDeny(ctx, v, path)
  return {
    type: type === 'SigstoreBundle' ? 'SigstoreBundle' : 'Cosign',
    imageReferences,
    skipImageReferences,
    attestors,
    attestations,
    ...(repository !== undefined ? { repository } : {}),
    mutateDigest: bools.mutateDigest!,
    verifyDigest: bools.verifyDigest!,
    required: bools.required!,
    useCache: bools.useCache!,
    ...(failure ? { failureAction: failure } : {}),
    ...(validate ? { validate } : {}),
  }
}

/** `validate: {message, deny: {conditions}}`; conditions as `{any, all}` or, in the older form, a list (all). */
function checkDeny(ctx: Ctx, v: Record<string, unknown>, path: string) {
  const validate = optObject(ctx, v, 'validate', path)
  if (!validate) return undefined
  const p = `${path}.validate`
  unknownFields(ctx, validate, ['message', 'deny'], p)
  const message = optString(ctx, validate, 'message', p)
  const deny = optObject(ctx, validate, 'deny', p)
  if (!deny) {
    fail(ctx, `${p}.deny`, 'required')
    return undefined
  }
  unknownFields(ctx, deny, ['conditions'], `${p}.deny`)
  const conditions = deny.conditions
  const list = Array.isArray(conditions) ? [{ all: conditions }] : isJSONObject(conditions) ? [conditions] : undefined
  if (!list) {
    fail(ctx, `${p}.deny.conditions`, 'expected {any, all} or a list of conditions')
    return undefined
  }
  return {
    ...(message !== undefined ? { message } : {}),
    deny: checkConditionBlockList(ctx, list, `${p}.deny.conditions`),
  }
}

/** The attestor of the deprecated `key`/`subject`/`issuer`/`roots`/`annotations` fields, as Kyverno converts them. */
function deprecatedAttestor(ctx: Ctx, v: Record<string, unknown>, path: string): KyvernoAttestorSet | undefined {
  const key = optString(ctx, v, 'key', path)
  const issuer = optString(ctx, v, 'issuer', path)
  const subject = optString(ctx, v, 'subject', path)
  const roots = optString(ctx, v, 'roots', path)
  if (key === undefined && issuer === undefined) {
    if (subject !== undefined || roots !== undefined) warn(ctx, `${path}: subject and roots are ignored without issuer`)
    return undefined
  }
  warn(ctx, `${path}: key, subject, issuer, roots and annotations are deprecated; use attestors`)
  const entry: Record<string, unknown> = key !== undefined ? { keys: { publicKeys: key } } : {}
  if (key === undefined) {
    entry.keyless = {
      issuer,
      ...(subject !== undefined ? { subject } : {}),
      ...(roots !== undefined ? { roots } : { rekor: { url: 'https://rekor.sigstore.dev' } }),
    }
  }
  if (isJSONObject(v.annotations)) entry.annotations = v.annotations
  return checkAttestorSet(ctx, { entries: [entry] }, path, true)
}

function checkMatch(ctx: Ctx, r: Record<string, unknown>, key: 'match' | 'exclude', path: string) {
  const m = optObject(ctx, r, key, path)
  if (!m) return undefined
  const p = `${path}.${key}`
  unknownFields(ctx, m, ['any', 'all', 'resources', 'subjects', 'roles', 'clusterRoles'], p)
  const out: { any?: KyvernoResourceFilter[]; all?: KyvernoResourceFilter[] } = {}
  for (const mode of ['any', 'all'] as const) {
    const list = optArray(ctx, m, mode, p)
    if (!list) continue
    out[mode] = objects(ctx, list, `${p}.${mode}`).map(([f, fp]) => checkFilter(ctx, f, fp))
  }
  // The v1 shape without any/all is one filter.
  if (m.resources !== undefined || m.subjects !== undefined || m.roles !== undefined || m.clusterRoles !== undefined) {
    if (out.any || out.all) fail(ctx, p, 'resources and any/all cannot be combined')
    else out.all = [checkFilter(ctx, m, p)]
  }
  if (!out.any && !out.all) {
    fail(ctx, p, `${key} cannot be empty`)
    return undefined
  }
  return out as KyvernoMatch
}

function checkFilter(ctx: Ctx, f: Record<string, unknown>, path: string): KyvernoResourceFilter {
  unknownFields(ctx, f, ['resources', 'subjects', 'roles', 'clusterRoles'], path)
  const res = optObject(ctx, f, 'resources', path) ?? {}
  const rp = `${path}.resources`
  unknownFields(
    ctx,
    res,
    ['kinds', 'name', 'names', 'namespaces', 'annotations', 'selector', 'namespaceSelector', 'operations'],
    rp,
  )
  const names = strings(ctx, res, 'names', rp) ?? []
  const name = optString(ctx, res, 'name', rp)
  if (name !== undefined) names.push(name)
  const out: Record<string, unknown> = {}
  for (const k of ['kinds', 'namespaces', 'operations'] as const) {
    const list = strings(ctx, res, k, rp)
    if (list) out[k] = list
  }
  if (names.length > 0) out.names = names
  const annotations = optObject(ctx, res, 'annotations', rp)
  if (annotations) out.annotations = Object.fromEntries(Object.entries(annotations).map(([k, v]) => [k, String(v)]))
  for (const k of ['selector', 'namespaceSelector'] as const) {
    const s = optObject(ctx, res, k, rp)
    if (s) out[k] = checkSelector(ctx, s, `${rp}.${k}`)
  }
  const subjects = optArray(ctx, f, 'subjects', path)
  if (subjects) out.subjects = subjects
  for (const k of ['roles', 'clusterRoles'] as const) {
    const list = strings(ctx, f, k, path)
    if (list) out[k] = list
  }
  if (Object.keys(out).length === 0) fail(ctx, path, 'match cannot be empty')
  return out as KyvernoResourceFilter
}

function checkSelector(ctx: Ctx, s: Record<string, unknown>, path: string): KyvernoLabelSelector {
  unknownFields(ctx, s, ['matchLabels', 'matchExpressions'], path)
  const out: { matchLabels?: Record<string, string>; matchExpressions?: KyvernoLabelSelector['matchExpressions'] } = {}
  const labels = optObject(ctx, s, 'matchLabels', path)
  if (labels) out.matchLabels = Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]))
  const exprs = objects(ctx, optArray(ctx, s, 'matchExpressions', path), `${path}.matchExpressions`)
  if (exprs.length > 0) {
    out.matchExpressions = exprs.map(([e, p]) => {
      const key = optString(ctx, e, 'key', p) ?? ''
      const operator = optString(ctx, e, 'operator', p) ?? ''
      if (!['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(operator)) {
        fail(ctx, `${p}.operator`, `expected In, NotIn, Exists or DoesNotExist, got ${shown(operator)}`)
      }
      const values = strings(ctx, e, 'values', p)
      return { key, operator, ...(values ? { values } : {}) }
    })
  }
  return out
}
