/**
 * Depth and size bounds for untrusted JSON, checked before anything walks it. `JSON.parse` is iterative in V8, so a
 * value nested 100,000 levels parses; what overflows the stack is the recursive code that reads it afterwards
 * (`String(array)`, `JSON.stringify`, `structuredClone`, a recursive validator). The walk here uses an explicit
 * stack, so it never overflows itself. Limits per format: docs/formats.md §Input limits. Never exported from the
 * package.
 *
 * @module
 */
import { CountersignError, type ErrorCode } from '../errors.js'

/**
 * Why a value was refused: nested more deeply than allowed, or bigger (bytes, or objects and arrays) than allowed.
 *
 * @example
 * ```ts
 * const reason: JSONShapeReason = 'too-deep'
 * ```
 */
export type JSONShapeReason = 'too-deep' | 'too-large'

/**
 * Nesting depth of the formats countersign reads (bundles, DSSE envelopes, keys, trusted roots, manifests, Rekor
 * entries). Real documents nest fewer than 20 levels; recursive readers overflow a few thousand levels down.
 *
 * @example
 * ```ts
 * assertJSONShape(doc, { code: 'ERR_BUNDLE_INVALID', what: 'bundle', maxDepth: MAX_JSON_DEPTH })
 * ```
 */
export const MAX_JSON_DEPTH = 64

/**
 * Nesting depth of documents whose inner part is free-form (in-toto predicates, policies): twice
 * {@link MAX_JSON_DEPTH}, still far from what overflows the stack.
 *
 * @example
 * ```ts
 * assertJSONShape(statement, { code: 'ERR_INVALID_INPUT', what: 'in-toto statement', maxDepth: MAX_FREE_FORM_JSON_DEPTH })
 * ```
 */
export const MAX_FREE_FORM_JSON_DEPTH = 128

/**
 * Objects and arrays walked, by default. A body of a few megabytes holds at most about a million of them; the bound
 * matters for a value handed in already parsed, where shared sub-objects (or a cycle) would make the walk endless.
 *
 * @example
 * ```ts
 * assertJSONShape(doc, { code: 'ERR_INVALID_INPUT', what: 'policy', maxDepth: 64, maxNodes: DEFAULT_MAX_JSON_NODES })
 * ```
 */
export const DEFAULT_MAX_JSON_NODES = 1 << 20

/**
 * How {@link assertJSONShape} and {@link assertJSONText} fail: the error code of the format's parser and the name
 * its messages use.
 *
 * @example
 * ```ts
 * const limits: JSONShapeLimits = { code: 'ERR_DSSE_INVALID', what: 'DSSE envelope', maxDepth: 64 }
 * ```
 */
export interface JSONShapeLimits {
  /** Code of the thrown `CountersignError`. */
  readonly code: ErrorCode
  /** Names the input in the message ("bundle", "encrypted key"). */
  readonly what: string
  /** Deepest nesting of objects and arrays accepted; the outermost object is level 1. */
  readonly maxDepth: number
  /** Most objects and arrays walked (default {@link DEFAULT_MAX_JSON_NODES}). */
  readonly maxNodes?: number
  /** More `details` of the error, for parsers whose errors carry more (`reason` is always set here). */
  readonly details?: Readonly<Record<string, unknown>>
}

function shapeError(limits: Pick<JSONShapeLimits, 'code' | 'details'>, reason: JSONShapeReason, message: string) {
  return new CountersignError(limits.code, message, { details: { ...limits.details, reason } })
}

/**
 * The nesting depth of `value` (0 for a scalar, 1 for `{}` or `[]`), or `undefined` as soon as it exceeds
 * `maxDepth` or more than `maxNodes` objects and arrays were walked. Iterative: no recursion however deep.
 *
 * @example
 * ```ts
 * jsonDepth([[1]], 64, 1000) // 2
 * ```
 */
export function jsonDepth(
  value: unknown,
  maxDepth: number,
  maxNodes: number = DEFAULT_MAX_JSON_NODES,
): { readonly depth: number } | { readonly exceeded: JSONShapeReason } {
  if (value === null || typeof value !== 'object') return { depth: 0 }
  // Two parallel stacks rather than one of pairs: no allocation per node.
  const values: object[] = [value]
  const depths: number[] = [1]
  let deepest = 0
  let walked = 0
  while (values.length > 0) {
    const v = values.pop()!
    const depth = depths.pop()!
    if (depth > maxDepth) return { exceeded: 'too-deep' }
    if (++walked > maxNodes) return { exceeded: 'too-large' }
    if (depth > deepest) deepest = depth
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i]
        if (x !== null && typeof x === 'object') {
          values.push(x)
          depths.push(depth + 1)
        }
      }
    } else {
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue
        const x: unknown = (v as Record<string, unknown>)[key]
        if (x !== null && typeof x === 'object') {
          values.push(x)
          depths.push(depth + 1)
        }
      }
    }
  }
  return { depth: deepest }
}

