/**
 * Read ClusterImagePolicy documents: YAML (one or many documents) or JSON text, a decoded object, a `List` or
 * `ClusterImagePolicyList`, or an array of any of these; each validated with policy-controller's rules.
 * @module
 */
import { parseAllDocuments } from 'yaml'
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import type { ClusterImagePolicy } from './types.js'
import { checkPolicyDocument, type PolicyFieldError } from './validate.js'

/** Policy files are configuration: anything this large is a mistake or an attack. */
const MAX_POLICY_BYTES = 4 * 1024 * 1024
// Billion-laughs guard: a document may expand aliases only this often.
const MAX_ALIAS_COUNT = 100

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
 * evaluate and therefore fails closed on).
 *
 * Exported from `countersign/policy`.
 */
export interface ParsedPolicies {
  readonly policies: readonly ClusterImagePolicy[]
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
 *   `{ policy, field, message }[]`); YAML syntax errors; documents of another kind; duplicate policy names.
 * @example
 * ```ts
 * import { parsePolicies } from 'countersign/policy'
 * const { policies, warnings } = parsePolicies(await readFile('policy.yaml', 'utf8'))
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function parsePolicies(input: string | Uint8Array | unknown, options?: ParsePoliciesOptions): ParsedPolicies {
  const source = options?.source ?? 'policy'
  const docs = typeof input === 'string' || input instanceof Uint8Array ? decodeText(input, source) : [input]
  const flat: { doc: Record<string, unknown>; where: string }[] = []
  for (const [i, d] of docs.entries()) flatten(d, `${source}#${i}`, flat, 0)
  const warnings: string[] = []
  const errors: { policy: string; field: string; message: string }[] = []
  const policies: ClusterImagePolicy[] = []
  const seen = new Set<string>()
  for (const { doc, where } of flat) {
    if (doc.kind !== 'ClusterImagePolicy') {
      errors.push({
        policy: where,
        field: 'kind',
        message: `expected ClusterImagePolicy, got ${JSON.stringify(doc.kind)}`,
      })
      continue
    }
    const r = checkPolicyDocument(doc, where)
    warnings.push(...r.warnings)
    errors.push(...r.errors.map((e: PolicyFieldError) => ({ policy: r.name, ...e })))
    if (!r.policy) continue
    if (seen.has(r.policy.name)) {
      errors.push({ policy: r.policy.name, field: 'metadata.name', message: 'duplicate policy name' })
      continue
    }
    seen.add(r.policy.name)
    policies.push(r.policy)
  }
  if (errors.length > 0) {
    const lines = errors.map((e) => `policy ${JSON.stringify(e.policy)}: ${e.field}: ${e.message}`)
    throw new CountersignError('ERR_INVALID_INPUT', `invalid ClusterImagePolicy in ${source}: ${lines.join('; ')}`, {
      details: { errors },
    })
  }
  if (policies.length === 0) {
    throw new CountersignError('ERR_INVALID_INPUT', `no ClusterImagePolicy in ${source}`)
  }
  return { policies, warnings }
}

function decodeText(input: string | Uint8Array, source: string): unknown[] {
  const size = typeof input === 'string' ? input.length : input.byteLength
  if (size > MAX_POLICY_BYTES) {
    throw new CountersignError('ERR_INVALID_INPUT', `${source}: policy input is larger than ${MAX_POLICY_BYTES} bytes`)
  }
  let text: string
  try {
    text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input)
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `${source}: policy is not UTF-8`, { cause })
  }
  // YAML 1.2 is a superset of JSON, so one parser reads both.
  const parsed = parseAllDocuments(text, { prettyErrors: false, uniqueKeys: true })
  const list = Array.isArray(parsed) ? parsed : []
  const out: unknown[] = []
  for (const [i, doc] of list.entries()) {
    const err = doc.errors[0]
    if (err) {
      throw new CountersignError('ERR_INVALID_INPUT', `${source}: document ${i}: YAML: ${err.message}`, { cause: err })
    }
    let value: unknown
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', `${source}: document ${i}: ${(cause as Error).message}`, {
        cause,
      })
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
