/**
 * Go's `time.Parse(layout, value)` (time/format.go `parse`), for Kyverno's `time_since` and `time_parse` layouts
 * and its RFC 3339 arguments. The layout is read element by element as Go's `nextStdChunk` reads it, and every
 * element Go knows is understood: years (`2006`, `06`), months (`01`, `1`, `Jan`, `January`), days (`02`, `2`,
 * `_2`, day of year `002` and `__2`), weekdays (parsed, not checked), hours (`15`, `03`, `3`), minutes, seconds,
 * `PM`/`pm`, fractional seconds (`.000`, `.999`, or any fraction after the seconds), zones (`Z07:00`, `-0700` and
 * their variants, `MST`). Values follow Go's rules for each element (fixed or free digit counts, ranges) and the
 * same validation (day in month, day of year). Times keep the offset they were written with, as Go's do.
 *
 * Kyverno runs with the container's local zone, UTC; so does this: a zone abbreviation other than `UTC` (say
 * `MST`) has offset 0, as Go gives it when the local zone does not know the name (and `GMT+3` is the wall clock
 * read as UTC, labelled +03:00, Go's quirk).
 * @module
 */
import { GO_DAYS_BEFORE, type GoTime, goDaysFromCivil, goDaysIn, goIsLeap } from './jmespath-go-time.js'

const SHORT_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const LONG_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]
const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat']
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']
type Std =
  | 'longMonth'
  | 'month'
  | 'numMonth'
  | 'zeroMonth'
  | 'longWeekDay'
  | 'weekDay'
  | 'day'
  | 'underDay'
  | 'zeroDay'
  | 'underYearDay'
  | 'zeroYearDay'
  | 'hour'
  | 'hour12'
  | 'zeroHour12'
  | 'minute'
  | 'zeroMinute'
  | 'second'
  | 'zeroSecond'
  | 'longYear'
  | 'year'
  | 'PM'
  | 'pm'
  | 'TZ'
  | 'ISO8601TZ'
  | 'ISO8601SecondsTZ'
  | 'ISO8601ShortTZ'
  | 'ISO8601ColonTZ'
  | 'ISO8601ColonSecondsTZ'
  | 'NumTZ'
  | 'NumSecondsTz'
  | 'NumShortTZ'
  | 'NumColonTZ'
  | 'NumColonSecondsTZ'
  | 'fracSecond0'
  | 'fracSecond9'

interface Chunk {
  readonly prefix: string
  readonly std: Std | undefined
  /** Digits of a fractional-second element. */
  readonly digits?: number
  readonly suffix: string
}

const STD_0X: readonly Std[] = ['zeroMonth', 'zeroDay', 'zeroHour12', 'zeroMinute', 'zeroSecond', 'year']

const isDigitAt = (s: string, i: number) => i < s.length && s[i]! >= '0' && s[i]! <= '9'
const startsWithLower = (s: string) => s.length > 0 && s[0]! >= 'a' && s[0]! <= 'z'

