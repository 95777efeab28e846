/**
 * ClusterImagePolicy validation and defaulting with policy-controller's rules (`clusterimagepolicy_validation.go`,
 * `_defaults.go`): every error is collected with its field path, so one pass reports them all.
 * @module
 */
import { isCountersignError } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import { isJSONObject } from '../internal/json.js'
import { parsePublicKey } from '../keys/parse-public.js'
import { parseRepository } from '../oci/reference.js'
import { compileIdentityRegExp } from '../x509/identity-sync.js'
import { compileCELCondition } from './cel.js'
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
} from './field-checks.js'
import { compileImageGlob } from './glob.js'
import type {
  ClusterImagePolicy,
  PolicyAttestation,
  PolicyAuthority,
  PolicyCondition,
  PolicyIdentity,
  PolicyKeylessRef,
  PolicyKeyRef,
} from './types.js'

export const POLICY_API_VERSIONS: readonly string[] = ['policy.sigstore.dev/v1alpha1', 'policy.sigstore.dev/v1beta1']
const HASH_ALGORITHMS = ['sha224', 'sha256', 'sha384', 'sha512']
const KMS_SCHEMES = ['awskms://', 'azurekms://', 'hashivault://', 'gcpkms://']
// cosign's short predicate names: valid, but deprecated in favour of URIs.
const SHORT_PREDICATE_TYPES = ['custom', 'slsaprovenance', 'spdx', 'spdxjson', 'cyclonedx', 'link', 'vuln']
// The resources the policy-controller webhook registers (its ValidResourceNames when deployed).
const MATCH_RESOURCES = ['pods', 'deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs']

const SPEC_FIELDS = ['images', 'authorities', 'policy', 'mode', 'match']
const AUTHORITY_FIELDS = [
  'name',
  'key',
  'keyless',
  'static',
  'source',
  'ctlog',
  'attestations',
  'rfc3161timestamp',
  'signatureFormat',
]

/**
 * What {@link checkPolicyDocument} found: the policy when valid, else its (bounded) field errors.
 *
 * @example
 * ```ts
 * const { policy, errors, omittedErrors } = checkPolicyDocument(doc, 'policy.yaml#0')
 * ```
 */
export interface CheckedPolicyDocument {
  readonly policy?: ClusterImagePolicy
  /** The policy's name, or where the document is when it has none. */
  readonly name: string
  /** The first field errors (at most 100). */
  readonly errors: PolicyFieldError[]
  /** Field errors beyond those kept. */
  readonly omittedErrors: number
  /** The first warnings (at most 100). */
  readonly warnings: string[]
  /** Warnings beyond those kept. */
  readonly omittedWarnings: number
}

/**
 * Validate and default one ClusterImagePolicy document (already decoded). Returns the policy, or the field errors
 * that policy-controller's admission webhook would give (plus a few of countersign's own), and warnings.
 */
