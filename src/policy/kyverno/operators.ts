/**
 * Kyverno's condition operators (`pkg/engine/variables/operator`), evaluated on a condition's substituted `key` and
 * `value` (JSON values: numbers are float64 as in Kyverno). Equality tries durations (`"1h" == 3600`), then
 * quantities (`"1Gi" == "1024Mi"`), then a wildcard in the value (`"1.5.2" Equals "1.5.*"`); ordering tries
 * durations, quantities, numbers, then strict semantic versions; membership lives in operators-in.ts. Operator
 * names are matched case-insensitively, as Kyverno picks its handler; but Kyverno's ordering handlers compare the
 * name as written, so `greaterthan` (not canonical) is always false there too.
 * @module
 */
import { CountersignError } from '../../errors.js'
import { isJSONObject } from '../../internal/json.js'
import { goDurationFromSeconds, goDurationSeconds, parseGoDuration } from './duration.js'
import { MAX_VALUE_DEPTH, parseGoFloat, valueTooDeep } from './operators-go-values.js'
import { evaluateKyvernoMembership } from './operators-in.js'
import { compareKubernetesQuantities, parseKubernetesQuantity } from './quantity.js'
import { compareSemver, parseSemver } from './semver.js'
import { matchKyvernoWildcard } from './wildcard.js'

/**
 * Kyverno's condition operators (its CRD enum, plus the `Equal`/`NotEqual` spellings its code still accepts),
 * matched case-insensitively.
 *
 * @example
 * ```ts
 * KYVERNO_OPERATORS.includes('AnyIn') // true
 * ```
 */
export const KYVERNO_OPERATORS = [
  'Equals',
  'NotEquals',
  'Equal',
  'NotEqual',
  'In',
  'NotIn',
  'AnyIn',
  'AllIn',
  'AnyNotIn',
  'AllNotIn',
  'GreaterThanOrEquals',
  'GreaterThan',
  'LessThanOrEquals',
  'LessThan',
  'DurationGreaterThanOrEquals',
  'DurationGreaterThan',
  'DurationLessThanOrEquals',
  'DurationLessThan',
] as const
const BY_LOWER = new Map<string, (typeof KYVERNO_OPERATORS)[number]>(KYVERNO_OPERATORS.map((n) => [n.toLowerCase(), n]))

/**
 * Deep equality of JSON values (Kyverno's `DeepEqual` on decoded JSON), iterative-depth bounded.
 *
 * @example
 * ```ts
 * kyvernoDeepEqual({ a: [1, 2] }, { a: [1, 2] }) // true
 * ```
 */
export function kyvernoDeepEqual(a: unknown, b: unknown, depth = 0): boolean {
  if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
  if (a === b) return true
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((e, i) => kyvernoDeepEqual(e, b[i], depth + 1))
  }
  if (isJSONObject(a)) {
    if (!isJSONObject(b)) return false
    const keys = Object.keys(a)
    if (keys.length !== Object.keys(b).length) return false
    return keys.every((k) => Object.hasOwn(b, k) && kyvernoDeepEqual(a[k], b[k], depth + 1))
  }
  return false
}

/**
 * Kyverno's `parseDuration(key, value)`: when at least one side is a Go duration string (but not the text `"0"`),
 * and the other is one too or a number of seconds, both as nanoseconds.
 */
function durationPair(key: unknown, value: unknown): [bigint, bigint] | undefined {
  const kd = typeof key === 'string' && key !== '0' ? parseGoDuration(key) : undefined
  const vd = typeof value === 'string' && value !== '0' ? parseGoDuration(value) : undefined
  if (kd === undefined && vd === undefined) return undefined
  const k = kd ?? (typeof key === 'number' ? goDurationFromSeconds(key) : undefined)
  const v = vd ?? (typeof value === 'number' ? goDurationFromSeconds(value) : undefined)
  return k === undefined || v === undefined ? undefined : [k, v]
}

function equals(key: unknown, value: unknown): boolean {
  if (typeof key === 'boolean') return typeof value === 'boolean' && key === value
  if (typeof key === 'number') {
    if (typeof value === 'number') return key === value
    if (typeof value === 'string') return parseGoFloat(value) === key
    return false
  }
  if (typeof key === 'string') {
    const d = durationPair(key, value)
    if (d !== undefined) return goDurationSeconds(d[0]) === goDurationSeconds(d[1])
    const kq = parseKubernetesQuantity(key)
    if (kq !== undefined && typeof value === 'string') {
      const vq = parseKubernetesQuantity(value)
      return vq !== undefined && compareKubernetesQuantities(kq, vq) === 0
    }
    // The wildcard is in the value: `key Equals "1.5.*"`.
    return typeof value === 'string' && matchKyvernoWildcard(value, key)
  }
  if (Array.isArray(key)) return Array.isArray(value) && kyvernoDeepEqual(key, value)
  if (isJSONObject(key)) return isJSONObject(value) && kyvernoDeepEqual(key, value)
  return false
}

function notEquals(key: unknown, value: unknown): boolean {
  if (typeof key === 'boolean') return !(typeof value === 'boolean' && key === value)
  if (typeof key === 'number') {
    if (typeof value === 'number') return key !== value
    if (typeof value === 'string') {
      const f = parseGoFloat(value)
      return f === undefined || f !== key
    }
    return true
  }
  if (typeof key === 'string') {
    const d = durationPair(key, value)
    if (d !== undefined) return goDurationSeconds(d[0]) !== goDurationSeconds(d[1])
    const kq = parseKubernetesQuantity(key)
    if (kq !== undefined && typeof value === 'string') {
      // Upstream quirk: an empty value is matched as a wildcard, not parsed.
      if (value === '') return !matchKyvernoWildcard(value, key)
      const vq = parseKubernetesQuantity(value)
      return vq === undefined || compareKubernetesQuantities(kq, vq) !== 0
    }
    return typeof value === 'string' ? !matchKyvernoWildcard(value, key) : true
  }
  if (Array.isArray(key)) return !(Array.isArray(value) && kyvernoDeepEqual(key, value))
  if (isJSONObject(key)) return !(isJSONObject(value) && kyvernoDeepEqual(key, value))
  return false
}

