/**
 * Kyverno attestor sets, attestor entries and attestations: checked with Kyverno's own validation rules
 * (`api/kyverno/v1/image_verification_types.go`), defaults applied, and a `publicKeys` PEM holding several keys
 * split into one entry per key (as Kyverno's engine does before counting).
 * @module
 */
import { isJSONObject } from '../../internal/json.js'
import { decodePEMBlocks, encodePEM } from '../../internal/pem.js'
import { parsePublicKey } from '../../keys/parse-public.js'
import { compileIdentityRegExp } from '../../x509/identity-sync.js'
import {
  type Ctx,
  fail,
  objects,
  optArray,
  optBool,
  optObject,
  optString,
  shown,
  unknownFields,
  warn,
} from '../field-checks.js'
import { kmsProblem } from '../validate.js'
import { KYVERNO_OPERATORS } from './operators.js'
import type {
  KyvernoAttestation,
  KyvernoAttestor,
  KyvernoAttestorSet,
  KyvernoCertificates,
  KyvernoCTLog,
  KyvernoKeyless,
  KyvernoKeys,
  KyvernoRekor,
} from './types.js'

const HASH_ALGORITHMS = ['sha224', 'sha256', 'sha384', 'sha512']
/**
 * cosign's short names of the Fulcio extensions Kyverno accepts in `additionalExtensions` (raw OIDs are accepted too).
 *
 * @example
 * ```ts
 * KYVERNO_EXTENSION_NAMES.includes('githubWorkflowRepository') // true
 * ```
 */
export const KYVERNO_EXTENSION_NAMES = [
  'issuer',
  'githubWorkflowTrigger',
  'githubWorkflowSha',
  'githubWorkflowName',
  'githubWorkflowRepository',
  'githubWorkflowRef',
]
const OID = /^\d+(\.\d+)+$/

/** Text that is a Kyverno variable: countersign has no admission request to substitute it from. */
function hasVariable(v: string): boolean {
  return v.includes('{{')
}

function stringMap(
  ctx: Ctx,
  obj: Record<string, unknown>,
  key: string,
  path: string,
): Record<string, string> | undefined {
  const m = optObject(ctx, obj, key, path)
  if (!m) return undefined
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') fail(ctx, `${path}.${key}.${shown(k)}`, 'expected a string')
    else out[k] = v
  }
  return out
}

function checkRekor(ctx: Ctx, obj: Record<string, unknown>, path: string): KyvernoRekor | undefined {
  const r = optObject(ctx, obj, 'rekor', path)
  if (!r) return undefined
  unknownFields(ctx, r, ['url', 'pubkey', 'ignoreTlog'], `${path}.rekor`)
  const url = optString(ctx, r, 'url', `${path}.rekor`)
  const pubkey = optString(ctx, r, 'pubkey', `${path}.rekor`)
  const ignoreTlog = optBool(ctx, r, 'ignoreTlog', `${path}.rekor`)
  return {
    ...(url !== undefined ? { url } : {}),
    ...(pubkey !== undefined ? { pubkey } : {}),
    ...(ignoreTlog !== undefined ? { ignoreTlog } : {}),
  }
}

function checkCTLog(ctx: Ctx, obj: Record<string, unknown>, path: string): KyvernoCTLog | undefined {
  const c = optObject(ctx, obj, 'ctlog', path)
  if (!c) return undefined
  unknownFields(ctx, c, ['ignoreSCT', 'pubkey', 'tsaCertChain'], `${path}.ctlog`)
  const ignoreSCT = optBool(ctx, c, 'ignoreSCT', `${path}.ctlog`)
  const pubkey = optString(ctx, c, 'pubkey', `${path}.ctlog`)
  const tsaCertChain = optString(ctx, c, 'tsaCertChain', `${path}.ctlog`)
  return {
    ...(ignoreSCT !== undefined ? { ignoreSCT } : {}),
    ...(pubkey !== undefined ? { pubkey } : {}),
    ...(tsaCertChain !== undefined ? { tsaCertChain } : {}),
  }
}

/** The log settings shared by the three leaf attestors. */
function logSettings(ctx: Ctx, obj: Record<string, unknown>, path: string) {
  const rekor = checkRekor(ctx, obj, path)
  const ctlog = checkCTLog(ctx, obj, path)
  return { ...(rekor ? { rekor } : {}), ...(ctlog ? { ctlog } : {}) }
}

/**
 * The PEM public keys of a `publicKeys` text, each checked: Kyverno splits after every `END PUBLIC KEY` line and
 * drops what follows the last one.
 */
