/**
 * How Go prints and parses the JSON values Kyverno's operators and functions handle: `fmt.Sprint` (`%v`, which the
 * `In`/`AnyIn`/… operators apply to numbers and booleans before matching), `strconv.ParseFloat` (what counts as a
 * number in a string), `strconv.FormatFloat(f, 'f', -1, 32)` (how `regex_match` and friends turn a number into
 * text) and Go's string order (UTF-8 bytes, i.e. code points). Matching these exactly is what makes `1000000`
 * print as `1e+06` here, as it does in Kyverno.
 * @module
 */

import { CountersignError } from '../../errors.js'

/**
 * Deeper values are refused by the walkers here: JSON that deep is an attack, not a predicate.
 *
 * @example
 * ```ts
 * if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
 * ```
 */
export const MAX_VALUE_DEPTH = 512

/**
 * The error for a value nested deeper than {@link MAX_VALUE_DEPTH}.
 *
 * @example
 * ```ts
 * if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
 * ```
 */
export function valueTooDeep(): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `value nested more than ${MAX_VALUE_DEPTH} levels deep`, {
    details: { reason: 'too-deep' },
  })
}

/** Shortest round-trip digits of a finite non-zero float and its decimal exponent (`d.ddd × 10^exp`). */
function shortestDigits(f: number): { digits: string; exp: number } {
  // ECMAScript's shortest-round-trip digits are Go's: both pick the closest of the shortest candidates.
  const [mantissa, e] = Math.abs(f).toExponential().split('e') as [string, string]
  return { digits: mantissa.replace('.', ''), exp: Number(e) }
}

function fixed(digits: string, exp: number): string {
  // Place the decimal point `exp + 1` digits in, padding with zeros on either side.
  const point = exp + 1
  if (point <= 0) return `0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return digits + '0'.repeat(point - digits.length)
  return `${digits.slice(0, point)}.${digits.slice(point)}`
}

function special(f: number): string | undefined {
  if (Number.isNaN(f)) return 'NaN'
  if (f === Number.POSITIVE_INFINITY) return '+Inf'
  if (f === Number.NEGATIVE_INFINITY) return '-Inf'
  if (f === 0) return Object.is(f, -0) ? '-0' : '0'
  return undefined
}

/**
 * Go's `%v` (`strconv.FormatFloat(f, 'g', -1, 64)`): shortest digits, in exponent form when the exponent is below
 * -4 or at least 6, with at least two exponent digits.
 *
 * @example
 * ```ts
 * formatGoFloat(1000000) // '1e+06'
 * formatGoFloat(123456) // '123456'
 * formatGoFloat(0.00001) // '1e-05'
 * ```
 */
export function formatGoFloat(f: number): string {
  const s = special(f)
  if (s !== undefined) return s
  const { digits, exp } = shortestDigits(f)
  const sign = f < 0 ? '-' : ''
  if (exp < -4 || exp >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    const e = Math.abs(exp).toString().padStart(2, '0')
    return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${e}`
  }
  return sign + fixed(digits, exp)
}

/**
 * Go's `strconv.FormatFloat(f, 'f', -1, 32)`: the float narrowed to 32 bits, then its shortest 32-bit digits in
 * plain decimal form. Kyverno's string functions (`regex_match`, `pattern_match`, `object_from_lists`…) convert
 * numbers this way.
 *
 * @example
 * ```ts
 * formatGoFloat32Fixed(12) // '12'
 * formatGoFloat32Fixed(16777217) // '16777216': the float32 nearest
 * ```
 */
export function formatGoFloat32Fixed(f: number): string {
  const narrowed = Math.fround(f)
  const s = special(narrowed)
  if (s !== undefined) return s
  let digits = ''
  let exp = 0
  for (let p = 1; p <= 9; p++) {
    const candidate = Math.abs(narrowed).toPrecision(p)
    if (Math.fround(Number(candidate)) === Math.abs(narrowed)) {
      const parsed = shortestDigits(Number(candidate))
      digits = parsed.digits
      exp = parsed.exp
      break
    }
  }
  return (narrowed < 0 ? '-' : '') + fixed(digits, exp)
}

/**
 * Kyverno's `ifaceToString` (its string functions' view of a string-or-number argument): strings as they are,
 * numbers as {@link formatGoFloat32Fixed}, booleans as `true`/`false`; anything else has no string form.
 *
 * @example
 * ```ts
 * kyvernoIfaceToString(12) // '12'
 * kyvernoIfaceToString(null) // undefined
 * ```
 */