function ordered(c: number, op: string): boolean {
  // compareByCondition matches the operator as written: only the canonical spelling compares.
  switch (op) {
    case 'GreaterThanOrEquals':
    case 'DurationGreaterThanOrEquals':
      return c >= 0
    case 'GreaterThan':
    case 'DurationGreaterThan':
      return c > 0
    case 'LessThanOrEquals':
    case 'DurationLessThanOrEquals':
      return c <= 0
    case 'LessThan':
    case 'DurationLessThan':
      return c < 0
    default:
      return false
  }
}

function numberOrder(a: number, b: number): number {
  // NaN compares false under every operator, as Go's float comparisons do.
  return a < b ? -1 : a > b ? 1 : a === b ? 0 : Number.NaN
}

function numericWithNumberKey(key: number, value: unknown, op: string): boolean {
  if (typeof value === 'number') return ordered(numberOrder(key, value), op)
  if (typeof value === 'string') {
    const d = durationPair(key, value)
    if (d !== undefined) return ordered(numberOrder(goDurationSeconds(d[0]), goDurationSeconds(d[1])), op)
    const f = parseGoFloat(value)
    return f !== undefined && ordered(numberOrder(key, f), op)
  }
  return false
}

function numeric(key: unknown, value: unknown, op: string): boolean {
  if (typeof key === 'number') return numericWithNumberKey(key, value, op)
  if (typeof key !== 'string') return false
  const d = durationPair(key, value)
  if (d !== undefined) return ordered(numberOrder(goDurationSeconds(d[0]), goDurationSeconds(d[1])), op)
  const kq = parseKubernetesQuantity(key)
  const vq = kq !== undefined && typeof value === 'string' ? parseKubernetesQuantity(value) : undefined
  if (kq !== undefined && vq !== undefined) return ordered(compareKubernetesQuantities(kq, vq), op)
  const f = parseGoFloat(key)
  if (f !== undefined) return numericWithNumberKey(f, value, op)
  const kv = parseSemver(key)
  if (kv === undefined || typeof value !== 'string') return false
  const vv = parseSemver(value)
  return vv !== undefined && ordered(compareSemver(kv, vv), op)
}

function durationOrder(key: unknown, value: unknown, op: string): boolean {
  let k: bigint | undefined
  if (typeof key === 'number') k = goDurationFromSeconds(key)
  else if (typeof key === 'string') k = parseGoDuration(key)
  if (k === undefined) return false
  let v: bigint | undefined
  if (typeof value === 'number') v = goDurationFromSeconds(value)
  else if (typeof value === 'string') v = parseGoDuration(value)
  if (v === undefined) return false
  return ordered(k < v ? -1 : k > v ? 1 : 0, op)
}

/**
 * Evaluate a Kyverno condition operator, as Kyverno's handlers do after substitution: `key` and `value` are JSON
 * values (objects, arrays, strings, numbers, booleans, null).
 *
 * @param key - The substituted condition key.
 * @param operator - An operator name, any case: `Equals`, `NotEquals`, `In`, `NotIn`, `AnyIn`, `AllIn`,
 *   `AnyNotIn`, `AllNotIn`, `GreaterThan`, `GreaterThanOrEquals`, `LessThan`, `LessThanOrEquals`,
 *   `Duration{GreaterThan,GreaterThanOrEquals,LessThan,LessThanOrEquals}`, and the old `Equal`/`NotEqual`.
 * @param value - The substituted condition value.
 * @returns Whether the condition holds.
 * @throws {CountersignError} ERR_INVALID_INPUT for an unknown operator (Kyverno: "failed to create handler for
 *   condition operator"), and for `In`/`NotIn` with a list key that holds a non-string (Kyverno panics).
 * @example
 * ```ts
 * evaluateKyvernoOperator('1Gi', 'Equals', '1024Mi') // true
 * evaluateKyvernoOperator('1.5.2', 'equals', '1.5.*') // true
 * evaluateKyvernoOperator('1.10.0', 'GreaterThan', '1.9.3') // true (semantic versions)
 * ```
 *
 * Exported from `countersign/policy`.
 */
export function evaluateKyvernoOperator(key: unknown, operator: string, value: unknown): boolean {
  const name = typeof operator === 'string' ? BY_LOWER.get(operator.toLowerCase()) : undefined
  if (name === undefined) {
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `unknown condition operator ${JSON.stringify(String(operator)).slice(0, 80)}: expected one of ${KYVERNO_OPERATORS.join(', ')}`,
      { details: { reason: 'unknown-operator' } },
    )
  }
  const k = key === undefined ? null : key
  const v = value === undefined ? null : value
  switch (name) {
    case 'Equals':
    case 'Equal':
      return equals(k, v)
    case 'NotEquals':
    case 'NotEqual':
      return notEquals(k, v)
    case 'In':
    case 'NotIn':
    case 'AnyIn':
    case 'AllIn':
    case 'AnyNotIn':
    case 'AllNotIn':
      return evaluateKyvernoMembership(k, name, v)
    case 'GreaterThanOrEquals':
    case 'GreaterThan':
    case 'LessThanOrEquals':
    case 'LessThan':
      return numeric(k, v, operator)
    default:
      return durationOrder(k, v, operator)
  }
}
