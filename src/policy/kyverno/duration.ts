/**
 * Go's `time.Duration` as Kyverno uses it: `time.ParseDuration` (the `Equals`/`GreaterThan`/`Duration*` operators
 * compare durations such as `"1h"` with `"60m"`, and the JMESPath functions `time_add`, `time_truncate`, `add`…
 * take them) and `Duration.String()` (`time_since` and `time_diff` return `"180h10m0s"`). Durations are signed
 * 64-bit nanosecond counts, kept here as `bigint` so that nothing is rounded; Go's overflow rules are kept too.
 * @module
 */

/**
 * The largest duration (Go's `maxDuration`), in nanoseconds.
 *
 * @example
 * ```ts
 * formatGoDuration(INT64_MAX) // '2562047h47m16.854775807s'
 * ```
 */
export const INT64_MAX = (1n << 63n) - 1n
/**
 * The smallest duration (Go's `minDuration`), in nanoseconds.
 *
 * @example
 * ```ts
 * formatGoDuration(INT64_MIN) // '-2562047h47m16.854775808s'
 * ```
 */
export const INT64_MIN = -(1n << 63n)
const UINT63 = 1n << 63n

const NANOSECOND = 1n
const MICROSECOND = 1000n
const MILLISECOND = 1_000_000n
const SECOND = 1_000_000_000n
const MINUTE = 60n * SECOND
const HOUR = 60n * MINUTE

// Go's unitMap: both the micro sign (U+00B5) and the Greek mu (U+03BC) spell microseconds.
const UNITS: Readonly<Record<string, bigint>> = {
  ns: NANOSECOND,
  us: MICROSECOND,
  µs: MICROSECOND,
  μs: MICROSECOND,
  ms: MILLISECOND,
  s: SECOND,
  m: MINUTE,
  h: HOUR,
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9'
}

/**
 * Parse a Go duration (`time.ParseDuration`): a sign, then one or more `<number><unit>` parts with units `ns`, `us`
 * (`µs`), `ms`, `s`, `m`, `h`; `"0"` alone is zero. Fractions are computed in floating point exactly as Go does,
 * so `"1.1s"` is the same nanosecond count it is in Kyverno.
 *
 * @param s - e.g. `"1h30m"`, `"-1.5s"`, `"300ms"`.
 * @returns Nanoseconds, or `undefined` when Go would return an error (no unit, unknown unit, overflow).
 * @example
 * ```ts
 * parseGoDuration('1h30m') // 5400000000000n
 * parseGoDuration('10') // undefined: Go requires a unit ("missing unit in duration")
 * ```
 */
export function parseGoDuration(s: string): bigint | undefined {
  if (typeof s !== 'string') return undefined
  let rest = s
  let negative = false
  if (rest !== '' && (rest[0] === '-' || rest[0] === '+')) {
    negative = rest[0] === '-'
    rest = rest.slice(1)
  }
  if (rest === '0') return 0n
  if (rest === '') return undefined
  let total = 0n
  while (rest !== '') {
    if (!(rest[0] === '.' || isDigit(rest[0]))) return undefined
    // The integer part: Go refuses it beyond 2^63 rather than wrapping.
    let i = 0
    let whole = 0n
    while (isDigit(rest[i])) {
      whole = whole * 10n + BigInt(rest.charCodeAt(i) - 48)
      if (whole > UINT63) return undefined
      i++
    }
    const before = i > 0
    rest = rest.slice(i)
    let fraction = 0n
    let scale = 1
    let after = false
    if (rest[0] === '.') {
      rest = rest.slice(1)
      let j = 0
      let overflow = false
      // Go stops accumulating fraction digits once they would overflow, and keeps scanning.
      while (isDigit(rest[j])) {
        if (!overflow) {
          const next = fraction * 10n + BigInt(rest.charCodeAt(j) - 48)
          if (fraction > INT64_MAX / 10n || next > UINT63) overflow = true
          else {
            fraction = next
            scale *= 10
          }
        }
        j++
      }
      after = j > 0
      rest = rest.slice(j)
    }
    if (!before && !after) return undefined
    let u = 0
    while (u < rest.length && !(rest[u] === '.' || isDigit(rest[u]))) u++
    if (u === 0) return undefined
    const unit = UNITS[rest.slice(0, u)]
    if (unit === undefined) return undefined
    rest = rest.slice(u)
    if (whole > UINT63 / unit) return undefined
    let v = whole * unit
    if (fraction > 0n) {
      // float64(f) * (float64(unit) / scale), truncated: the same rounding as Go.
      v += BigInt(Math.trunc(Number(fraction) * (Number(unit) / scale)))
      if (v > UINT63) return undefined
    }
    total += v
    if (total > UINT63) return undefined
  }
  if (negative) return -total
  if (total > INT64_MAX) return undefined
  return total
}

