/**
 * Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource`), as Kyverno's condition operators and
 * arithmetic functions see them: `"1Gi" == "1024Mi"`, `"1500m" < "2"`, `add('1Gi', '512Mi') == '1536Mi'`. Values are
 * exact decimals (`unscaled × 10^-scale`, as `inf.Dec`), never floats, so comparisons are exact whatever the size.
 *
 * Parsing follows `ParseQuantity` to the letter, quirks included: `"-"` and `"."` are the quantity 0, values are
 * rounded up to nanos, binary-suffixed values are capped at 2^63-1, and `"1e3"` keeps the exponent format. The
 * internal representation (which `unscaled`/`scale` pair) also follows Go's, because two Kyverno functions
 * (`divide` and `modulo`) compute with it.
 * @module
 */
import { CountersignError } from '../../errors.js'

/**
 * The three ways Kubernetes writes a quantity; a result is printed the way its first operand was written.
 *
 * @example
 * ```ts
 * const f: QuantityFormat = parseKubernetesQuantity('1Ki')!.format // 'BinarySI'
 * ```
 */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent'

/**
 * A parsed quantity: the value is `unscaled × 10^-scale`.
 *
 * @example
 * ```ts
 * parseKubernetesQuantity('1.5Ki') // { unscaled: 1536000000000n, scale: 9, format: 'BinarySI' }
 * ```
 */
export interface KubernetesQuantity {
  readonly unscaled: bigint
  readonly scale: number
  readonly format: QuantityFormat
}

const INT64_MAX = (1n << 63n) - 1n
const INT64_MIN = -(1n << 63n)
const SUFFIX_CHARS = 'eEinumkKMGTP'
const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
}
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }
/** Past this many digits of padding an exact value is kept unpadded (Go would build a huge integer). */
const MAX_PADDING = 64
/** Arithmetic refuses operands whose exponents are further apart than this (Go would allocate without bound). */
const MAX_ALIGNMENT = 10_000

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9'
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n)
}

function fitsInt64(v: bigint): boolean {
  return v >= INT64_MIN && v <= INT64_MAX
}

interface Pieces {
  readonly positive: boolean
  readonly value: string
  readonly num: string
  readonly denom: string
  readonly suffix: string
}

// parseQuantityString: sign, leading zeros, integer digits, optional fraction, then suffix characters.
function splitQuantity(str: string): Pieces | undefined {
  let positive = true
  let pos = 0
  const end = str.length
  if (pos < end && (str[0] === '-' || str[0] === '+')) {
    positive = str[0] !== '-'
    pos++
  }
  while (pos < end && str[pos] === '0') pos++
  if (pos >= end) return { positive, value: '0', num: '0', denom: '', suffix: '' }
  let i = pos
  while (i < end && isDigit(str[i])) i++
  if (i >= end) return { positive, value: str, num: str.slice(pos), denom: '', suffix: '' }
  let num = str.slice(pos, i)
  pos = i
  if (num === '') num = '0'
  let denom = ''
  if (str[pos] === '.') {
    pos++
    let j = pos
    while (j < end && isDigit(str[j])) j++
    if (j >= end) return { positive, value: str, num, denom: str.slice(pos), suffix: '' }
    denom = str.slice(pos, j)
    pos = j
  }
  const value = str.slice(0, pos)
  const suffixStart = pos
  while (pos < end && SUFFIX_CHARS.includes(str[pos]!)) pos++
  if (pos >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) }
  if (str[pos] === '-' || str[pos] === '+') pos++
  while (pos < end && isDigit(str[pos])) pos++
  if (pos >= end) return { positive, value, num, denom, suffix: str.slice(suffixStart) }
  return undefined
}

function interpretSuffix(s: string): { base: 10 | 2; exponent: number; format: QuantityFormat } | undefined {
  const decimal = DECIMAL_SUFFIXES[s]
  if (decimal !== undefined) return { base: 10, exponent: decimal, format: 'DecimalSI' }
  const binary = BINARY_SUFFIXES[s]
  if (binary !== undefined) return { base: 2, exponent: binary, format: 'BinarySI' }
  if (s.length > 1 && (s[0] === 'e' || s[0] === 'E')) {
    // strconv.ParseInt(s[1:], 10, 64), then Go's int32() conversion, which wraps.
    const digits = s.slice(1)
    if (!/^[+-]?[0-9]+$/.test(digits)) return undefined
    const parsed = BigInt(digits)
    if (!fitsInt64(parsed)) return undefined
    return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)), format: 'DecimalExponent' }
  }
  return undefined
}