// time.nextStdChunk: the first layout element in `layout`, with the literal text before it.
function nextStdChunk(layout: string): Chunk {
  const at = (i: number, std: Std, width: number): Chunk => ({
    prefix: layout.slice(0, i),
    std,
    suffix: layout.slice(i + width),
  })
  const tzs: readonly [string, Std][] = [
    ['070000', 'NumSecondsTz'],
    ['07:00:00', 'NumColonSecondsTZ'],
    ['0700', 'NumTZ'],
    ['07:00', 'NumColonTZ'],
    ['07', 'NumShortTZ'],
  ]
  for (let i = 0; i < layout.length; i++) {
    const rest = layout.slice(i)
    switch (layout[i]) {
      case 'J':
        if (rest.startsWith('Jan')) {
          if (rest.startsWith('January')) return at(i, 'longMonth', 7)
          if (!startsWithLower(rest.slice(3))) return at(i, 'month', 3)
        }
        break
      case 'M':
        if (rest.startsWith('Mon')) {
          if (rest.startsWith('Monday')) return at(i, 'longWeekDay', 6)
          if (!startsWithLower(rest.slice(3))) return at(i, 'weekDay', 3)
        }
        if (rest.startsWith('MST')) return at(i, 'TZ', 3)
        break
      case '0':
        if (rest.length >= 2 && rest[1]! >= '1' && rest[1]! <= '6') return at(i, STD_0X[rest.charCodeAt(1) - 49]!, 2)
        if (rest.startsWith('002')) return at(i, 'zeroYearDay', 3)
        break
      case '1':
        if (rest.startsWith('15')) return at(i, 'hour', 2)
        return at(i, 'numMonth', 1)
      case '2':
        if (rest.startsWith('2006')) return at(i, 'longYear', 4)
        return at(i, 'day', 1)
      case '_':
        if (rest.startsWith('_2')) {
          // "_2006" is a literal '_' followed by the year.
          if (rest.startsWith('_2006'))
            return { prefix: layout.slice(0, i + 1), std: 'longYear', suffix: rest.slice(5) }
          return at(i, 'underDay', 2)
        }
        if (rest.startsWith('__2')) return at(i, 'underYearDay', 3)
        break
      case '3':
        return at(i, 'hour12', 1)
      case '4':
        return at(i, 'minute', 1)
      case '5':
        return at(i, 'second', 1)
      case 'P':
        if (rest.startsWith('PM')) return at(i, 'PM', 2)
        break
      case 'p':
        if (rest.startsWith('pm')) return at(i, 'pm', 2)
        break
      case '-':
        for (const [text, std] of tzs) if (rest.startsWith(`-${text}`)) return at(i, std, text.length + 1)
        break
      case 'Z':
        for (const [text, std] of tzs) {
          if (rest.startsWith(`Z${text}`)) return at(i, std.replace('Num', 'ISO8601') as Std, text.length + 1)
        }
        break
      case '.':
      case ',':
        if (i + 1 < layout.length && (layout[i + 1] === '0' || layout[i + 1] === '9')) {
          const ch = layout[i + 1]
          let j = i + 1
          while (j < layout.length && layout[j] === ch) j++
          if (!isDigitAt(layout, j)) {
            return {
              prefix: layout.slice(0, i),
              std: ch === '0' ? 'fracSecond0' : 'fracSecond9',
              digits: j - (i + 1),
              suffix: layout.slice(j),
            }
          }
        }
        break
    }
  }
  return { prefix: layout, std: undefined, suffix: '' }
}

/**
 * A parse failure, with Go's message.
 *
 * @example
 * ```ts
 * const r = parseGoTime(GO_RFC3339, 'yesterday')
 * if ('error' in r) console.log(r.error)
 * ```
 */
export interface GoTimeError {
  readonly error: string
}

function getnum(s: string, fixed: boolean, width = 2): { n: number; rest: string } | undefined {
  if (!isDigitAt(s, 0)) return undefined
  let i = 1
  while (i < width && isDigitAt(s, i)) i++
  if (fixed && i < width) return undefined
  return { n: Number(s.slice(0, i)), rest: s.slice(i) }
}

function lookupName(table: readonly string[], s: string): { index: number; rest: string } | undefined {
  for (const [index, name] of table.entries()) {
    if (s.length >= name.length && s.slice(0, name.length).toLowerCase() === name.toLowerCase()) {
      return { index, rest: s.slice(name.length) }
    }
  }
  return undefined
}

function skip(value: string, prefix: string): string | undefined {
  let v = value
  let p = prefix
  while (p.length > 0) {
    if (p[0] === ' ') {
      if (v.length > 0 && v[0] !== ' ') return undefined
      p = p.replace(/^ +/, '')
      v = v.replace(/^ +/, '')
      continue
    }
    if (v.length === 0 || v[0] !== p[0]) return undefined
    p = p.slice(1)
    v = v.slice(1)
  }
  return v
}

function nanoseconds(value: string, width: number): number | undefined {
  // value[0] is '.' or ','; digits beyond nine are dropped.
  const digits = value.slice(1, Math.min(width, 10))
  if (!/^[0-9]+$/.test(digits)) return undefined
  return Number(digits) * 10 ** (9 - digits.length)
}