export function kyvernoIfaceToString(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number') return formatGoFloat32Fixed(v)
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return undefined
}

/** Go's `fmt.Sprint` of a value inside a slice or map (the same as at the top level for JSON values). */
function sprintInner(v: unknown, depth: number): string {
  if (depth > MAX_VALUE_DEPTH) throw valueTooDeep()
  if (v === null || v === undefined) return '<nil>'
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  if (typeof v === 'number') return formatGoFloat(v)
  if (typeof v === 'string') return v
  if (Array.isArray(v)) return `[${v.map((e) => sprintInner(e, depth + 1)).join(' ')}]`
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o).sort(compareGoStrings)
    return `map[${keys.map((k) => `${k}:${sprintInner(o[k], depth + 1)}`).join(' ')}]`
  }
  return String(v)
}

/**
 * Go's `fmt.Sprint` for a JSON value: `<nil>`, `true`, `1e+06`, the string itself, `[a b]`, `map[k:v]` (keys
 * sorted).
 *
 * @example
 * ```ts
 * goSprint(1.5) // '1.5'
 * goSprint(['a', 1, null]) // '[a 1 <nil>]'
 * ```
 */
export function goSprint(v: unknown): string {
  return sprintInner(v, 0)
}

const DECIMAL_FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/
// Hexadecimal floats need the binary exponent (Go refuses `0x10` as a float). Underscores are not accepted here.
const HEX_FLOAT = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/

function parseHexFloat(m: RegExpExecArray): number | undefined {
  const whole = m[2] ?? ''
  const frac = m[3] ?? ''
  if (whole === '' && frac === '') return undefined
  const mantissa = BigInt(`0x${whole}${frac}`)
  const magnitude = Number(mantissa) * 2 ** (Number(m[4]) - 4 * frac.length)
  return m[1] === '-' ? -magnitude : magnitude
}

/**
 * Go's `strconv.ParseFloat(s, 64)`: decimal floats (`1`, `.5`, `1e3`), hexadecimal floats with a `p` exponent (no underscores),
 * `inf`/`infinity` with an optional sign and `nan`, in any case. No spaces, no underscores in decimal numbers;
 * values too large for a float are an error, as in Go.
 *
 * @returns The number, or `undefined` when Go returns an error.
 * @example
 * ```ts
 * parseGoFloat('1e3') // 1000
 * parseGoFloat('0x10') // undefined: a hexadecimal float needs a p exponent
 * parseGoFloat(' 1') // undefined
 * ```
 */
export function parseGoFloat(s: string): number | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined
  const lower = s.toLowerCase()
  const unsigned = lower[0] === '+' || lower[0] === '-' ? lower.slice(1) : lower
  if (unsigned === 'inf' || unsigned === 'infinity') {
    return lower[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY
  }
  if (lower === 'nan') return Number.NaN
  let value: number
  if (DECIMAL_FLOAT.test(s)) value = Number(s)
  else {
    const hex = HEX_FLOAT.exec(s)
    const parsed = hex === null ? undefined : parseHexFloat(hex)
    if (parsed === undefined) return undefined
    value = parsed
  }
  // Go reports overflow (±Inf) as an error; underflow to zero is not one.
  return Number.isFinite(value) ? value : undefined
}

function hasSurrogate(s: string): boolean {
  return /[\uD800-\uDFFF]/.test(s)
}

/**
 * Compare strings as Go does (by UTF-8 bytes, which is code point order; JavaScript's `<` compares UTF-16 units and
 * differs for characters above U+FFFF).
 *
 * @returns A negative number, zero or a positive number.
 * @example
 * ```ts
 * ['b', 'a'].sort(compareGoStrings) // ['a', 'b']
 * ```
 */
export function compareGoStrings(a: string, b: string): number {
  if (!hasSurrogate(a) && !hasSurrogate(b)) return a < b ? -1 : a > b ? 1 : 0
  const x = Array.from(a, (c) => c.codePointAt(0)!)
  const y = Array.from(b, (c) => c.codePointAt(0)!)
  for (let i = 0; i < x.length && i < y.length; i++) if (x[i] !== y[i]) return x[i]! - y[i]!
  return x.length - y.length
}