export function checkPolicyDocument(doc: Record<string, unknown>, where: string): CheckedPolicyDocument {
  const ctx: Ctx = newFieldContext()
  const metadata = isJSONObject(doc.metadata) ? doc.metadata : {}
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : ''
  if (name === '') fail(ctx, 'metadata.name', 'missing field(s)')
  const apiVersion = typeof doc.apiVersion === 'string' ? doc.apiVersion : ''
  if (!POLICY_API_VERSIONS.includes(apiVersion)) {
    fail(ctx, 'apiVersion', `expected one of ${POLICY_API_VERSIONS.join(', ')}, got ${quoteClipped(doc.apiVersion)}`)
  }
  const spec = isJSONObject(doc.spec) ? doc.spec : undefined
  if (!spec) {
    fail(ctx, 'spec', 'missing field(s)')
    return checked(ctx, name || where)
  }
  unknownFields(ctx, spec, SPEC_FIELDS, 'spec')

  const images: { glob: string }[] = []
  const imageList = optArray(ctx, spec, 'images', 'spec')
  if (!imageList || imageList.length === 0) fail(ctx, 'spec.images', 'missing field(s)')
  for (const [img, path] of objects(ctx, imageList, 'spec.images')) {
    const glob = optString(ctx, img, 'glob', path)
    if (glob === undefined) {
      if (img.glob === undefined || img.glob === '') fail(ctx, `${path}.glob`, 'missing field(s)')
      continue
    }
    try {
      compileImageGlob(glob)
      images.push({ glob })
    } catch (e) {
      fail(ctx, `${path}.glob`, `invalid value: ${shown(glob)}: glob is invalid: ${(e as Error).message}`)
    }
  }

  const authorityList = optArray(ctx, spec, 'authorities', 'spec')
  // policy-controller's default fail-on-empty-authorities: true.
  if (!authorityList || authorityList.length === 0) fail(ctx, 'spec.authorities', 'missing field(s)')
  const authorities = objects(ctx, authorityList, 'spec.authorities').map(([a, path], i) =>
    checkAuthority(ctx, a, path, i),
  )
  const names = new Set<string>()
  for (const [i, a] of authorities.entries()) {
    if (names.has(a.name)) fail(ctx, `spec.authorities[${i}].name`, `duplicate authority name ${quoteClipped(a.name)}`)
    names.add(a.name)
  }

  let mode: 'enforce' | 'warn' = 'enforce'
  const m = optString(ctx, spec, 'mode', 'spec')
  if (m !== undefined) {
    if (m === 'enforce' || m === 'warn') mode = m
    else fail(ctx, 'spec.mode', `invalid value: ${shown(m)}: unsupported mode`)
  }

  const matchList = optArray(ctx, spec, 'match', 'spec')
  for (const [mr, path] of objects(ctx, matchList, 'spec.match')) {
    const resource = typeof mr.resource === 'string' ? mr.resource : ''
    if (resource !== '' && !MATCH_RESOURCES.includes(resource)) {
      fail(ctx, `${path}.resource`, `invalid value: ${shown(resource)}: unsupported resource name`)
    }
    if (mr.selector !== undefined && resource === '' && !mr.version && !mr.group) {
      fail(ctx, `${path}.selector`, 'selector requires a resource type to match the labels')
    }
  }
  if (matchList && matchList.length > 0) {
    warn(
      ctx,
      `policy ${shown(name)}: spec.match (resource selectors) is not applied by the image check: the policy applies to every matching image`,
    )
  }

  const policy = checkCondition(ctx, optObject(ctx, spec, 'policy', 'spec'), 'spec.policy', true)

  if (ctx.errors.length > 0) return checked(ctx, name || where)
  const result: ClusterImagePolicy = {
    name,
    apiVersion,
    images,
    authorities,
    ...(policy ? { policy } : {}),
    mode,
    ...(matchList && matchList.length > 0 ? { match: matchList } : {}),
  }
  return { ...checked(ctx, name), policy: deepFreeze(result) }
}

/** The outcome of a document so far. */
function checked(ctx: Ctx, name: string): CheckedPolicyDocument {
  const { errors, omittedErrors, warnings, omittedWarnings } = ctx
  return { name, errors, omittedErrors, warnings, omittedWarnings }
}

