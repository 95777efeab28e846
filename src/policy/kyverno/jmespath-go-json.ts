/**
 * Go's `json.Marshal` for decoded JSON values, which Kyverno uses to paste a non-string variable into a string
 * (`"n={{ count }}"` → `"n=3"`) and JMESPath's `to_string` uses: object keys sorted, `<`, `>`, `&`, U+2028 and
 * U+2029 escaped as `\u003c`… (Go's HTML-safe default), `-0` kept, NaN and infinities refused. The output is
 * bounded, because a JMESPath result can share one object many times over and would otherwise serialise to
 * gigabytes.
 * @module
 */
import { CountersignError } from '../../errors.js'
import { isJSONObject } from '../../internal/json.js'
import { compareGoStrings, MAX_VALUE_DEPTH, valueTooDeep } from './operators-go-values.js'

const ESCAPES: Readonly<Record<string, string>> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
}

/**
 * A JSON string literal as Go writes it. A lone UTF-16 surrogate (which JSON.parse lets through, where Go's decoder
 * would have produced U+FFFD) is written `\ufffd`, as Go writes invalid UTF-8.
 *
 * @example
 * ```ts
 * goQuote('a<b') // '"a\\u003cb"'
 * ```
 */
export function goQuote(s: string): string {
  return `"${s.replace(
    /["\\\u0000-\u001f<>&\u2028\u2029]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    (c) => {
      const known = ESCAPES[c]
      if (known !== undefined) return known
      if (c.length === 1 && c.charCodeAt(0) >= 0xd800 && c.charCodeAt(0) <= 0xdfff) return '\\ufffd'
      return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
    },
  )}"`
}

/**
 * Go's `json.Marshal` of a float64: JavaScript's number text is the same for finite values, except that Go keeps
 * the sign of zero.
 */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) {
    const shown = n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN'
    throw new CountersignError('ERR_INVALID_INPUT', `json: unsupported value: ${shown}`, {
      details: { reason: 'unsupported-value' },
    })
  }
  return Object.is(n, -0) ? '-0' : JSON.stringify(n)
}

/**
 * Serialise a JSON value as Go's `json.Marshal` does.
 *
 * @param value - A decoded JSON value (`undefined` is written as `null`).
 * @param limit - The longest output accepted.
 * @returns The JSON text.
 * @throws {CountersignError} ERR_INVALID_INPUT with `details.reason` `too-large` when the text would be longer
 *   than `limit`, `unsupported-value` for NaN or an infinity (Go: "json: unsupported value"), `too-deep` past 512
 *   levels.
 * @example
 * ```ts
 * goJSONMarshal({ b: 1, a: '<x>' }) // '{"a":"\\u003cx\\u003e","b":1}'
 * ```
 */
export function goJSONMarshal(value: unknown, limit = 1 << 20): string {
  const parts: string[] = []
  let length = 0
  const push = (s: string) => {
    length += s.length
    if (length > limit) {
      throw new CountersignError('ERR_INVALID_INPUT', `JSON text longer than ${limit} characters`, {
        details: { reason: 'too-large', limit },
      })
    }
    parts.push(s)
  }
  const write = (v: unknown, depth: number): void => {
    if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
    if (v === null || v === undefined) push('null')
    else if (typeof v === 'boolean') push(v ? 'true' : 'false')
    else if (typeof v === 'number') push(goNumber(v))
    else if (typeof v === 'string') push(goQuote(v))
    else if (Array.isArray(v)) {
      push('[')
      v.forEach((e, i) => {
        if (i > 0) push(',')
        write(e, depth + 1)
      })
      push(']')
    } else if (isJSONObject(v)) {
      push('{')
      Object.keys(v)
        .sort(compareGoStrings)
        .forEach((k, i) => {
          if (i > 0) push(',')
          push(goQuote(k))
          push(':')
          write(v[k], depth + 1)
        })
      push('}')
    } else {
      throw new CountersignError('ERR_INVALID_INPUT', `json: unsupported type: ${typeof v}`, {
        details: { reason: 'unsupported-value' },
      })
    }
  }
  write(value, 0)
  return parts.join('')
}