function digitCount(v: bigint): number {
  return (v < 0n ? -v : v).toString().length
}

/** `ceil(|v| / 10^drop)` with the sign of `v`: inf.Dec's RoundUp (away from zero), without building 10^drop. */
function roundUpDrop(v: bigint, drop: number): bigint {
  const negative = v < 0n
  const magnitude = negative ? -v : v
  let result: bigint
  if (drop > digitCount(magnitude)) result = 1n
  else {
    const divisor = pow10(drop)
    result = magnitude / divisor + (magnitude % divisor === 0n ? 0n : 1n)
  }
  return negative ? -result : result
}

/**
 * Parse a Kubernetes quantity exactly as `resource.ParseQuantity` does.
 *
 * @param s - e.g. `"1Gi"`, `"1500m"`, `"1e3"`, `"0.5"`.
 * @returns The quantity, or `undefined` when Kubernetes refuses it.
 * @example
 * ```ts
 * parseKubernetesQuantity('1Gi')?.format // 'BinarySI'
 * parseKubernetesQuantity('12*') // undefined
 * ```
 */
export function parseKubernetesQuantity(s: string): KubernetesQuantity | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined
  if (s === '0') return { unscaled: 0n, scale: 0, format: 'DecimalSI' }
  const pieces = splitQuantity(s)
  if (pieces === undefined) return undefined
  const suffix = interpretSuffix(pieces.suffix)
  if (suffix === undefined) return undefined
  const { num, denom, positive } = pieces
  let { format } = suffix
  // The int64 fast path: exact when the digits and the scale are small enough.
  let precision: number
  let scale: number
  let mantissa = 1n
  if (suffix.base === 10) {
    scale = suffix.exponent
    precision = 18 - (num.length + denom.length)
  } else {
    scale = 0
    if (suffix.exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(suffix.exponent)
      precision = 15 - num.length - Math.trunc(Math.fround((Math.fround(suffix.exponent) * 3) / 10)) - 1
    } else precision = -1
  }
  if (precision >= 0) {
    scale -= denom.length
    if (scale >= -9) {
      const result = BigInt(num + denom) * mantissa
      if (fitsInt64(result)) return { unscaled: positive ? result : -result, scale: -scale, format }
    }
  }
  // The inf.Dec path: exact decimal, rounded up to nanos, capped when binary.
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?$/.exec(pieces.value)
  if (m === null || (m[2] === '' && (m[3] ?? '') === '')) return undefined
  let unscaled = BigInt(`${m[2] || '0'}${m[3] ?? ''}`)
  let decScale = (m[3] ?? '').length
  const negative = m[1] === '-'
  if (suffix.base === 10) decScale -= suffix.exponent
  else unscaled *= 1n << BigInt(suffix.exponent)
  if (unscaled !== 0n) {
    if (decScale > 9) {
      unscaled = roundUpDrop(unscaled, decScale - 9)
      decScale = 9
    } else if (decScale < 9 && 9 - decScale <= MAX_PADDING) {
      unscaled *= pow10(9 - decScale)
      decScale = 9
    }
  }
  if (format === 'BinarySI' && compareMagnitude(unscaled, decScale, INT64_MAX, 0) > 0) {
    unscaled = INT64_MAX
    decScale = 0
  }
  if (format === 'BinarySI' && unscaled !== 0n && compareMagnitude(unscaled, decScale, 1n, 0) < 0) format = 'DecimalSI'
  return { unscaled: negative ? -unscaled : unscaled, scale: decScale, format }
}

