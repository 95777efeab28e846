/**
 * Read ClusterImagePolicy documents: YAML (one or many documents) or JSON text, a decoded object, a `List` or
 * `ClusterImagePolicyList`, or an array of any of these; each validated with policy-controller's rules.
 * @module
 */
import { CountersignError } from '../errors.js'
import { boundedJoin, clipText, MAX_ITEM_LENGTH, MAX_QUOTED_LENGTH, quoteClipped } from '../internal/bounded-text.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { loadCELEngine } from './cel.js'
import type { KyvernoPolicy } from './kyverno/types.js'
import { checkKyvernoDocument, isKyvernoDocument } from './kyverno/validate.js'
import type { ClusterImagePolicy } from './types.js'
import { type CheckedPolicyDocument, checkPolicyDocument, needsCELEngine } from './validate.js'
import {
  type BoundedYAMLResult,
  MAX_YAML_ANCHORS,
  parseYAMLDocumentsBounded,
  parseYAMLDocumentsBoundedAsync,
} from './yaml-nesting.js'

/** Policy files are configuration: anything this large is a mistake or an attack (docs/policy.md, "Limits"). */
const MAX_POLICY_BYTES = 4 * 1024 * 1024
// Billion-laughs guard: a document may expand aliases only this often.
const MAX_ALIAS_COUNT = 100
/**
 * Field errors kept in `details.errors`, and warnings returned, over all documents of one input: one input can hold
 * many thousands of bad documents; the rest are counted.
 */
const MAX_ERRORS = 100
const MAX_WARNINGS = 100

/**
 * Options for {@link parsePolicies}.
 *
 * Exported from `countersign/policy`.
 */
export interface ParsePoliciesOptions {
  /** Named in errors (e.g. the file path). */
  readonly source?: string
}

/**
 * The policies read, and warnings (deprecated predicate types, unknown fields, features countersign does not
 * evaluate and therefore fails closed on): at most 100, then one "… and K more warning(s)".
 *
 * Exported from `countersign/policy`.
 */
export interface ParsedPolicies {
  /** The ClusterImagePolicies. */
  readonly policies: readonly ClusterImagePolicy[]
  /** The Kyverno `ClusterPolicy`/`Policy` documents (their `verifyImages` rules). */
  readonly kyverno: readonly KyvernoPolicy[]
  readonly warnings: readonly string[]
}

/**
 * Parse and validate ClusterImagePolicy documents (`policy.sigstore.dev/v1alpha1` or `v1beta1`). Defaults are
 * applied as policy-controller applies them: `mode: enforce`, authority names `authority-<index>`, keyless `url`
 * `https://fulcio.sigstore.dev` when neither `url` nor `ca-cert` is given. Every invalid field of every document is
 * reported in one error.
 *
 * @param input - YAML or JSON text (or its UTF-8 bytes), or already decoded documents.
 * @param options - `source` names the input in errors.
 * @throws {CountersignError} ERR_INVALID_INPUT naming the policy and each field (`details.errors`:
 *   `{ policy, field, message }[]`); YAML syntax errors; documents of another kind; duplicate policy names. The
 *   message lists the first 16 problems then "… and K more"; `details.errors` keeps the first 100
 *   (`details.omittedErrors` counts the rest); names and values quoted in them are clipped.
 * @throws {CountersignError} ERR_DEPENDENCY_MISSING (`details.reason: 'not-loaded'`) when a policy has a CEL
 *   condition and the CEL engine was not loaded: `await loadCELEngine()` first, or use {@link parsePoliciesAsync}.
 * @example
 * ```ts
 * import { loadCELEngine, parsePolicies } from 'countersign/policy'
 * await loadCELEngine() // only needed for policies with `policy: {type: cel}` conditions
 * const { policies, warnings } = parsePolicies(await readFile('policy.yaml', 'utf8'))
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function parsePolicies(input: string | Uint8Array | unknown, options?: ParsePoliciesOptions): ParsedPolicies {
  const source = sourceName(options)
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return policiesFromDocuments([input], source)
  const text = decodeText(input, source)
  const list = parseYAMLDocumentsBounded(text, MAX_JSON_DEPTH, { uniqueKeys: true })
  return policiesFromDocuments(documentValues(list, source), source)
}

/**
 * {@link parsePolicies} for servers: the same result and errors, but reading YAML hands the event loop back every few
 * milliseconds, so requests keep being answered while a large policy file is read (YAML parses at 2–6 s per MiB of
 * hostile text; docs/policy.md, "Limits"). A policy with a CEL condition loads the CEL engine first
 * ({@link loadCELEngine}); policies without one never load it.
 *
 * @param input - YAML or JSON text (or its UTF-8 bytes), or already decoded documents.
 * @param options - `source` names the input in errors.
 * @throws {CountersignError} as {@link parsePolicies}; ERR_DEPENDENCY_MISSING when a policy has a CEL condition
 *   and the optional package `@bufbuild/cel` is not installed.
 * @example
 * ```ts
 * import { parsePoliciesAsync } from 'countersign/policy'
 * const { policies } = await parsePoliciesAsync(await readFile('policy.yaml', 'utf8'), { source: 'policy.yaml' })
 * ```
 *
 * Exported from `countersign/policy`.
 */