function checkAuthority(ctx: Ctx, a: Record<string, unknown>, path: string, index: number): PolicyAuthority {
  unknownFields(ctx, a, AUTHORITY_FIELDS, path)
  const name = optString(ctx, a, 'name', path) ?? `authority-${index}`
  const keyObj = optObject(ctx, a, 'key', path)
  const keylessObj = optObject(ctx, a, 'keyless', path)
  const staticObj = optObject(ctx, a, 'static', path)
  const count = [keyObj, keylessObj, staticObj].filter((x) => x !== undefined).length
  // As upstream: a missing or doubled one-of is reported alone, without the sub-fields' errors.
  if (count === 0) {
    fail(ctx, path, 'expected exactly one, got neither: key, keyless, static')
    return { name }
  }
  if (count > 1) {
    fail(ctx, path, 'expected exactly one, got both: key, keyless, static')
    return { name }
  }
  const out: Record<string, unknown> = { name }
  if (keyObj) out.key = checkKeyRef(ctx, keyObj, `${path}.key`)
  if (keylessObj) out.keyless = checkKeyless(ctx, keylessObj, `${path}.keyless`)
  if (staticObj) {
    const action = optString(ctx, staticObj, 'action', `${path}.static`)
    if (action === undefined) fail(ctx, `${path}.static.action`, 'missing field(s)')
    else if (action !== 'pass' && action !== 'fail') {
      fail(ctx, `${path}.static.action`, `invalid value: ${shown(action)}: unsupported action`)
    }
    const message = optString(ctx, staticObj, 'message', `${path}.static`)
    out.static = { action, ...(message !== undefined ? { message } : {}) }
  }

  const sources = optArray(ctx, a, 'source', path)
  const ctlog = optObject(ctx, a, 'ctlog', path)
  const tsa = optObject(ctx, a, 'rfc3161timestamp', path)
  const attestations = optArray(ctx, a, 'attestations', path)
  if (staticObj) {
    for (const [field, v] of [
      ['attestations', attestations && attestations.length > 0],
      ['source', sources && sources.length > 0],
      ['ctlog', ctlog],
      ['rfc3161timestamp', tsa],
    ] as const) {
      if (v) fail(ctx, path, `expected exactly one, got both: static, ${field}`)
    }
  }
  if (sources && sources.length > 1)
    fail(ctx, `${path}.source`, 'invalid value: source: only single source is supported')
  else if (sources && sources.length === 1) {
    out.source = objects(ctx, sources, `${path}.source`).map(([s, sp]) => checkSource(ctx, s, sp))
  }
  if (ctlog) {
    const url = optString(ctx, ctlog, 'url', `${path}.ctlog`)
    const trustRootRef = optString(ctx, ctlog, 'trustRootRef', `${path}.ctlog`)
    out.ctlog = { ...(url !== undefined ? { url } : {}), ...(trustRootRef !== undefined ? { trustRootRef } : {}) }
  }
  if (tsa) {
    const trustRootRef = optString(ctx, tsa, 'trustRootRef', `${path}.rfc3161timestamp`)
    out.rfc3161timestamp = trustRootRef !== undefined ? { trustRootRef } : {}
  }
  if (attestations && attestations.length > 0) {
    out.attestations = objects(ctx, attestations, `${path}.attestations`).map(([att, ap]) =>
      checkAttestation(ctx, att, ap),
    )
  }
  const format = optString(ctx, a, 'signatureFormat', path)
  if (format !== undefined) {
    if (format === 'legacy' || format === 'bundle') out.signatureFormat = format
    else fail(ctx, `${path}.signatureFormat`, `invalid value: ${shown(format)}: expected legacy or bundle`)
  }
  return out as unknown as PolicyAuthority
}

function checkKeyRef(ctx: Ctx, k: Record<string, unknown>, path: string): PolicyKeyRef {
  const data = optString(ctx, k, 'data', path)
  const kms = optString(ctx, k, 'kms', path)
  const secret = optObject(ctx, k, 'secretRef', path)
  const hash = optString(ctx, k, 'hashAlgorithm', path)
  const given = [data, kms, secret].filter((x) => x !== undefined).length
  if (given === 0) fail(ctx, path, 'expected exactly one, got neither: data, kms, secretref')
  if (given > 1) fail(ctx, path, 'expected exactly one, got both: data, kms, secretref')
  let hashAlgorithm = 'sha256'
  if (hash !== undefined) {
    const h = hash.trim().toLowerCase()
    if (HASH_ALGORITHMS.includes(h)) hashAlgorithm = h
    else fail(ctx, `${path}.hashAlgorithm`, `invalid value: ${shown(hash)}`)
  }
  if (data !== undefined) {
    try {
      parsePublicKey(data)
    } catch (e) {
      fail(ctx, `${path}.data`, `invalid value: not a PEM public key (${(e as Error).message})`)
    }
  }
  if (kms !== undefined) {
    const problem = kmsProblem(kms)
    if (problem) fail(ctx, `${path}.kms`, `invalid value: ${shown(kms)}: ${problem}`)
  }
  let secretRef: PolicyKeyRef['secretRef']
  if (secret) {
    const sname = optString(ctx, secret, 'name', `${path}.secretRef`)
    const namespace = optString(ctx, secret, 'namespace', `${path}.secretRef`)
    if (sname === undefined) fail(ctx, `${path}.secretRef.name`, 'missing field(s)')
    secretRef = { name: sname ?? '', ...(namespace !== undefined ? { namespace } : {}) }
  }
  return {
    ...(data !== undefined ? { data } : {}),
    ...(kms !== undefined ? { kms } : {}),
    ...(secretRef ? { secretRef } : {}),
    hashAlgorithm,
  }
}

