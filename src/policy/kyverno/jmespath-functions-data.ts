/**
 * Kyverno's data functions: `to_boolean`, `parse_json`, `parse_yaml`, `lookup`, `items`, `object_from_lists`,
 * `label_match`, `semver_compare` and `image_normalize`. `items` is Kyverno's (object keys sorted, array indexes as
 * numbers, caller-chosen field names), not the jmespath-community built-in of the same name.
 * @module
 */
import { parseYAMLDocumentsBounded } from '../yaml-nesting.js'
import { goInt64FromFloat } from './duration.js'
import { kyvernoImageInfo } from './image-name.js'
import { evaluationError, kyvernoFunctionError } from './jmespath-errors.js'
import type { JMESPathFunction } from './jmespath-functions.js'
import { kyvernoDeepEqual } from './operators.js'
import { compareGoStrings, kyvernoIfaceToString } from './operators-go-values.js'
import { parseSemver, parseSemverRange } from './semver.js'

/** parse_yaml refuses documents nested deeper than this (Kyverno's `parse_yaml` input is policy data). */
const MAX_YAML_DEPTH = 64

function parseJSON(s: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(s, (_k, v) => {
      // Go's decoder refuses numbers out of float64's range; JSON.parse makes them infinite.
      if (typeof v === 'number' && !Number.isFinite(v)) throw new RangeError('number out of range')
      return v
    })
  } catch (e) {
    throw kyvernoFunctionError('parse_json', (e as Error).message)
  }
  return value
}

function parseYAML(s: string): unknown {
  const docs = parseYAMLDocumentsBounded(s, MAX_YAML_DEPTH, { uniqueKeys: false })
  if (typeof docs === 'string') throw kyvernoFunctionError('parse_yaml', `document ${docs.replaceAll('-', ' ')}`)
  const first = docs[0]
  if (first === undefined) return null
  if (first.errors[0]) throw kyvernoFunctionError('parse_yaml', first.errors[0].message)
  try {
    return first.toJS({ maxAliasCount: 100 }) ?? null
  } catch (e) {
    throw kyvernoFunctionError('parse_yaml', (e as Error).message)
  }
}

/** Kyverno's `intNumber`: a float that is a whole number (and an int64). */
function intNumber(name: string, f: number): number {
  if (!Number.isFinite(f) || Math.trunc(f) !== f) {
    throw evaluationError(`JMESPath function '${name}': argument #2: expected an integer number but got: ${f}`)
  }
  if (Number(goInt64FromFloat(f)) !== f) {
    throw evaluationError(`JMESPath function '${name}': argument #2: number is outside the range of integer numbers`)
  }
  return f
}

/**
 * Kyverno's data functions.
 *
 * @example
 * ```ts
 * DATA_FUNCTIONS.lookup.call([{ a: 1 }, 'a'], context) // 1
 * ```
 */
export const DATA_FUNCTIONS: Readonly<Record<string, JMESPathFunction>> = {
  to_boolean: {
    args: [['string']],
    call: ([s]) => {
      const lower = (s as string).toLowerCase()
      if (lower === 'true') return true
      if (lower === 'false') return false
      throw kyvernoFunctionError('to_boolean', `lowercase argument must be 'true' or 'false' (provided: '${s}')`)
    },
  },
  parse_json: { args: [['string']], call: ([s]) => parseJSON(s as string) },
  parse_yaml: { args: [['string']], call: ([s]) => parseYAML(s as string) },
  lookup: {
    args: [
      ['object', 'array'],
      ['string', 'number'],
    ],
    call: ([collection, key]) => {
      if (Array.isArray(collection)) {
        if (typeof key !== 'number') throw kyvernoFunctionError('lookup', 'argument #2 is not of type Number')
        const i = intNumber('lookup', key)
        return i >= 0 && i < collection.length ? (collection[i] ?? null) : null
      }
      if (typeof key !== 'string') throw kyvernoFunctionError('lookup', 'argument #2 is not of type String')
      const o = collection as Record<string, unknown>
      return Object.hasOwn(o, key) ? (o[key] ?? null) : null
    },
  },
  items: {
    args: [['object', 'array'], ['string'], ['string']],
    call: ([collection, keyName, valueName]) => {
      const k = keyName as string
      const v = valueName as string
      if (Array.isArray(collection)) return collection.map((value, i) => ({ [k]: i, [v]: value }))
      const o = collection as Record<string, unknown>
      return Object.keys(o)
        .sort(compareGoStrings)
        .map((key) => ({ [k]: key, [v]: o[key] }))
    },
  },
  object_from_lists: {
    args: [['array'], ['array']],
    call: ([keys, values]) => {
      const vs = values as unknown[]
      return Object.fromEntries(
        (keys as unknown[]).map((key, i) => {
          const name = kyvernoIfaceToString(key)
          if (name === undefined)
            throw kyvernoFunctionError('object_from_lists', 'argument #1 is not of type StringArray')
          return [name, i < vs.length ? vs[i] : null]
        }),
      )
    },
  },
  label_match: {
    args: [['object'], ['object']],
    call: ([selector, labels]) => {
      const want = selector as Record<string, unknown>
      const have = labels as Record<string, unknown>
      return Object.keys(want).every((k) => Object.hasOwn(have, k) && kyvernoDeepEqual(have[k], want[k]))
    },
  },
  semver_compare: {
    args: [['string'], ['string']],
    call: ([version, range]) => {
      // Kyverno ignores a version that does not parse: it is then 0.0.0.
      const v = parseSemver(version as string) ?? { major: 0n, minor: 0n, patch: 0n, pre: [], build: [] }
      const r = parseSemverRange(range as string)
      if (r === undefined)
        throw kyvernoFunctionError('semver_compare', `could not parse range ${JSON.stringify(range)}`)
      return r(v)
    },
  },
  image_normalize: {
    args: [['string']],
    call: ([image]) => {
      try {
        return kyvernoImageInfo(image as string).reference
      } catch (e) {
        throw kyvernoFunctionError('image_normalize', (e as Error).message)
      }
    },
  },
}