// time.parseSignedOffset: "+" or "-" and an hour up to 23, any number of digits.
function signedOffsetLength(value: string): number {
  const m = /^[+-]([0-9]+)/.exec(value)
  return m === null || Number(m[1]) > 23 ? 0 : m[0].length
}

// time.parseTimeZone: an abbreviation such as MST, ChST, WITA, GMT+3, or +07.
function timeZoneLength(value: string): number {
  if (value.length < 3) return 0
  if (value.startsWith('ChST') || value.startsWith('MeST')) return 4
  if (value.startsWith('GMT')) return value.length === 3 ? 3 : 3 + signedOffsetLength(value.slice(3))
  if (value[0] === '+' || value[0] === '-') return signedOffsetLength(value)
  let upper = 0
  while (upper < 6 && upper < value.length && value[upper]! >= 'A' && value[upper]! <= 'Z') upper++
  if (upper === 5 && value[4] === 'T') return 5
  if (upper === 4 && (value[3] === 'T' || value.startsWith('WITA'))) return 4
  if (upper === 3) return 3
  return 0
}

/**
 * Parse `value` with a Go reference-time layout, as `time.Parse(layout, value)` does with UTC as the local zone.
 *
 * @param layout - e.g. `GO_RFC3339`, `"Mon Jan 02 15:04:05 -0700 2006"`.
 * @returns The time, or `{ error }` with Go's message.
 * @example
 * ```ts
 * parseGoTime('2006-01-02', '2021-03-04') // { ns: 1614816000000000000n, offset: 0 }
 * ```
 */