// AWS: only key and alias ARNs (a bare key ID or alias name needs a region from the environment), optional
// host:port endpoint, as policy-controller's common.ValidateKMS.
const AWS_ARN_REF = /^awskms:\/\/([^/]*)\/arn:aws(?:-us-gov|-cn)?:kms:[a-z0-9-]+:\d{12}:(key\/[A-Za-z0-9-]+|alias\/.+)$/

/**
 * Why a KMS key URI is malformed (policy-controller's rules: a known provider scheme; AWS needs a key or alias ARN),
 * or undefined when it is fine.
 *
 * @example
 * ```ts
 * const problem = kmsProblem('awskms:///alias/signer') // needs an ARN
 * ```
 */
export function kmsProblem(kms: string): string | undefined {
  if (!KMS_SCHEMES.some((s) => kms.startsWith(s))) {
    return `malformed KMS format, should be prefixed by any of the supported providers: ${KMS_SCHEMES.join(' ')}`
  }
  if (!kms.startsWith('awskms://')) return undefined
  const m = AWS_ARN_REF.exec(kms)
  if (!m) return 'kms key should be in the format awskms://[ENDPOINT]/[ARN] with a key or alias ARN'
  const endpoint = m[1]!
  if (endpoint !== '' && !/^[^:/]+:\d+$/.test(endpoint)) return `malformed endpoint: ${shown(endpoint)}`
  return undefined
}

function checkKeyless(ctx: Ctx, k: Record<string, unknown>, path: string): PolicyKeylessRef {
  let url = optString(ctx, k, 'url', path)
  const caObj = optObject(ctx, k, 'ca-cert', path)
  // Defaulting (runs before validation upstream): no url and no ca-cert → the public Fulcio.
  if (url === undefined && caObj === undefined) url = 'https://fulcio.sigstore.dev'
  if (url !== undefined && caObj !== undefined) fail(ctx, path, 'expected exactly one, got both: url, ca-cert')
  const caCert = caObj ? checkKeyRef(ctx, caObj, `${path}.ca-cert`) : undefined
  const list = optArray(ctx, k, 'identities', path)
  if (!list || list.length === 0) fail(ctx, `${path}.identities`, 'missing field(s)')
  const identities = objects(ctx, list, `${path}.identities`).map(([id, ip]) => checkIdentity(ctx, id, ip))
  const trustRootRef = optString(ctx, k, 'trustRootRef', path)
  const insecureIgnoreSCT = optBool(ctx, k, 'insecureIgnoreSCT', path)
  return {
    ...(url !== undefined ? { url } : {}),
    ...(caCert ? { 'ca-cert': caCert } : {}),
    identities,
    ...(trustRootRef !== undefined ? { trustRootRef } : {}),
    ...(insecureIgnoreSCT !== undefined ? { insecureIgnoreSCT } : {}),
  }
}