function splitPublicKeys(ctx: Ctx, text: string, path: string): string[] {
  let blocks: ReturnType<typeof decodePEMBlocks>
  try {
    blocks = decodePEMBlocks(text)
  } catch (e) {
    fail(ctx, path, (e as Error).message)
    return []
  }
  const keys = blocks.filter((b) => b.label === 'PUBLIC KEY')
  if (keys.length === 0) {
    fail(ctx, path, 'holds no PEM public key')
    return []
  }
  const out: string[] = []
  for (const [i, b] of keys.entries()) {
    const pem = encodePEM('PUBLIC KEY', b.bytes)
    try {
      parsePublicKey(pem)
      out.push(pem)
    } catch (e) {
      fail(ctx, `${path}[${i}]`, (e as Error).message)
    }
  }
  return out
}

/**
 * `keys`: a PEM (one entry per key), a KMS URI or `k8s://namespace/name` reference in `publicKeys`, `kms`, or
 * `secret`. Returns one `keys` value per resulting entry.
 */
function checkKeys(ctx: Ctx, k: Record<string, unknown>, path: string, expand: boolean): KyvernoKeys[] {
  unknownFields(ctx, k, ['publicKeys', 'kms', 'secret', 'signatureAlgorithm', 'rekor', 'ctlog'], path)
  const publicKeys = optString(ctx, k, 'publicKeys', path)
  const kms = optString(ctx, k, 'kms', path)
  const secretObj = optObject(ctx, k, 'secret', path)
  const signatureAlgorithm = (optString(ctx, k, 'signatureAlgorithm', path) ?? 'sha256').toLowerCase()
  if (!HASH_ALGORITHMS.includes(signatureAlgorithm)) {
    fail(ctx, `${path}.signatureAlgorithm`, `Invalid signature algorithm provided: ${shown(signatureAlgorithm)}`)
  }
  const logs = logSettings(ctx, k, path)
  if (publicKeys === undefined && kms === undefined && !secretObj) {
    fail(ctx, path, 'A public key, kms key or secret is required')
    return []
  }
  // Kyverno's precedence when several are set: publicKeys, then secret, then kms.
  if (publicKeys !== undefined) {
    if (hasVariable(publicKeys)) {
      fail(ctx, `${path}.publicKeys`, 'variables ({{ }}) are not supported by countersign: give the PEM text')
      return []
    }
    const trimmed = publicKeys.trim()
    if (!trimmed.startsWith('-----BEGIN')) return [keyRef(ctx, trimmed, `${path}.publicKeys`, signatureAlgorithm, logs)]
    const pems = splitPublicKeys(ctx, publicKeys, `${path}.publicKeys`)
    const list = expand ? pems : pems.length > 0 ? [pems.join('')] : []
    return list.map((pem) => ({ publicKeys: pem, signatureAlgorithm, ...logs }))
  }
  if (secretObj) {
    unknownFields(ctx, secretObj, ['name', 'namespace'], `${path}.secret`)
    const name = optString(ctx, secretObj, 'name', `${path}.secret`)
    const namespace = optString(ctx, secretObj, 'namespace', `${path}.secret`)
    if (name === undefined) {
      fail(ctx, `${path}.secret.name`, 'required')
      return []
    }
    return [{ secret: { name, ...(namespace !== undefined ? { namespace } : {}) }, signatureAlgorithm, ...logs }]
  }
  return [keyRef(ctx, kms!, `${path}.kms`, signatureAlgorithm, logs)]
}

/** A key reference that is not PEM: a KMS URI or a `k8s://namespace/name` Secret. */
function keyRef(
  ctx: Ctx,
  ref: string,
  path: string,
  signatureAlgorithm: string,
  logs: Pick<KyvernoKeys, 'rekor' | 'ctlog'>,
): KyvernoKeys {
  const k8s = /^k8s:\/\/([^/]+)\/([^/]+)$/.exec(ref)
  if (k8s) return { secret: { namespace: k8s[1]!, name: k8s[2]! }, signatureAlgorithm, ...logs }
  const problem = kmsProblem(ref)
  if (problem) fail(ctx, path, `${problem} (or a PEM public key, or k8s://namespace/name)`)
  return { kms: ref, signatureAlgorithm, ...logs }
}