/** Compare |a·10^-sa| with |b·10^-sb| without building numbers larger than the inputs. */
function compareMagnitude(a: bigint, sa: number, b: bigint, sb: number): number {
  const ma = a < 0n ? -a : a
  const mb = b < 0n ? -b : b
  if (ma === 0n || mb === 0n) return ma === mb ? 0 : ma === 0n ? -1 : 1
  const ea = digitCount(ma) - sa
  const eb = digitCount(mb) - sb
  if (ea !== eb) return ea < eb ? -1 : 1
  // Same leading position: the scales differ by at most the digit counts, so the alignment is small.
  const diff = sa - sb
  const x = diff < 0 ? ma * pow10(-diff) : ma
  const y = diff > 0 ? mb * pow10(diff) : mb
  return x === y ? 0 : x < y ? -1 : 1
}

/**
 * Compare two quantities exactly (`Quantity.Cmp`).
 *
 * @returns -1, 0 or 1.
 * @example
 * ```ts
 * compareKubernetesQuantities(parseKubernetesQuantity('1Gi')!, parseKubernetesQuantity('1024Mi')!) // 0
 * ```
 */
export function compareKubernetesQuantities(a: KubernetesQuantity, b: KubernetesQuantity): -1 | 0 | 1 {
  const sa = a.unscaled < 0n ? -1 : a.unscaled > 0n ? 1 : 0
  const sb = b.unscaled < 0n ? -1 : b.unscaled > 0n ? 1 : 0
  if (sa !== sb) return sa < sb ? -1 : 1
  if (sa === 0) return 0
  const m = compareMagnitude(a.unscaled, a.scale, b.unscaled, b.scale)
  return (sa > 0 ? m : -m) as -1 | 0 | 1
}

function isInteger(q: KubernetesQuantity): boolean {
  return q.scale <= 0 || q.unscaled % pow10(q.scale) === 0n
}

/**
 * Kubernetes' canonical text for a quantity (`Quantity.String()`): the largest suffix of its format that keeps the
 * number an integer (`1536Mi`, `1500m`, `1e3`); a binary value that is not a whole multiple of 1024 falls back to
 * decimal. Kubernetes leaves the suffix out when none exists for the exponent; so does this.
 *
 * @example
 * ```ts
 * formatKubernetesQuantity(parseKubernetesQuantity('1.5Gi')!) // '1536Mi'
 * ```
 */
export function formatKubernetesQuantity(q: KubernetesQuantity): string {
  if (q.unscaled === 0n) return '0'
  let format = q.format
  if (format === 'BinarySI') {
    const small = compareMagnitude(q.unscaled, q.scale, 1024n, 0) < 0
    if (small || !isInteger(q)) format = 'DecimalSI'
  }
  if (format === 'BinarySI') {
    let value = q.scale >= 0 ? q.unscaled / pow10(q.scale) : q.unscaled * pow10(-q.scale)
    let times = 0
    while (value !== 0n && value % 1024n === 0n) {
      value /= 1024n
      times++
    }
    const suffix = Object.entries(BINARY_SUFFIXES).find(([, e]) => e === times * 10)?.[0] ?? ''
    return `${value}${suffix}`
  }
  // Move factors of ten into the exponent, then make the exponent a multiple of three.
  let digits = (q.unscaled < 0n ? -q.unscaled : q.unscaled).toString()
  const stripped = digits.replace(/0+$/, '')
  let exponent = -q.scale + (digits.length - stripped.length)
  digits = stripped
  while (exponent % 3 !== 0) {
    digits += '0'
    exponent--
  }
  const number = `${q.unscaled < 0n ? '-' : ''}${digits}`
  if (format === 'DecimalExponent') return exponent === 0 ? number : `${number}e${exponent}`
  const suffix = Object.entries(DECIMAL_SUFFIXES).find(([, e]) => e === exponent)?.[0] ?? ''
  return number + suffix
}

function outOfRange(what: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `quantity ${what}: the exponents are too far apart`)
}

function align(a: KubernetesQuantity, b: KubernetesQuantity): { x: bigint; y: bigint; scale: number } {
  const scale = Math.max(a.scale, b.scale)
  if (scale - Math.min(a.scale, b.scale) > MAX_ALIGNMENT) throw outOfRange('arithmetic')
  return { x: a.unscaled * pow10(scale - a.scale), y: b.unscaled * pow10(scale - b.scale), scale }
}