function checkIdentity(ctx: Ctx, id: Record<string, unknown>, path: string): PolicyIdentity {
  const issuer = optString(ctx, id, 'issuer', path)
  const subject = optString(ctx, id, 'subject', path)
  const issuerRegExp = optString(ctx, id, 'issuerRegExp', path)
  const subjectRegExp = optString(ctx, id, 'subjectRegExp', path)
  if (issuer !== undefined && issuerRegExp !== undefined) {
    fail(ctx, path, 'expected exactly one, got both: issuer, issuerRegExp')
  }
  if (subject !== undefined && subjectRegExp !== undefined) {
    fail(ctx, path, 'expected exactly one, got both: subject, subjectRegExp')
  }
  for (const [field, re] of [
    ['issuerRegExp', issuerRegExp],
    ['subjectRegExp', subjectRegExp],
  ] as const) {
    if (re === undefined) continue
    try {
      compileIdentityRegExp(re)
    } catch (e) {
      fail(ctx, `${path}.${field}`, `invalid value: ${shown(re)}: regex is invalid: ${(e as Error).message}`)
    }
  }
  if (subject === undefined && subjectRegExp === undefined) fail(ctx, path, 'missing field(s): subject, subjectRegExp')
  if (issuer === undefined && issuerRegExp === undefined) fail(ctx, path, 'missing field(s): issuer, issuerRegExp')
  return {
    ...(issuer !== undefined ? { issuer } : {}),
    ...(subject !== undefined ? { subject } : {}),
    ...(issuerRegExp !== undefined ? { issuerRegExp } : {}),
    ...(subjectRegExp !== undefined ? { subjectRegExp } : {}),
  }
}

function checkSource(ctx: Ctx, s: Record<string, unknown>, path: string): NonNullable<PolicyAuthority['source']>[0] {
  const oci = optString(ctx, s, 'oci', path)
  if (oci !== undefined) {
    try {
      // As common.ValidateOCI: `host/repo` must be a fully qualified repository; otherwise a registry name.
      if (oci.includes('/') && /[.:]/.test(oci.slice(0, oci.indexOf('/')))) parseRepository(oci, { strict: true })
      else if (!/^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?$/.test(oci)) throw new Error('not a registry')
    } catch (e) {
      fail(ctx, `${path}.oci`, `invalid value: ${shown(oci)}: ${(e as Error).message}`)
    }
  }
  const secrets = optArray(ctx, s, 'signaturePullSecrets', path)
  const signaturePullSecrets = objects(ctx, secrets, `${path}.signaturePullSecrets`).map(([sec, sp]) => {
    const n = optString(ctx, sec, 'name', sp)
    if (n === undefined) fail(ctx, `${sp}.name`, 'missing field(s)')
    return { name: n ?? '' }
  })
  const tagPrefix = optString(ctx, s, 'tagPrefix', path)
  return {
    ...(oci !== undefined ? { oci } : {}),
    ...(signaturePullSecrets.length > 0 ? { signaturePullSecrets } : {}),
    ...(tagPrefix !== undefined ? { tagPrefix } : {}),
  }
}

function checkAttestation(ctx: Ctx, a: Record<string, unknown>, path: string): PolicyAttestation {
  const name = optString(ctx, a, 'name', path)
  if (name === undefined) fail(ctx, `${path}.name`, 'missing field(s)')
  const predicateType = optString(ctx, a, 'predicateType', path)
  if (predicateType === undefined) fail(ctx, `${path}.predicateType`, 'missing field(s)')
  else if (SHORT_PREDICATE_TYPES.includes(predicateType) || !/^([A-Za-z][A-Za-z0-9+.-]*:|\/)/.test(predicateType)) {
    warn(
      ctx,
      `${path}.predicateType: deprecated value ${quoteClipped(predicateType)}, please use RFC 3986 conformant values`,
    )
  }
  const policy = checkCondition(ctx, optObject(ctx, a, 'policy', path), `${path}.policy`, false)
  return { name: name ?? '', predicateType: predicateType ?? '', ...(policy ? { policy } : {}) }
}

/**
 * Whether a policy with this CIP-level `policy` and these `authorities` has a CEL condition to compile: the places
 * {@link checkCondition} compiles (`policy`, and each `authorities[].attestations[].policy`, of type `cel` with
 * inline `data`). Takes a document's `spec` fields or a parsed ClusterImagePolicy's (same names); never throws, as
 * malformed input is for the validation to report. The async entry points load the CEL engine for these only.
 *
 * @example
 * ```ts
 * if (needsCELEngine(policy.policy, policy.authorities)) await loadCELEngine()
 * ```
 */