export function parseGoTime(layout: string, value: string): GoTime | GoTimeError {
  const bad = (elem: string, rest: string, extra = '') => ({
    error: `parsing time ${JSON.stringify(value)} as ${JSON.stringify(layout)}: cannot parse ${JSON.stringify(rest)} as ${JSON.stringify(elem)}${extra}`,
  })
  const range = (what: string) => ({ error: `parsing time ${JSON.stringify(value)}: ${what} out of range` })
  let year = 0
  let month = -1
  let day = -1
  let yday = -1
  let hour = 0
  let minute = 0
  let second = 0
  let nsec = 0
  let utc = false
  let zoneOffset: number | undefined
  let zoneName = ''
  let am = false
  let pm = false
  let rest = value
  let l = layout
  for (;;) {
    const chunk = nextStdChunk(l)
    const elem = l.slice(chunk.prefix.length, l.length - chunk.suffix.length)
    const skipped = skip(rest, chunk.prefix)
    if (skipped === undefined) return bad(chunk.prefix, rest)
    rest = skipped
    if (chunk.std === undefined) {
      if (rest.length !== 0)
        return { error: `parsing time ${JSON.stringify(value)}: extra text: ${JSON.stringify(rest)}` }
      break
    }
    l = chunk.suffix
    const hold = rest
    let ok = true
    switch (chunk.std) {
      case 'year': {
        const m = /^[0-9]{2}/.exec(rest)
        if (m === null) ok = false
        else {
          year = Number(m[0]) + (Number(m[0]) >= 69 ? 1900 : 2000)
          rest = rest.slice(2)
        }
        break
      }
      case 'longYear': {
        const m = /^[0-9]{4}/.exec(rest)
        if (m === null) ok = false
        else {
          year = Number(m[0])
          rest = rest.slice(4)
        }
        break
      }
      case 'month':
      case 'longMonth': {
        const r = lookupName(chunk.std === 'month' ? SHORT_MONTHS : LONG_MONTHS, rest)
        if (r === undefined) ok = false
        else {
          month = r.index + 1
          rest = r.rest
        }
        break
      }
      case 'numMonth':
      case 'zeroMonth': {
        const r = getnum(rest, chunk.std === 'zeroMonth')
        if (r === undefined) ok = false
        else {
          month = r.n
          rest = r.rest
          if (month <= 0 || month > 12) return range('month')
        }
        break
      }
      case 'weekDay':
      case 'longWeekDay': {
        // Parsed only to be skipped: Go does not check the weekday against the date.
        const r = lookupName(chunk.std === 'weekDay' ? SHORT_DAYS : LONG_DAYS, rest)
        if (r === undefined) ok = false
        else rest = r.rest
        break
      }
      case 'day':
      case 'underDay':
      case 'zeroDay': {
        if (chunk.std === 'underDay' && rest[0] === ' ') rest = rest.slice(1)
        const r = getnum(rest, chunk.std === 'zeroDay')
        if (r === undefined) ok = false
        else {
          day = r.n
          rest = r.rest
        }
        break
      }
      case 'underYearDay':
      case 'zeroYearDay': {
        for (let i = 0; i < 2; i++) if (chunk.std === 'underYearDay' && rest[0] === ' ') rest = rest.slice(1)
        const r = getnum(rest, chunk.std === 'zeroYearDay', 3)
        if (r === undefined) ok = false
        else {
          yday = r.n
          rest = r.rest
        }
        break
      }
      case 'hour':
      case 'hour12':
      case 'zeroHour12': {
        const r = getnum(rest, chunk.std === 'zeroHour12')
        if (r === undefined) ok = false
        else {
          hour = r.n
          rest = r.rest
          if (chunk.std === 'hour' ? hour >= 24 : hour > 12) return range('hour')
        }
        break
      }
      case 'minute':
      case 'zeroMinute': {
        const r = getnum(rest, chunk.std === 'zeroMinute')
        if (r === undefined) ok = false
        else {
          minute = r.n
          rest = r.rest
          if (minute >= 60) return range('minute')
        }
        break
      }
      case 'second':
      case 'zeroSecond': {
        const r = getnum(rest, chunk.std === 'zeroSecond')
        if (r === undefined) {
          ok = false
          break
        }
        second = r.n
        rest = r.rest
        if (second >= 60) return range('second')
        // A fraction after the seconds is accepted even when the layout has none.
        if (rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigitAt(rest, 1)) {
          const next = nextStdChunk(l).std
          if (next === 'fracSecond0' || next === 'fracSecond9') break
          let n = 2
          while (isDigitAt(rest, n)) n++
          nsec = nanoseconds(rest, n) ?? 0
          rest = rest.slice(n)
        }
        break
      }
      case 'PM':
      case 'pm': {
        const p = rest.slice(0, 2)
        const [amText, pmText] = chunk.std === 'PM' ? ['AM', 'PM'] : ['am', 'pm']
        if (p === pmText) pm = true
        else if (p === amText) am = true
        else ok = false
        rest = rest.slice(2)
        break
      }
      case 'ISO8601TZ':
      case 'ISO8601SecondsTZ':
      case 'ISO8601ShortTZ':
      case 'ISO8601ColonTZ':
      case 'ISO8601ColonSecondsTZ':
      case 'NumTZ':
      case 'NumSecondsTz':
      case 'NumShortTZ':
      case 'NumColonTZ':
      case 'NumColonSecondsTZ': {
        if (chunk.std.startsWith('ISO') && rest[0] === 'Z') {
          rest = rest.slice(1)
          utc = true
          break
        }
        const kind = chunk.std.replace('ISO8601', 'Num')
        let parts: [string, string, string, string] | undefined
        if (kind === 'NumColonTZ') {
          if (rest.length >= 6 && rest[3] === ':') parts = [rest[0]!, rest.slice(1, 3), rest.slice(4, 6), '00']
          rest = rest.slice(6)
        } else if (kind === 'NumShortTZ') {
          if (rest.length >= 3) parts = [rest[0]!, rest.slice(1, 3), '00', '00']
          rest = rest.slice(3)
        } else if (kind === 'NumColonSecondsTZ') {
          if (rest.length >= 9 && rest[3] === ':' && rest[6] === ':') {
            parts = [rest[0]!, rest.slice(1, 3), rest.slice(4, 6), rest.slice(7, 9)]
          }
          rest = rest.slice(9)
        } else if (kind === 'NumSecondsTz') {
          if (rest.length >= 7) parts = [rest[0]!, rest.slice(1, 3), rest.slice(3, 5), rest.slice(5, 7)]
          rest = rest.slice(7)
        } else {
          if (rest.length >= 5) parts = [rest[0]!, rest.slice(1, 3), rest.slice(3, 5), '00']
          rest = rest.slice(5)
        }
        const [sign, hh, mm, ss] = parts ?? ['', '', '', '']
        if (parts === undefined || !/^[0-9]{2}$/.test(hh) || !/^[0-9]{2}$/.test(mm) || !/^[0-9]{2}$/.test(ss)) {
          ok = false
          break
        }
        if (Number(hh) > 24) return range('time zone offset hour')
        if (Number(mm) > 60) return range('time zone offset minute')
        if (Number(ss) > 60) return range('time zone offset second')
        const offset = (Number(hh) * 60 + Number(mm)) * 60 + Number(ss)
        if (sign === '+') zoneOffset = offset
        else if (sign === '-') zoneOffset = -offset
        else ok = false
        break
      }
      case 'TZ': {
        if (rest.startsWith('UTC')) {
          utc = true
          rest = rest.slice(3)
          break
        }
        const n = timeZoneLength(rest)
        if (n === 0) ok = false
        else {
          zoneName = rest.slice(0, n)
          rest = rest.slice(n)
        }
        break
      }
      case 'fracSecond0': {
        const width = 1 + (chunk.digits ?? 0)
        const ns = rest.length >= width && (rest[0] === '.' || rest[0] === ',') ? nanoseconds(rest, width) : undefined
        if (ns === undefined) ok = false
        else {
          nsec = ns
          rest = rest.slice(width)
        }
        break
      }
      case 'fracSecond9': {
        if (rest.length < 2 || !(rest[0] === '.' || rest[0] === ',') || !isDigitAt(rest, 1)) break
        let i = 0
        while (isDigitAt(rest, i + 1)) i++
        nsec = nanoseconds(rest, 1 + i) ?? 0
        rest = rest.slice(1 + i)
        break
      }
    }
    if (!ok) return bad(elem, hold)
  }
  if (pm && hour < 12) hour += 12
  else if (am && hour === 12) hour = 0
  if (yday >= 0) {
    let d = 0
    let m = 0
    let y = yday
    if (goIsLeap(year)) {
      if (y === 31 + 29) {
        m = 2
        d = 29
      } else if (y > 31 + 29) y--
    }
    if (y < 1 || y > 365) return { error: `parsing time ${JSON.stringify(value)}: day-of-year out of range` }
    if (m === 0) {
      m = Math.floor((y - 1) / 31) + 1
      if (GO_DAYS_BEFORE[m]! < y) m++
      d = y - GO_DAYS_BEFORE[m - 1]!
    }
    if (month >= 0 && month !== m)
      return { error: `parsing time ${JSON.stringify(value)}: day-of-year does not match month` }
    if (day >= 0 && day !== d) return { error: `parsing time ${JSON.stringify(value)}: day-of-year does not match day` }
    month = m
    day = d
  } else {
    if (month < 0) month = 1
    if (day < 0) day = 1
  }
  if (day < 1 || day > goDaysIn(month, year))
    return { error: `parsing time ${JSON.stringify(value)}: day out of range` }
  const wall = BigInt(goDaysFromCivil(year, month, day)) * 86400n + BigInt(hour * 3600 + minute * 60 + second)
  const ns = (seconds: bigint) => seconds * 1_000_000_000n + BigInt(nsec)
  if (utc) return { ns: ns(wall), offset: 0 }
  if (zoneOffset !== undefined) return { ns: ns(wall - BigInt(zoneOffset)), offset: zoneOffset }
  if (zoneName !== '') {
    // An abbreviation the (UTC) local zone does not know: Go keeps the wall clock as UTC and labels it with a
    // made-up zone of offset 0, or of ±n hours for GMT±n (without moving the instant).
    const gmt = /^GMT([+-][0-9]+)$/.exec(zoneName)
    return { ns: ns(wall), offset: gmt ? Number(gmt[1]) * 3600 : 0 }
  }
  return { ns: ns(wall), offset: 0 }
}