export async function parsePoliciesAsync(
  input: string | Uint8Array | unknown,
  options?: ParsePoliciesOptions,
): Promise<ParsedPolicies> {
  const source = sourceName(options)
  let docs: unknown[]
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) docs = [input]
  else {
    const text = decodeText(input, source)
    docs = documentValues(await parseYAMLDocumentsBoundedAsync(text, MAX_JSON_DEPTH, { uniqueKeys: true }), source)
  }
  if (docs.some((d) => hasCELCondition(d, 0))) await loadCELEngine()
  return policiesFromDocuments(docs, source)
}

/**
 * Whether a decoded input (a document, a `List`, an array of them) holds a ClusterImagePolicy with a CEL condition.
 * Walks what {@link flatten} walks, but never throws: the validation that follows reports malformed input.
 */
function hasCELCondition(v: unknown, depth: number): boolean {
  if (depth > 4) return false
  if (Array.isArray(v)) return v.some((x) => hasCELCondition(x, depth + 1))
  if (!isJSONObject(v)) return false
  if (v.kind === 'List' || v.kind === 'ClusterImagePolicyList') {
    return Array.isArray(v.items) && v.items.some((x) => hasCELCondition(x, depth + 1))
  }
  return v.kind === 'ClusterImagePolicy' && isJSONObject(v.spec) && needsCELEngine(v.spec.policy, v.spec.authorities)
}

/**
 * The decoded documents of YAML (one or many documents) or JSON text, read with the bounds of policy files (size,
 * depth, aliases). The CLI reads workload manifests with it.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT as {@link parsePolicies} for text that is too large, too deep, not
 *   UTF-8 or not YAML.
 * @example
 * ```ts
 * const docs = await parseDocumentsAsync(await readFile('deploy.yaml'), 'deploy.yaml')
 * ```
 */
export async function parseDocumentsAsync(input: string | Uint8Array, source: string): Promise<unknown[]> {
  const name = clipText(source, MAX_ITEM_LENGTH)
  const text = decodeText(input, name)
  return documentValues(await parseYAMLDocumentsBoundedAsync(text, MAX_JSON_DEPTH, { uniqueKeys: true }), name)
}

/** The source (a path) is the caller's; clipped all the same, since it is repeated in every message. */
function sourceName(options: ParsePoliciesOptions | undefined): string {
  return clipText(options?.source ?? 'policy', MAX_ITEM_LENGTH)
}