/**
 * Throw unless `value` nests at most `limits.maxDepth` levels and holds at most `limits.maxNodes` objects and
 * arrays. Call it right after `JSON.parse` (or on a value handed in already parsed), before any other reader.
 *
 * @throws {CountersignError} `limits.code`, "<what> is nested too deeply (more than N levels)" with
 *   `details.reason: 'too-deep'`, or "<what> is too large (more than N objects and arrays)" with
 *   `details.reason: 'too-large'`.
 * @example
 * ```ts
 * const doc: unknown = JSON.parse(text)
 * assertJSONShape(doc, { code: 'ERR_BUNDLE_INVALID', what: 'bundle', maxDepth: MAX_JSON_DEPTH })
 * ```
 */
export function assertJSONShape(value: unknown, limits: JSONShapeLimits): void {
  const maxNodes = limits.maxNodes ?? DEFAULT_MAX_JSON_NODES
  const r = jsonDepth(value, limits.maxDepth, maxNodes)
  if (!('exceeded' in r)) return
  if (r.exceeded === 'too-deep')
    throw shapeError(limits, 'too-deep', `${limits.what} is nested too deeply (more than ${limits.maxDepth} levels)`)
  throw shapeError(limits, 'too-large', `${limits.what} is too large (more than ${maxNodes} objects and arrays)`)
}

/**
 * How deeply JSON text nests, read without parsing: brackets and braces outside strings. Stops as soon as the depth
 * passes `maxDepth` (returning `maxDepth + 1`), so a hostile body costs a few bytes of scanning where `JSON.parse`
 * would spend half a second building a million nested arrays. Invalid JSON gives some number; the parser refuses it
 * afterwards.
 *
 * @example
 * ```ts
 * jsonTextDepth('{"a":["]"]}', 64) // 2
 * ```
 */
export function jsonTextDepth(input: Uint8Array | string, maxDepth: number): number {
  const bytes = typeof input !== 'string'
  const n = input.length
  let depth = 0
  let deepest = 0
  let inString = false
  for (let i = 0; i < n; i++) {
    // UTF-8 continuation and lead bytes are never ASCII, so bytes and UTF-16 code units scan alike.
    const c = bytes ? input[i]! : input.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // backslash: skip the escaped character
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth
        if (deepest > maxDepth) return deepest
      }
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--
  }
  return deepest
}

/**
 * Whether `input` holds more than `limit` opening brackets (`[` or `{`, in strings or not): an upper bound on its
 * nesting, found with the runtime's native `indexOf`. Most documents hold fewer brackets than the depth limit, and
 * then the character-by-character scan (slow in a fresh process, before the JIT has compiled it) is not needed.
 */
function openingBracketsExceed(input: Uint8Array | string, limit: number): boolean {
  const find =
    typeof input === 'string'
      ? (code: number, from: number) => input.indexOf(String.fromCharCode(code), from)
      : (code: number, from: number) => input.indexOf(code, from)
  let count = 0
  for (const code of [0x5b, 0x7b]) {
    for (let i = find(code, 0); i !== -1; i = find(code, i + 1)) if (++count > limit) return true
  }
  return false
}

/**
 * Throw if JSON text is longer than `maxBytes` (bytes, or UTF-16 code units for a string) or nests more than
 * `maxDepth` levels. Call it before `JSON.parse`; call {@link assertJSONShape} on what it returns (or on a value
 * handed in already parsed).
 *
 * @throws {CountersignError} `limits.code`, "<what> is too large (more than N bytes)" with
 *   `details.reason: 'too-large'`, or "<what> is nested too deeply (more than N levels)" with
 *   `details.reason: 'too-deep'`.
 * @example
 * ```ts
 * assertJSONText(bytes, { code: 'ERR_INVALID_INPUT', what: 'encrypted key', maxBytes: 64 * 1024, maxDepth: 64 })
 * const doc: unknown = JSON.parse(new TextDecoder().decode(bytes))
 * ```
 */
export function assertJSONText(
  input: Uint8Array | string,
  limits: Omit<JSONShapeLimits, 'maxNodes'> & { readonly maxBytes: number },
): void {
  const size = typeof input === 'string' ? input.length : input.byteLength
  if (size > limits.maxBytes)
    throw shapeError(limits, 'too-large', `${limits.what} is too large (more than ${limits.maxBytes} bytes)`)
  if (openingBracketsExceed(input, limits.maxDepth) && jsonTextDepth(input, limits.maxDepth) > limits.maxDepth)
    throw shapeError(limits, 'too-deep', `${limits.what} is nested too deeply (more than ${limits.maxDepth} levels)`)
}
