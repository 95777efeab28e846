/**
 * Kyverno's time functions (`pkg/engine/jmespath/time.go`). Times are RFC 3339 strings (parsed by Go's
 * `time.Parse(time.RFC3339, …)`, which also takes fractional seconds and one-digit hours) unless a Go layout is
 * given (`time_since`, `time_parse`); results are RFC 3339 with seconds precision in the time's own offset, and
 * durations are Go duration strings (`"180h10m0s"`). The clock (`time_now`, `time_since` with an empty end) is the
 * `now` the caller passes, never read here. Kyverno's local zone is taken to be UTC, as it is in its container.
 * @module
 */
import { formatGoDuration, INT64_MAX, INT64_MIN, parseGoDuration } from './duration.js'
import { evaluationError } from './jmespath-errors.js'
import type { JMESPathFunction } from './jmespath-functions.js'
import {
  formatGoRFC3339,
  GO_RFC3339,
  type GoTime,
  goTimeFields,
  goTimeFromDate,
  truncateGoTime,
} from './jmespath-go-time.js'
import { parseGoTime } from './jmespath-go-time-layout.js'

function parse(layout: string, value: string): GoTime {
  const t = parseGoTime(layout === '' ? GO_RFC3339 : layout, value)
  if ('error' in t) throw evaluationError(t.error)
  return t
}

const rfc3339 = (v: unknown) => parse(GO_RFC3339, v as string)

function duration(v: unknown): bigint {
  const d = parseGoDuration(v as string)
  if (d === undefined) throw evaluationError(`time: invalid duration ${JSON.stringify(v)}`)
  return d
}

/** Go's `Time.Sub`: the difference, saturated at the int64 duration bounds. */
function sub(t: GoTime, u: GoTime): string {
  const d = t.ns - u.ns
  if (d > INT64_MAX) return formatGoDuration(INT64_MAX)
  if (d < INT64_MIN) return formatGoDuration(INT64_MIN)
  return formatGoDuration(d)
}

/**
 * Kyverno's time functions.
 *
 * @example
 * ```ts
 * TIME_FUNCTIONS.time_diff.call(['2021-01-02T15:04:05-07:00', '2021-01-10T03:14:05-07:00'], context) // '180h10m0s'
 * ```
 */
export const TIME_FUNCTIONS: Readonly<Record<string, JMESPathFunction>> = {
  time_since: {
    args: [['string'], ['string'], ['string']],
    call: ([layout, start, end], context) => {
      const t1 = parse(layout as string, start as string)
      const t2 = end === '' ? goTimeFromDate(context.now) : parse(layout as string, end as string)
      return sub(t2, t1)
    },
  },
  // No signature: go-jmespath then accepts any arguments, as Kyverno's entries without one do.
  time_now: { call: (_args, context) => formatGoRFC3339(goTimeFromDate(context.now)) },
  time_now_utc: { call: (_args, context) => formatGoRFC3339(goTimeFromDate(context.now)) },
  time_to_cron: {
    args: [['string']],
    call: ([t]) => {
      const f = goTimeFields(rfc3339(t))
      return `${f.minute} ${f.hour} ${f.day} ${f.month} ${f.weekday}`
    },
  },
  time_add: {
    args: [['string'], ['string']],
    call: ([t, d]) => {
      const time = rfc3339(t)
      return formatGoRFC3339({ ns: time.ns + duration(d), offset: time.offset })
    },
  },
  time_parse: {
    args: [['string'], ['string']],
    call: ([layout, value]) => {
      // A layout that is an integer means "value is Unix seconds".
      if (
        /^[+-]?[0-9]+$/.test(layout as string) &&
        BigInt(layout as string) >= INT64_MIN &&
        BigInt(layout as string) <= INT64_MAX
      ) {
        if (!/^[+-]?[0-9]+$/.test(value as string)) {
          throw evaluationError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`)
        }
        const seconds = BigInt(value as string)
        if (seconds < INT64_MIN || seconds > INT64_MAX) {
          throw evaluationError(`strconv.ParseInt: parsing ${JSON.stringify(value)}: value out of range`)
        }
        return formatGoRFC3339({ ns: seconds * 1_000_000_000n, offset: 0 })
      }
      return formatGoRFC3339(parse(layout as string, value as string))
    },
  },
  time_utc: { args: [['string']], call: ([t]) => formatGoRFC3339({ ns: rfc3339(t).ns, offset: 0 }) },
  time_diff: { args: [['string'], ['string']], call: ([a, b]) => sub(rfc3339(b), rfc3339(a)) },
  time_before: { args: [['string'], ['string']], call: ([a, b]) => rfc3339(a).ns < rfc3339(b).ns },
  time_after: { args: [['string'], ['string']], call: ([a, b]) => rfc3339(a).ns > rfc3339(b).ns },
  time_between: {
    args: [['string'], ['string'], ['string']],
    call: ([t, start, end]) => {
      const x = rfc3339(t).ns
      return x > rfc3339(start).ns && x < rfc3339(end).ns
    },
  },
  time_truncate: {
    args: [['string'], ['string']],
    call: ([t, d]) => formatGoRFC3339(truncateGoTime(rfc3339(t), duration(d))),
  },
}