function policiesFromDocuments(docs: readonly unknown[], source: string): ParsedPolicies {
  // Decoded documents handed in by the caller are walked by recursive validators too (docs/formats.md §Input limits).
  for (const d of docs) assertJSONShape(d, { code: 'ERR_INVALID_INPUT', what: source, maxDepth: MAX_JSON_DEPTH })
  const flat: { doc: Record<string, unknown>; where: string }[] = []
  for (const [i, d] of docs.entries()) flatten(d, `${source}#${i}`, flat, 0)
  const warnings: string[] = []
  let omittedWarnings = 0
  const errors: { policy: string; field: string; message: string }[] = []
  let omittedErrors = 0
  const collect = (r: Omit<CheckedPolicyDocument, 'policy'>, prefix = '') => {
    for (const w of r.warnings) {
      if (warnings.length < MAX_WARNINGS) warnings.push(`${prefix}${w}`)
      else omittedWarnings++
    }
    omittedWarnings += r.omittedWarnings
    for (const e of r.errors) addError(r.name, e.field, e.message)
    omittedErrors += r.omittedErrors
  }
  const addError = (policy: string, field: string, message: string) => {
    // The name is clipped once here: it is repeated in every error of its document.
    if (errors.length < MAX_ERRORS) errors.push({ policy: clipText(policy, MAX_QUOTED_LENGTH), field, message })
    else omittedErrors++
  }
  const policies: ClusterImagePolicy[] = []
  const kyverno: KyvernoPolicy[] = []
  const seen = new Set<string>()
  let kyvernoErrors = false
  for (const { doc, where } of flat) {
    if (isKyvernoDocument(doc)) {
      const r = checkKyvernoDocument(doc, where)
      kyvernoErrors ||= r.errors.length > 0
      collect(r, `${clipText(r.name, MAX_QUOTED_LENGTH)}: `)
      if (!r.policy) continue
      const key = `${r.policy.kind} ${r.policy.namespace ?? ''}/${r.policy.name}`
      if (seen.has(key)) {
        addError(r.policy.name, 'metadata.name', 'duplicate policy name')
        continue
      }
      seen.add(key)
      kyverno.push(r.policy)
      continue
    }
    if (doc.kind !== 'ClusterImagePolicy') {
      addError(
        where,
        'kind',
        `expected ClusterImagePolicy or a Kyverno ClusterPolicy/Policy, got ${quoteClipped(doc.kind)}`,
      )
      continue
    }
    const r = checkPolicyDocument(doc, where)
    collect(r)
    if (!r.policy) continue
    if (seen.has(r.policy.name)) {
      addError(r.policy.name, 'metadata.name', 'duplicate policy name')
      continue
    }
    seen.add(r.policy.name)
    policies.push(r.policy)
  }
  if (errors.length > 0) {
    const listed = boundedJoin(errors, '; ', {
      total: errors.length + omittedErrors,
      maxItemLength: 2 * MAX_ITEM_LENGTH,
      format: (e) => `policy ${JSON.stringify(e.policy)}: ${e.field}: ${e.message}`,
    })
    const what = kyvernoErrors && policies.length === 0 ? 'Kyverno policy' : 'ClusterImagePolicy'
    throw new CountersignError('ERR_INVALID_INPUT', `invalid ${what} in ${source}: ${listed}`, {
      details: { errors, ...(omittedErrors > 0 ? { omittedErrors } : {}) },
    })
  }
  if (omittedWarnings > 0) warnings.push(`… and ${omittedWarnings} more warning(s)`)
  if (policies.length === 0 && kyverno.length === 0) {
    throw new CountersignError('ERR_INVALID_INPUT', `no ClusterImagePolicy or Kyverno policy in ${source}`)
  }
  return { policies, kyverno, warnings }
}

/** The text of `input`, refused when too large or not UTF-8. */
function decodeText(input: string | Uint8Array, source: string): string {
  const size = typeof input === 'string' ? input.length : input.byteLength
  if (size > MAX_POLICY_BYTES) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `${source}: policy input is larger than ${MAX_POLICY_BYTES} bytes`,
      {
        details: { reason: 'too-large' },
      },
    )
  }
  try {
    return typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input)
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `${source}: policy is not UTF-8`, { cause })
  }
}

/**
 * The values of the parsed YAML documents (YAML 1.2 is a superset of JSON, so one parser reads both). The parse was
 * bounded in depth (the composer recurses per level) and in anchors (alias resolution is quadratic in them):
 * docs/formats.md §Input limits.
 */
function documentValues(list: BoundedYAMLResult, source: string): unknown[] {
  if (list === 'too-deep') {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `${source}: policy is nested too deeply (more than ${MAX_JSON_DEPTH} levels)`,
      { details: { reason: 'too-deep' } },
    )
  }
  if (list === 'too-many-anchors') {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `${source}: policy has more than ${MAX_YAML_ANCHORS} YAML anchors and aliases`,
      { details: { reason: 'too-large' } },
    )
  }
  const out: unknown[] = []
  for (const [i, doc] of list.entries()) {
    const err = doc.errors[0]
    if (err) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `${source}: document ${i}: YAML: ${clipText(err.message, MAX_ITEM_LENGTH)}`,
        { cause: err },
      )
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (cause) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `${source}: document ${i}: ${clipText(String((cause as Error).message), MAX_ITEM_LENGTH)}`,
        { cause },
      )
    }
    if (value !== null && value !== undefined) out.push(value)
  }
  return out
}

function flatten(
  v: unknown,
  where: string,
  out: { doc: Record<string, unknown>; where: string }[],
  depth: number,
): void {
  if (depth > 4) throw new CountersignError('ERR_INVALID_INPUT', `${where}: lists nested too deeply`)
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) flatten(x, `${where}[${i}]`, out, depth + 1)
    return
  }
  if (!isJSONObject(v)) throw new CountersignError('ERR_INVALID_INPUT', `${where}: expected an object`)
  const kind = v.kind
  if (kind === 'List' || kind === 'ClusterImagePolicyList') {
    if (!Array.isArray(v.items)) throw new CountersignError('ERR_INVALID_INPUT', `${where}: ${kind} without items`)
    for (const [i, x] of v.items.entries()) flatten(x, `${where}.items[${i}]`, out, depth + 1)
    return
  }
  out.push({ doc: v, where })
}
