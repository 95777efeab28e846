/**
 * The built-in functions of the original JMESPath specification, as go-jmespath implements them: strings measured
 * and reversed by code point, strings ordered by Go's byte order, `to_string` by Go's `json.Marshal`, `to_number`
 * by Go's `ParseFloat`, and `contains` on lists with Go's `==` (so a list of objects cannot be searched for an
 * object). `sum` is Kyverno's (see jmespath-functions-arithmetic.ts).
 * @module
 */
import { isJSONObject } from '../../internal/json.js'
import { evaluationError } from './jmespath-errors.js'
import type { JMESPathCallContext, JMESPathExpref, JMESPathFunction } from './jmespath-functions.js'
import { goJSONMarshal } from './jmespath-go-json.js'
import { compareGoStrings, parseGoFloat } from './operators-go-values.js'

function codePoints(s: string): string[] {
  return Array.from(s)
}

/** Go's `==` on two interface values holding JSON data; comparing two maps or two slices panics in Go. */
function goEquals(a: unknown, b: unknown): boolean {
  const composite = (v: unknown) => Array.isArray(v) || isJSONObject(v)
  if (composite(a) && composite(b) && Array.isArray(a) === Array.isArray(b)) {
    throw evaluationError('runtime error: comparing uncomparable type')
  }
  return a === b || (a === null && b === undefined) || (a === undefined && b === null)
}

function extreme(items: readonly unknown[], wantMax: boolean): unknown {
  if (items.length === 0) return null
  let best = items[0]
  for (const item of items.slice(1)) {
    const better =
      typeof item === 'number'
        ? wantMax
          ? item > (best as number)
          : item < (best as number)
        : compareGoStrings(item as string, best as string) * (wantMax ? 1 : -1) > 0
    if (better) best = item
  }
  return best
}

function keyed(
  list: readonly unknown[],
  ref: JMESPathExpref,
  context: JMESPathCallContext,
): { keys: unknown[]; kind: 'number' | 'string' | undefined } {
  const keys = list.map((e) => {
    const r = context.evaluate(ref, e)
    return r.found ? r.value : null
  })
  const first = keys[0]
  return { keys, kind: typeof first === 'number' ? 'number' : typeof first === 'string' ? 'string' : undefined }
}

function extremeBy(list: readonly unknown[], ref: JMESPathExpref, context: JMESPathCallContext, wantMax: boolean) {
  if (list.length === 0) return null
  if (list.length === 1) return list[0]
  const { keys, kind } = keyed(list, ref, context)
  if (kind === undefined) throw evaluationError('invalid type, must be number of string')
  let bestIndex = 0
  for (let i = 1; i < list.length; i++) {
    const k = keys[i]
    if (typeof k !== kind) throw evaluationError(`invalid type, must be ${kind}`)
    const b = keys[bestIndex]
    const c = kind === 'number' ? (k as number) - (b as number) : compareGoStrings(k as string, b as string)
    if (wantMax ? c > 0 : c < 0) bestIndex = i
  }
  return list[bestIndex]
}

/**
 * go-jmespath's function table (less `sum`, which Kyverno replaces).
 *
 * @example
 * ```ts
 * BUILTIN_FUNCTIONS.length.call(['héllo'], context) // 5
 * ```
 */