export function needsCELEngine(policy: unknown, authorities: unknown): boolean {
  if (isInlineCEL(policy)) return true
  if (!Array.isArray(authorities)) return false
  return authorities.some(
    (a) =>
      isJSONObject(a) &&
      Array.isArray(a.attestations) &&
      a.attestations.some((t) => isJSONObject(t) && isInlineCEL(t.policy)),
  )
}

function isInlineCEL(p: unknown): boolean {
  return isJSONObject(p) && p.type === 'cel' && typeof p.data === 'string' && p.data !== ''
}

function checkCondition(
  ctx: Ctx,
  p: Record<string, unknown> | undefined,
  path: string,
  inSpec: boolean,
): PolicyCondition | undefined {
  if (!p) return undefined
  const type = optString(ctx, p, 'type', path)
  if (type !== 'cel' && type !== 'cue' && type !== 'rego') {
    fail(ctx, `${path}.type`, `invalid value: ${shown(type ?? '')}: only [cel,cue,rego] are supported`)
  }
  const data = optString(ctx, p, 'data', path)
  const remoteObj = optObject(ctx, p, 'remote', path)
  const cmObj = optObject(ctx, p, 'configMapRef', path)
  const given = [data, remoteObj, cmObj].filter((x) => x !== undefined).length
  if (given === 0) fail(ctx, path, 'missing field(s): data, configMapRef, remote')
  if (given > 1) fail(ctx, path, 'expected exactly one, got both: data, configMapRef, remote')
  let remote: PolicyCondition['remote']
  if (remoteObj) {
    const url = optString(ctx, remoteObj, 'url', `${path}.remote`) ?? ''
    if (!/^https:\/\/[^/?#]+/.test(url)) {
      fail(
        ctx,
        `${path}.remote.url`,
        `invalid value: ${shown(url)}: url valid is invalid. host and https scheme are expected`,
      )
    }
    const sha256sum = optString(ctx, remoteObj, 'sha256sum', `${path}.remote`)
    if (sha256sum === undefined) fail(ctx, `${path}.remote.sha256sum`, 'missing field(s)')
    remote = { url, sha256sum: sha256sum ?? '' }
  }
  let configMapRef: PolicyCondition['configMapRef']
  if (cmObj) {
    const name = optString(ctx, cmObj, 'name', `${path}.configMapRef`)
    const key = optString(ctx, cmObj, 'key', `${path}.configMapRef`)
    const namespace = optString(ctx, cmObj, 'namespace', `${path}.configMapRef`)
    if (name === undefined) fail(ctx, `${path}.configMapRef.name`, 'missing field(s)')
    if (key === undefined) fail(ctx, `${path}.configMapRef.key`, 'missing field(s)')
    configMapRef = { name: name ?? '', key: key ?? '', ...(namespace !== undefined ? { namespace } : {}) }
  }
  const flags: Record<string, boolean> = {}
  for (const f of ['fetchConfigFile', 'includeSpec', 'includeObjectMeta', 'includeTypeMeta'] as const) {
    const v = optBool(ctx, p, f, path)
    if (v === undefined) continue
    if (!inSpec) fail(ctx, `${path}.${f}`, 'must not set the field(s)')
    else {
      flags[f] = v
      if (v) warn(ctx, `${path}.${f}: not supported by countersign; the condition sees only authorityMatches`)
    }
  }
  if (type === 'cel' && data !== undefined) {
    try {
      compileCELCondition(data)
    } catch (e) {
      // An engine that is not loaded says nothing about the policy: that error stops the parse instead.
      if (isCountersignError(e, 'ERR_DEPENDENCY_MISSING')) throw e
      fail(ctx, `${path}.data`, (e as Error).message)
    }
  }
  if (type === 'cue' || type === 'rego') {
    warn(ctx, `${path}: ${type} policies are not evaluated by countersign and fail closed; use type: cel`)
  } else if (remote || configMapRef) {
    warn(ctx, `${path}: remote and configMapRef policies are not fetched by countersign and fail closed`)
  }
  return {
    type: type as PolicyCondition['type'],
    ...(data !== undefined ? { data } : {}),
    ...(remote ? { remote } : {}),
    ...(configMapRef ? { configMapRef } : {}),
    ...flags,
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}