function checkKeyless(ctx: Ctx, k: Record<string, unknown>, path: string): KyvernoKeyless {
  unknownFields(
    ctx,
    k,
    ['subject', 'subjectRegExp', 'issuer', 'issuerRegExp', 'roots', 'additionalExtensions', 'rekor', 'ctlog'],
    path,
  )
  const out: Record<string, unknown> = {}
  for (const f of ['subject', 'subjectRegExp', 'issuer', 'issuerRegExp', 'roots'] as const) {
    const v = optString(ctx, k, f, path)
    if (v === undefined) continue
    if (hasVariable(v)) fail(ctx, `${path}.${f}`, 'variables ({{ }}) are not supported by countersign')
    out[f] = v
  }
  for (const f of ['subjectRegExp', 'issuerRegExp'] as const) {
    if (typeof out[f] !== 'string') continue
    try {
      compileIdentityRegExp(out[f] as string)
    } catch (e) {
      fail(ctx, `${path}.${f}`, (e as Error).message)
    }
  }
  const extensions = stringMap(ctx, k, 'additionalExtensions', path)
  for (const name of Object.keys(extensions ?? {})) {
    if (!KYVERNO_EXTENSION_NAMES.includes(name) && !OID.test(name)) {
      fail(ctx, `${path}.additionalExtensions.${shown(name)}`, 'unknown extension (a cosign short name or an OID)')
    }
  }
  if (extensions) out.additionalExtensions = extensions
  Object.assign(out, logSettings(ctx, k, path))
  // Kyverno's own rule: without a log to find the signing time in, certificates need explicit roots.
  if (out.rekor === undefined && out.roots === undefined) fail(ctx, path, 'Either Rekor URL or roots are required')
  if (out.rekor !== undefined && (out.rekor as KyvernoRekor).url === undefined) fail(ctx, path, 'An URL is required')
  return out as KyvernoKeyless
}

function checkCertificates(ctx: Ctx, c: Record<string, unknown>, path: string): KyvernoCertificates {
  unknownFields(ctx, c, ['cert', 'certChain', 'rekor', 'ctlog'], path)
  const cert = optString(ctx, c, 'cert', path)
  const certChain = optString(ctx, c, 'certChain', path)
  if (cert === undefined && certChain === undefined) fail(ctx, path, 'cert or certChain required')
  for (const [f, v] of [
    ['cert', cert],
    ['certChain', certChain],
  ] as const) {
    if (v !== undefined && hasVariable(v))
      fail(ctx, `${path}.${f}`, 'variables ({{ }}) are not supported by countersign')
  }
  return {
    ...(cert !== undefined ? { cert } : {}),
    ...(certChain !== undefined ? { certChain } : {}),
    ...logSettings(ctx, c, path),
  }
}

/**
 * One attestor entry (or several: a multi-key `publicKeys` when `expand`). `expand` is false inside attestations,
 * where Kyverno does not split keys.
 */
function checkAttestor(ctx: Ctx, a: Record<string, unknown>, path: string, expand: boolean): KyvernoAttestor[] {
  unknownFields(ctx, a, ['keys', 'keyless', 'certificates', 'attestor', 'annotations', 'repository'], path)
  const kinds = ['keys', 'keyless', 'certificates', 'attestor'].filter((f) => a[f] !== undefined && a[f] !== null)
  if (kinds.length !== 1) {
    fail(ctx, path, 'keys, certificates, keyless, or a nested attestor is required')
    return []
  }
  const annotations = stringMap(ctx, a, 'annotations', path)
  const repository = optString(ctx, a, 'repository', path)
  const common = {
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...(repository !== undefined ? { repository } : {}),
  }
  const kind = kinds[0]!
  const value = a[kind]
  if (!isJSONObject(value)) {
    fail(ctx, `${path}.${kind}`, 'expected an object')
    return []
  }
  if (kind === 'keys') return checkKeys(ctx, value, `${path}.keys`, expand).map((keys) => ({ keys, ...common }))
  if (kind === 'keyless') return [{ keyless: checkKeyless(ctx, value, `${path}.keyless`), ...common }]
  if (kind === 'certificates')
    return [{ certificates: checkCertificates(ctx, value, `${path}.certificates`), ...common }]
  const nested = checkAttestorSet(ctx, value, `${path}.attestor`, expand)
  return nested ? [{ attestor: nested, ...common }] : []
}

/**
 * An attestor set: `count` (absent or 0: all entries) and its entries, each checked.
 *
 * @example
 * ```ts
 * const set = checkAttestorSet(ctx, { count: 1, entries: [{ keys: { publicKeys: pem } }] }, 'spec.rules[0]…', true)
 * ```
 */