export const BUILTIN_FUNCTIONS: Readonly<Record<string, JMESPathFunction>> = {
  abs: { args: [['number']], call: ([n]) => Math.abs(n as number) },
  avg: {
    args: [['array[number]']],
    call: ([list]) => (list as number[]).reduce((a, b) => a + b, 0) / (list as number[]).length,
  },
  ceil: { args: [['number']], call: ([n]) => Math.ceil(n as number) },
  floor: { args: [['number']], call: ([n]) => Math.floor(n as number) },
  contains: {
    args: [['array', 'string'], ['any']],
    call: ([subject, search]) => {
      if (typeof subject === 'string') return typeof search === 'string' && subject.includes(search)
      return (subject as unknown[]).some((e) => goEquals(e, search))
    },
  },
  starts_with: { args: [['string'], ['string']], call: ([s, p]) => (s as string).startsWith(p as string) },
  ends_with: { args: [['string'], ['string']], call: ([s, p]) => (s as string).endsWith(p as string) },
  join: { args: [['string'], ['array[string]']], call: ([sep, list]) => (list as string[]).join(sep as string) },
  keys: {
    args: [['object']],
    // Go's map order is random; sorted keys keep results deterministic.
    call: ([o]) => Object.keys(o as object).sort(compareGoStrings),
  },
  values: {
    args: [['object']],
    call: ([o]) =>
      Object.keys(o as object)
        .sort(compareGoStrings)
        .map((k) => (o as Record<string, unknown>)[k]),
  },
  length: {
    args: [['string', 'array', 'object']],
    call: ([v]) => {
      if (typeof v === 'string') return codePoints(v).length
      if (Array.isArray(v)) return v.length
      return Object.keys(v as object).length
    },
  },
  map: {
    args: [['expref'], ['array']],
    call: ([ref, list], context) =>
      (list as unknown[]).map((e) => {
        const r = context.evaluate(ref as JMESPathExpref, e)
        return r.found ? r.value : null
      }),
  },
  max: { args: [['array[number]', 'array[string]']], call: ([list]) => extreme(list as unknown[], true) },
  min: { args: [['array[number]', 'array[string]']], call: ([list]) => extreme(list as unknown[], false) },
  max_by: {
    args: [['array'], ['expref']],
    call: ([list, ref], context) => extremeBy(list as unknown[], ref as JMESPathExpref, context, true),
  },
  min_by: {
    args: [['array'], ['expref']],
    call: ([list, ref], context) => extremeBy(list as unknown[], ref as JMESPathExpref, context, false),
  },
  merge: {
    args: [['object']],
    variadic: true,
    // fromEntries defines own properties: a "__proto__" key stays a key.
    call: (objects) => Object.fromEntries((objects as object[]).flatMap((o) => Object.entries(o))),
  },
  not_null: {
    args: [['any']],
    variadic: true,
    call: (args) => args.find((a) => a !== null && a !== undefined) ?? null,
  },
  reverse: {
    args: [['array', 'string']],
    call: ([v]) => (typeof v === 'string' ? codePoints(v).reverse().join('') : [...(v as unknown[])].reverse()),
  },
  sort: {
    args: [['array[string]', 'array[number]']],
    call: ([list]) => {
      const items = [...(list as (string | number)[])]
      if (items.every((e) => typeof e === 'number')) return items.sort((a, b) => (a as number) - (b as number))
      return items.sort((a, b) => compareGoStrings(a as string, b as string))
    },
  },
  sort_by: {
    args: [['array'], ['expref']],
    call: ([list, ref], context) => {
      const items = list as unknown[]
      if (items.length < 2) return items
      const { keys, kind } = keyed(items, ref as JMESPathExpref, context)
      if (kind === undefined) throw evaluationError('invalid type, must be number of string')
      if (keys.some((k) => typeof k !== kind)) throw evaluationError('error in sort_by comparison')
      // A stable sort, as Go's sort.Stable.
      return items
        .map((item, i) => ({ item, key: keys[i] as number | string }))
        .sort((a, b) =>
          kind === 'number'
            ? (a.key as number) - (b.key as number)
            : compareGoStrings(a.key as string, b.key as string),
        )
        .map((e) => e.item)
    },
  },
  to_array: { args: [['any']], call: ([v]) => (Array.isArray(v) ? v : [v]) },
  to_string: { args: [['any']], call: ([v]) => (typeof v === 'string' ? v : goJSONMarshal(v)) },
  to_number: {
    args: [['any']],
    call: ([v]) => {
      if (typeof v === 'number') return v
      if (typeof v === 'string') return parseGoFloat(v) ?? null
      return null
    },
  },
  type: {
    args: [['any']],
    call: ([v]) => {
      if (typeof v === 'number') return 'number'
      if (typeof v === 'string') return 'string'
      if (Array.isArray(v)) return 'array'
      if (typeof v === 'boolean') return 'boolean'
      if (v === null || v === undefined) return 'null'
      return 'object'
    },
  },
}
