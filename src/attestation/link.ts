/** The in-toto link predicate (`--type link`), read the way cosign's in-toto-golang `Link` struct reads it. @module */
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'

function fail(path: string, reason: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `${path}: ${reason}`)
}

/** in-toto-golang `Link`: every field is required (cosign checks the keys are present). */
const LINK_FIELDS = ['_type', 'name', 'materials', 'products', 'byproducts', 'command', 'environment'] as const

/**
 * Read an in-toto link predicate as `cosign attest --type link` does: all seven fields must be present (`_type`,
 * `name`, `materials`, `products`, `byproducts`, `command`, `environment`); other keys are dropped.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a missing field or a field of the wrong type.
 * @example
 * ```ts
 * import { normalizeLinkPredicate } from 'countersign/attestation'
 * normalizeLinkPredicate({ _type: 'link', name: 'build', materials: {}, products: {}, byproducts: {}, command: [], environment: {} })
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function normalizeLinkPredicate(predicate: unknown): Record<string, unknown> {
  if (!isJSONObject(predicate)) fail('link statement', 'expected a JSON object')
  for (const f of LINK_FIELDS) {
    if (!Object.hasOwn(predicate, f)) fail('link statement', `required field ${f} missing`)
  }
  const out: Record<string, unknown> = {}
  for (const f of LINK_FIELDS) {
    const v = predicate[f] ?? null
    const p = `link statement.${f}`
    if ((f === '_type' || f === 'name') && v !== null && typeof v !== 'string') fail(p, 'expected a string')
    if (f === 'command' && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
      fail(p, 'expected a list of strings')
    }
    if (f !== '_type' && f !== 'name' && f !== 'command' && v !== null && !isJSONObject(v)) {
      fail(p, 'expected a JSON object')
    }
    out[f] = (f === '_type' || f === 'name') && v === null ? '' : v
  }
  return out
}