export function checkAttestorSet(
  ctx: Ctx,
  s: Record<string, unknown>,
  path: string,
  expand: boolean,
): KyvernoAttestorSet | undefined {
  unknownFields(ctx, s, ['count', 'entries'], path)
  const rawEntries = optArray(ctx, s, 'entries', path) ?? []
  if (rawEntries.length === 0) fail(ctx, path, 'An entry is required')
  let count: number | undefined
  if (s.count !== undefined && s.count !== null) {
    if (typeof s.count !== 'number' || !Number.isInteger(s.count) || s.count < 0) {
      fail(ctx, `${path}.count`, 'expected a non-negative integer')
    } else if (s.count > rawEntries.length) {
      // Kyverno compares with the entries as written, before keys are split.
      fail(ctx, path, 'Count cannot exceed length of entries')
    } else if (s.count > 0) count = s.count
  }
  const entries: KyvernoAttestor[] = []
  for (const [e, p] of objects(ctx, rawEntries, `${path}.entries`)) entries.push(...checkAttestor(ctx, e, p, expand))
  return { ...(count !== undefined ? { count } : {}), entries }
}

/**
 * One `attestations[]` item: `type` (or the deprecated `predicateType`), its attestor sets and conditions.
 *
 * @example
 * ```ts
 * const att = checkAttestation(ctx, { type: 'https://slsa.dev/provenance/v1' }, 'spec.rules[0].verifyImages[0].attestations[0]')
 * ```
 */
export function checkAttestation(
  ctx: Ctx,
  a: Record<string, unknown>,
  path: string,
  inherited: readonly KyvernoAttestorSet[],
): KyvernoAttestation | undefined {
  unknownFields(ctx, a, ['name', 'type', 'predicateType', 'attestors', 'conditions'], path)
  const name = optString(ctx, a, 'name', path)
  const type = optString(ctx, a, 'type', path) ?? optString(ctx, a, 'predicateType', path)
  if (a.type === undefined && a.predicateType !== undefined) warn(ctx, `${path}.predicateType: deprecated, use type`)
  const attestors: KyvernoAttestorSet[] = []
  for (const [s, p] of objects(ctx, optArray(ctx, a, 'attestors', path), `${path}.attestors`)) {
    const set = checkAttestorSet(ctx, s, p, false)
    if (set) attestors.push(set)
  }
  attestors.push(...inherited)
  const conditions = checkConditionBlocks(ctx, a, path)
  if (type === undefined) {
    fail(ctx, path, 'missing type')
    return undefined
  }
  return { ...(name !== undefined ? { name } : {}), type, attestors, conditions }
}

function checkConditionBlocks(ctx: Ctx, a: Record<string, unknown>, path: string) {
  return checkConditionBlockList(ctx, optArray(ctx, a, 'conditions', path), `${path}.conditions`)
}

/**
 * A list of `{any, all}` condition blocks, each condition checked (an operator Kyverno knows).
 *
 * @example
 * ```ts
 * const blocks = checkConditionBlockList(ctx, [{ all: [{ key: '{{ a }}', operator: 'Equals', value: 1 }] }], 'deny')
 * ```
 */
export function checkConditionBlockList(ctx: Ctx, list: unknown[] | undefined, path: string) {
  const blocks: { any?: ReturnType<typeof conditionList>; all?: ReturnType<typeof conditionList> }[] = []
  for (const [b, p] of objects(ctx, list, path)) {
    unknownFields(ctx, b, ['any', 'all'], p)
    const any = b.any !== undefined && b.any !== null ? conditionList(ctx, b, 'any', p) : undefined
    const all = b.all !== undefined && b.all !== null ? conditionList(ctx, b, 'all', p) : undefined
    blocks.push({ ...(any ? { any } : {}), ...(all ? { all } : {}) })
  }
  return blocks
}

function conditionList(ctx: Ctx, b: Record<string, unknown>, key: 'any' | 'all', path: string) {
  const out: { key: unknown; operator: string; value?: unknown; message?: string }[] = []
  for (const [c, p] of objects(ctx, optArray(ctx, b, key, path), `${path}.${key}`)) {
    unknownFields(ctx, c, ['key', 'operator', 'value', 'message'], p)
    const operator = optString(ctx, c, 'operator', p)
    const message = optString(ctx, c, 'message', p)
    if (operator === undefined) {
      fail(ctx, `${p}.operator`, 'required')
      continue
    }
    // Kyverno picks operator handlers case-insensitively.
    if (!(KYVERNO_OPERATORS as readonly string[]).some((o) => o.toLowerCase() === operator.toLowerCase())) {
      fail(ctx, `${p}.operator`, `unknown operator ${shown(operator)}`)
    }
    out.push({
      key: c.key ?? null,
      operator,
      ...(c.value !== undefined ? { value: c.value } : {}),
      ...(message !== undefined ? { message } : {}),
    })
  }
  return out
}