/** Go's `fmtFrac`: `v / 10^precision` as digits after a point, trailing zeros dropped. */
function fraction(v: bigint, precision: number): { text: string; rest: bigint } {
  let digits = ''
  let printed = false
  let rest = v
  for (let i = 0; i < precision; i++) {
    const digit = rest % 10n
    printed ||= digit !== 0n
    if (printed) digits = digit.toString() + digits
    rest /= 10n
  }
  return { text: printed ? `.${digits}` : '', rest }
}

/**
 * Format nanoseconds as Go's `Duration.String()` does: `"1h2m3.5s"`, `"1.5ms"`, `"2µs"`, `"0s"`.
 *
 * @param ns - A signed 64-bit nanosecond count.
 * @returns Go's text for it.
 * @example
 * ```ts
 * formatGoDuration(648600000000000n) // '180h10m0s'
 * formatGoDuration(1500000n) // '1.5ms'
 * ```
 */
export function formatGoDuration(ns: bigint): string {
  const negative = ns < 0n
  const u = negative ? -ns : ns
  let out: string
  if (u < SECOND) {
    // Below a second Go switches to the largest unit that keeps an integer part.
    if (u === 0n) return '0s'
    let precision: number
    let unit: string
    if (u < MICROSECOND) {
      precision = 0
      unit = 'ns'
    } else if (u < MILLISECOND) {
      precision = 3
      unit = 'µs'
    } else {
      precision = 6
      unit = 'ms'
    }
    const f = fraction(u, precision)
    out = `${f.rest}${f.text}${unit}`
  } else {
    const f = fraction(u, 9)
    let seconds = f.rest
    out = `${seconds % 60n}${f.text}s`
    seconds /= 60n
    if (seconds > 0n) {
      out = `${seconds % 60n}m${out}`
      const hours = seconds / 60n
      // Go stops at hours: days differ in length.
      if (hours > 0n) out = `${hours}h${out}`
    }
  }
  return negative ? `-${out}` : out
}

/**
 * Go's `Duration.Seconds()`: whole seconds plus the fraction, in floating point (what the condition operators
 * compare, so two durations a nanosecond apart past about 104 days compare equal, as in Kyverno).
 *
 * @param ns - Nanoseconds.
 * @returns Seconds as a float.
 * @example
 * ```ts
 * goDurationSeconds(1500000000n) // 1.5
 * ```
 */
export function goDurationSeconds(ns: bigint): number {
  const whole = ns / SECOND
  const rest = ns % SECOND
  return Number(whole) + Number(rest) / 1e9
}

/**
 * Go's `int64(f)` for a float64 (truncation toward zero), with the amd64 result for values out of range or NaN
 * (the most negative int64), which is what Kyverno's binaries compute.
 *
 * @param f - A float.
 * @returns The truncated integer.
 * @example
 * ```ts
 * goInt64FromFloat(1.9) // 1n
 * ```
 */
export function goInt64FromFloat(f: number): bigint {
  // 2 ** 63 is exactly representable; every float at or above it is out of int64 range.
  if (!Number.isFinite(f) || f >= 2 ** 63 || f < -(2 ** 63)) return INT64_MIN
  return BigInt(Math.trunc(f))
}

/**
 * Wrap to a signed 64-bit integer, as Go's integer arithmetic does.
 *
 * @example
 * ```ts
 * wrapInt64(INT64_MAX + 1n) // INT64_MIN
 * ```
 */
export function wrapInt64(v: bigint): bigint {
  return BigInt.asIntN(64, v)
}

/**
 * Kyverno's `time.Duration(n) * time.Second` for a number of seconds: the float is truncated to whole seconds
 * first, and the product wraps around on overflow, exactly as Go computes it.
 *
 * @param seconds - A JSON number.
 * @returns Nanoseconds.
 * @example
 * ```ts
 * goDurationFromSeconds(1.5) // 1000000000n: Go truncates 1.5 to 1 before multiplying
 * ```
 */
export function goDurationFromSeconds(seconds: number): bigint {
  return wrapInt64(goInt64FromFloat(seconds) * SECOND)
}