/**
 * `Quantity.Add` (or `Sub`): the exact sum, printed in the first operand's format (the second's when the first is
 * zero), as Kyverno's `add`, `subtract` and `sum` return it.
 *
 * @param negate - Subtract `b` instead of adding it.
 * @throws {CountersignError} ERR_INVALID_INPUT when the exponents are more than 10000 apart.
 * @example
 * ```ts
 * addKubernetesQuantities(parseKubernetesQuantity('1Gi')!, parseKubernetesQuantity('512Mi')!) // 1.5Gi as a quantity
 * ```
 */
export function addKubernetesQuantities(
  a: KubernetesQuantity,
  b: KubernetesQuantity,
  negate = false,
): KubernetesQuantity {
  const { x, y, scale } = align(a, b)
  return { unscaled: negate ? x - y : x + y, scale, format: a.unscaled === 0n ? b.format : a.format }
}

/**
 * The exact product of two quantities, in the first one's format (Kyverno's `multiply` of a quantity by a number,
 * whose number it first parses as a quantity).
 *
 * @example
 * ```ts
 * formatKubernetesQuantity(multiplyKubernetesQuantities(parseKubernetesQuantity('1m')!, parseKubernetesQuantity('0.5')!)) // '500u'
 * ```
 */
export function multiplyKubernetesQuantities(a: KubernetesQuantity, b: KubernetesQuantity): KubernetesQuantity {
  return { unscaled: a.unscaled * b.unscaled, scale: a.scale + b.scale, format: a.format }
}

/**
 * `inf.Dec.QuoRound(a, b, max(scales), RoundDown)`: the quotient truncated at the larger of the two scales, in the
 * first operand's format (Kyverno's `divide` of a quantity by a number). `b` must not be zero.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the exponents are more than 10000 apart.
 * @example
 * ```ts
 * formatKubernetesQuantity(divideKubernetesQuantities(parseKubernetesQuantity('10')!, parseKubernetesQuantity('3')!)) // '3'
 * ```
 */
export function divideKubernetesQuantities(a: KubernetesQuantity, b: KubernetesQuantity): KubernetesQuantity {
  const scale = Math.max(a.scale, b.scale)
  // a/b · 10^scale = (ua · 10^(scale - sa + sb)) / ub
  const shift = scale - a.scale + b.scale
  if (Math.abs(shift) > MAX_ALIGNMENT) throw outOfRange('division')
  const quotient = shift >= 0 ? (a.unscaled * pow10(shift)) / b.unscaled : a.unscaled / (b.unscaled * pow10(-shift))
  return { unscaled: quotient, scale, format: a.format }
}

// math.Pow10's tables: the same float literals give the same products and quotients as Go.
const POW10_TAB = Array.from({ length: 32 }, (_, i) => Number(`1e${i}`))
const POW10_POS32 = Array.from({ length: 10 }, (_, i) => Number(`1e${i * 32}`))
const POW10_NEG32 = Array.from({ length: 11 }, (_, i) => Number(`1e-${i * 32}`))

/**
 * Go's `math.Pow10`.
 *
 * @example
 * ```ts
 * goPow10(-1) // 0.1
 * ```
 */
export function goPow10(n: number): number {
  if (n >= 0 && n <= 308) return POW10_POS32[Math.floor(n / 32)]! * POW10_TAB[n % 32]!
  if (n <= 0 && n >= -323) return POW10_NEG32[Math.floor(-n / 32)]! / POW10_TAB[-n % 32]!
  return n > 0 ? Number.POSITIVE_INFINITY : 0
}

/**
 * `Quantity.AsApproximateFloat64`: the unscaled integer as a float times a power of ten, rounded as Go rounds it
 * (Kyverno divides two quantities this way).
 *
 * @example
 * ```ts
 * approximateKubernetesQuantity(parseKubernetesQuantity('1.5')!) // 1.5000000000000002, as in Go
 * ```
 */
export function approximateKubernetesQuantity(q: KubernetesQuantity): number {
  const base = Number(q.unscaled)
  const exponent = -q.scale
  return exponent === 0 ? base : base * goPow10(exponent)
}
