/**
 * Go's `time.Time` as Kyverno's `time_*` functions use it: an instant (nanoseconds, so nothing is rounded) with the
 * offset it was written in, printed as `t.Format(time.RFC3339)`, truncated as `t.Truncate(d)`. Parsing with Go
 * layouts is in jmespath-go-time-layout.ts. The local zone is UTC, as in Kyverno's container, so "now" is UTC.
 * @module
 */

/**
 * An instant (nanoseconds since the Unix epoch) and the UTC offset it is shown in.
 *
 * @example
 * ```ts
 * const t: GoTime = { ns: 0n, offset: -7 * 3600 } // 1969-12-31T17:00:00-07:00
 * ```
 */
export interface GoTime {
  readonly ns: bigint
  /** Seconds east of UTC. */
  readonly offset: number
}

const NS_PER_SECOND = 1_000_000_000n
/** Seconds from 0001-01-01T00:00:00Z (Go's zero time) to the Unix epoch. */
const ZERO_TO_UNIX = 62135596800n

/**
 * Days before each month in a common year (index 0: January), and 365 at index 12.
 *
 * @example
 * ```ts
 * GO_DAYS_BEFORE[2] // 59: days before March
 * ```
 */
export const GO_DAYS_BEFORE = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365]

/**
 * The RFC 3339 layout, `time.RFC3339`.
 *
 * @example
 * ```ts
 * parseGoTime(GO_RFC3339, '2021-01-02T15:04:05-07:00')
 * ```
 */
export const GO_RFC3339 = '2006-01-02T15:04:05Z07:00'

/**
 * Whether a year is a leap year (Gregorian, proleptic).
 *
 * @example
 * ```ts
 * goIsLeap(2024) // true
 * ```
 */
export function goIsLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
}

/**
 * Days in a month (1-12) of a year.
 *
 * @example
 * ```ts
 * goDaysIn(2, 2023) // 28
 * ```
 */
export function goDaysIn(month: number, year: number): number {
  if (month === 2 && goIsLeap(year)) return 29
  return GO_DAYS_BEFORE[month]! - GO_DAYS_BEFORE[month - 1]!
}

// Howard Hinnant's days_from_civil / civil_from_days, in floating-point-safe integer arithmetic.
/**
 * Days since 1970-01-01 of a civil date.
 *
 * @example
 * ```ts
 * goDaysFromCivil(1970, 1, 2) // 1
 * ```
 */
export function goDaysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
}

function floorMod(a: bigint, b: bigint): bigint {
  const r = a % b
  return r !== 0n && r < 0n !== b < 0n ? r + b : r
}

/**
 * The wall clock of a time in its own offset.
 *
 * @example
 * ```ts
 * goTimeFields({ ns: 0n, offset: 3600 }).hour // 1
 * ```
 */
export function goTimeFields(t: GoTime): {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  second: number
  weekday: number
} {
  const local = floorDiv(t.ns, NS_PER_SECOND) + BigInt(t.offset)
  const days = Number(floorDiv(local, 86400n))
  const secs = Number(floorMod(local, 86400n))
  return {
    ...civilFromDays(days),
    hour: Math.floor(secs / 3600),
    minute: Math.floor((secs % 3600) / 60),
    second: secs % 60,
    weekday: (((days + 4) % 7) + 7) % 7,
  }
}

function pad(n: number, width: number): string {
  const s = Math.abs(n).toString().padStart(width, '0')
  return n < 0 ? `-${s}` : s
}

/**
 * Format as Go's `t.Format(time.RFC3339)`: seconds precision, `Z` for a zero offset, else `±hh:mm`.
 *
 * @example
 * ```ts
 * formatGoRFC3339({ ns: 0n, offset: -7 * 3600 }) // '1969-12-31T17:00:00-07:00'
 * ```
 */
export function formatGoRFC3339(t: GoTime): string {
  const f = goTimeFields(t)
  const date = `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}T${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)}`
  if (t.offset === 0) return `${date}Z`
  const minutes = Math.trunc(Math.abs(t.offset) / 60)
  return `${date}${t.offset < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`
}

/**
 * Go's `Time.Truncate(d)`: round down to a multiple of `d` since Go's zero time (0001-01-01 UTC), keeping the
 * offset; `d <= 0` leaves the time as it is.
 *
 * @example
 * ```ts
 * formatGoRFC3339(truncateGoTime({ ns: 5_400_000_000_000n, offset: 0 }, 3_600_000_000_000n)) // '1970-01-01T01:00:00Z'
 * ```
 */
export function truncateGoTime(t: GoTime, d: bigint): GoTime {
  if (d <= 0n) return t
  const sinceZero = t.ns + ZERO_TO_UNIX * NS_PER_SECOND
  return { ns: t.ns - floorMod(sinceZero, d), offset: t.offset }
}

/**
 * The current time as Kyverno's clock would give it (UTC).
 *
 * @example
 * ```ts
 * goTimeFromDate(new Date(0)) // { ns: 0n, offset: 0 }
 * ```
 */
export function goTimeFromDate(d: Date): GoTime {
  return { ns: BigInt(d.getTime()) * 1_000_000n, offset: 0 }
}
