/**
 * JSON encoding that matches Go's `encoding/json.Marshal` byte for byte, for signed payloads cosign produces.
 * Never exported from the package.
 * @module
 */
import { CountersignError } from '../errors.js'

/** A JSON value as Go would marshal it: maps (objects) get their keys sorted by UTF-8 byte order. */
export type GoJSONValue =
  | null
  | boolean
  | number
  | string
  | readonly GoJSONValue[]
  | { readonly [k: string]: GoJSONValue }

/**
 * Encode a value like Go's `json.Marshal` of `map[string]any` data: compact, object keys sorted by UTF-8 bytes,
 * HTML-safe escaping (`<`, `>`, `&` → `\u003c` …), U+2028/U+2029 escaped, lone surrogates → `\ufffd`.
 * Use {@link goObject} to keep a struct's declared key order instead of sorting.
 */
export function goMarshal(value: unknown, options?: GoMarshalOptions): string {
  const html = options?.escapeHTML !== false
  const enc = (v: unknown): string => {
    if (v === null || v === undefined) return 'null'
    if (typeof v === 'boolean') return v ? 'true' : 'false'
    if (typeof v === 'number') return goNumber(v)
    if (typeof v === 'string') return goString(v, html)
    if (Array.isArray(v)) return `[${v.map(enc).join(',')}]`
    if (v instanceof OrderedObject) {
      return `{${v.entries
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => `${goString(k, html)}:${enc(x)}`)
        .join(',')}}`
    }
    if (typeof v === 'object') {
      const keys = Object.keys(v).sort(compareUtf8)
      return `{${keys.map((k) => `${goString(k, html)}:${enc((v as Record<string, unknown>)[k])}`).join(',')}}`
    }
    throw new CountersignError('ERR_INVALID_INPUT', `cannot encode a ${typeof v} as JSON`)
  }
  return enc(value)
}

/** Options for {@link goMarshal}. */
export interface GoMarshalOptions {
  /**
   * Escape `<`, `>`, `&`, U+2028 and U+2029 as Go's encoding/json does (default). `false` gives protojson's
   * output, which escapes only quotes, backslashes and control characters.
   */
  readonly escapeHTML?: boolean
}

/** A struct-like object whose keys are emitted in the given order (Go struct field order); undefined is omitted. */
export class OrderedObject {
  constructor(readonly entries: ReadonlyArray<readonly [string, unknown]>) {}
}

/** Build an {@link OrderedObject}; entries whose value is `undefined` are left out (Go `omitempty`). */
export function goObject(entries: ReadonlyArray<readonly [string, unknown]>): OrderedObject {
  return new OrderedObject(entries)
}

function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new CountersignError('ERR_INVALID_INPUT', 'JSON cannot encode NaN or Infinity')
  if (Object.is(n, -0)) return '-0'
  // Go switches to exponent form below 1e-6 and from 1e21, exactly where JavaScript does, and both print the
  // shortest round-tripping digits; Go writes the exponent without a leading zero, as JavaScript does.
  return String(n)
}

const HEX = '0123456789abcdef'

function goString(s: string, html: boolean): string {
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!
        i++
        continue
      }
      out += '\\ufffd'
      continue
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\\ufffd'
      continue
    }
    switch (c) {
      case 0x22:
        out += '\\"'
        continue
      case 0x5c:
        out += '\\\\'
        continue
      case 0x0a:
        out += '\\n'
        continue
      case 0x0d:
        out += '\\r'
        continue
      case 0x09:
        out += '\\t'
        continue
      // Go 1.22+ writes \b and \f short forms.
      case 0x08:
        out += '\\b'
        continue
      case 0x0c:
        out += '\\f'
        continue
      case 0x3c:
      case 0x3e:
      case 0x26:
      case 0x2028:
      case 0x2029:
        out += html ? `\\u${c.toString(16).padStart(4, '0')}` : s[i]
        continue
    }
    if (c < 0x20) {
      out += `\\u00${HEX[c >> 4]}${HEX[c & 15]}`
      continue
    }
    out += s[i]
  }
  return `${out}"`
}

/** Compare strings by their UTF-8 bytes (= Unicode code point order), as Go sorts map keys. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!
    const y = b.codePointAt(i)!
    if (x !== y) return x < y ? -1 : 1
    if (x > 0xffff) i++
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}
