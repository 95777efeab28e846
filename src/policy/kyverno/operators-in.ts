/**
 * Kyverno's membership operators (`pkg/engine/variables/operator/{in,notin,anyin,allin,anynotin,allnotin}.go`):
 * `In`/`NotIn` (deprecated) and `AnyIn`/`AllIn`/`AnyNotIn`/`AllNotIn`. A scalar key is printed with Go's `%v` and
 * matched against each value both ways with Kyverno wildcards; a string value may also be a JSON array of strings or
 * a numeric range (`"1-10"`). Each quirk is Kyverno's (see the comments); an unsupported value type makes the
 * operator false, whichever operator it is.
 * @module
 */
import { CountersignError } from '../../errors.js'
import { goSprint } from './operators-go-values.js'
import { kyvernoPatternOperator, matchKyvernoStringPattern } from './operators-range.js'
import { matchKyvernoWildcard } from './wildcard.js'

/** `undefined` stands for Kyverno's "invalid type" (the operator then evaluates to false). */
type Verdict = boolean | undefined

function isScalar(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
}

function eitherWay(a: string, b: string): boolean {
  return matchKyvernoWildcard(a, b) || matchKyvernoWildcard(b, a)
}

function parseJSON(s: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(s) }
  } catch {
    return { ok: false }
  }
}

/**
 * Go's `json.Unmarshal(s, &[]string)`: `null` is an empty list and `null` elements are empty strings (no error);
 * anything else but an array of strings is an error.
 */
function stringList(s: string): string[] | undefined {
  const parsed = parseJSON(s)
  if (!parsed.ok) return undefined
  if (parsed.value === null) return []
  if (!Array.isArray(parsed.value)) return undefined
  const out: string[] = []
  for (const e of parsed.value) {
    if (e === null) out.push('')
    else if (typeof e === 'string') out.push(e)
    else return undefined
  }
  return out
}

// keyExistsInArray (In/NotIn with a scalar key).
function legacyKeyExists(key: string, value: unknown): Verdict {
  if (Array.isArray(value)) return value.some((v) => eitherWay(goSprint(v), key))
  if (typeof value === 'string') {
    if (matchKyvernoWildcard(value, key)) return true
    const list = stringList(value)
    return list === undefined ? undefined : list.includes(key)
  }
  return undefined
}

// anyKeyExistsInArray / allKeyExistsInArray (identical upstream): wildcard, then range, then JSON list or the text.
function keyExists(key: string, value: unknown): Verdict {
  if (Array.isArray(value)) return value.some((v) => eitherWay(goSprint(v), key))
  if (typeof value === 'string') {
    if (matchKyvernoWildcard(value, key)) return true
    if (kyvernoPatternOperator(value) === '-') return matchKyvernoStringPattern(key, value)
    const list = parseJSON(value).ok ? stringList(value) : [value]
    return list === undefined ? undefined : list.includes(key)
  }
  return undefined
}

// setExistsInArray (In/NotIn with a list key): exact membership, no wildcards.
function legacySet(keys: readonly string[], value: unknown, notIn: boolean): Verdict {
  let values: string[]
  if (Array.isArray(value)) {
    if (!value.every((v): v is string => typeof v === 'string')) return undefined
    values = value
  } else if (typeof value === 'string') {
    // Upstream quirk: a one-element key equal to the value is "in" it for NotIn as well.
    if (keys.length === 1 && keys[0] === value) return true
    const list = stringList(value)
    if (list === undefined) return undefined
    values = list
  } else return undefined
  const set = new Set(values)
  return notIn ? keys.some((k) => !set.has(k)) : keys.every((k) => set.has(k))
}

type SetMode = 'AnyIn' | 'AllIn' | 'AnyNotIn' | 'AllNotIn'

function setVerdict(keys: readonly string[], values: readonly string[], mode: SetMode): boolean {
  const matches = (k: string) => values.some((v) => eitherWay(k, v))
  switch (mode) {
    case 'AnyIn':
      return keys.some(matches)
    case 'AllIn':
      return keys.every(matches)
    case 'AnyNotIn':
      return keys.some((k) => !matches(k))
    case 'AllNotIn':
      return !keys.some(matches)
  }
}

// anySetExistsInArray / allSetExistsInArray (a list key).
function setExists(keys: readonly string[], value: unknown, mode: SetMode): Verdict {
  const any = mode === 'AnyIn' || mode === 'AnyNotIn'
  const not = mode === 'AnyNotIn' || mode === 'AllNotIn'
  if (Array.isArray(value)) return setVerdict(keys, value.map(goSprint), mode)
  // Only the Any* forms accept a scalar number or boolean as the value.
  if (any && (typeof value === 'number' || typeof value === 'boolean')) return setVerdict(keys, [goSprint(value)], mode)
  if (typeof value !== 'string') return undefined
  if (keys.length === 1 && keys[0] === value) return !not
  if (kyvernoPatternOperator(value) === '-') {
    if (mode === 'AnyNotIn') {
      // Upstream turns "a-b" into "a!-b" by replacing the first '-' (so a negative lower bound breaks it).
      const excluded = value.replace('-', '!-')
      return keys.some((k) => matchKyvernoStringPattern(k, excluded))
    }
    const inside = keys.map((k) => matchKyvernoStringPattern(k, value))
    if (mode === 'AnyIn') return inside.some(Boolean)
    if (mode === 'AllIn') return inside.every(Boolean)
    return !inside.some(Boolean)
  }
  const list = parseJSON(value).ok ? stringList(value) : [value]
  return list === undefined ? undefined : setVerdict(keys, list, mode)
}

/**
 * Evaluate one of Kyverno's membership operators on substituted, JSON-typed operands.
 *
 * @param operator - `In`, `NotIn`, `AnyIn`, `AllIn`, `AnyNotIn` or `AllNotIn` (canonical spelling).
 * @throws {CountersignError} ERR_INVALID_INPUT for `In`/`NotIn` with a list key holding a non-string (Kyverno
 *   panics there; countersign reports it instead).
 * @example
 * ```ts
 * evaluateKyvernoMembership(['a', 'b'], 'AllIn', ['a', 'b', 'c']) // true
 * evaluateKyvernoMembership('5', 'AnyIn', '1-10') // true
 * ```
 */
export function evaluateKyvernoMembership(key: unknown, operator: SetMode | 'In' | 'NotIn', value: unknown): boolean {
  if (operator === 'In' || operator === 'NotIn') {
    if (Array.isArray(key)) {
      if (!key.every((k): k is string => typeof k === 'string')) {
        throw new CountersignError(
          'ERR_INVALID_INPUT',
          `the ${operator} operator needs a key list of strings (Kyverno panics on other elements)`,
        )
      }
      return legacySet(key, value, operator === 'NotIn') ?? false
    }
    if (!isScalar(key)) return false
    const exists = legacyKeyExists(typeof key === 'string' ? key : goSprint(key), value)
    if (exists === undefined) return false
    return operator === 'In' ? exists : !exists
  }
  if (Array.isArray(key)) return setExists(key.map(goSprint), value, operator) ?? false
  if (!isScalar(key)) return false
  const exists = keyExists(typeof key === 'string' ? key : goSprint(key), value)
  if (exists === undefined) return false
  return operator === 'AnyIn' || operator === 'AllIn' ? exists : !exists
}
