/**
 * Just enough of protojson (protobuf-go `encoding/protojson`) to normalise a predicate the way cosign does when it
 * reads a typed predicate file into a proto message and writes it back: unknown fields dropped, both JSON and proto
 * field names accepted, proto3 defaults left out, timestamps rewritten in UTC. Not exported from the package.
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromBase64, toBase64 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'

/** How one proto field is read. */
export type ProtoKind =
  | 'string'
  | 'bool'
  | 'bytes'
  | 'timestamp'
  | 'struct'
  | 'stringMap'
  | { readonly message: ProtoSchema }
  | { readonly repeated: ProtoSchema }

/** One field: its proto name (snake_case), its JSON name (lowerCamel) and kind. */
export interface ProtoField {
  readonly proto: string
  readonly kind: ProtoKind
}

/** A message: its fields. */
export type ProtoSchema = readonly ProtoField[]

/** protobuf's JSON name for a snake_case proto field name. */
function jsonName(proto: string): string {
  return proto.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

function fail(path: string, reason: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `${path}: ${reason}`)
}

/**
 * Read `value` as the message `schema` and write it back as protojson would: the result has JSON field names and
 * omits unset fields and proto3 defaults. Key order is irrelevant (cosign turns it into a sorted Struct).
 */
export function normalizeProtoMessage(value: unknown, schema: ProtoSchema, path: string): Record<string, unknown> {
  if (!isJSONObject(value)) fail(path, 'expected a JSON object')
  const out: Record<string, unknown> = {}
  const seen = new Set<string>()
  for (const field of schema) {
    const name = jsonName(field.proto)
    const hasJSON = Object.hasOwn(value, name)
    const hasProto = field.proto !== name && Object.hasOwn(value, field.proto)
    if (hasJSON && hasProto) fail(path, `duplicate field ${name}`)
    if (!hasJSON && !hasProto) continue
    seen.add(name)
    const v = value[hasJSON ? name : field.proto]
    // protojson treats null as "not set" for every field kind used here.
    if (v === null) continue
    const normalized = normalizeField(v, field.kind, `${path}.${name}`)
    if (normalized !== undefined) out[name] = normalized
  }
  return out
}

function normalizeField(v: unknown, kind: ProtoKind, path: string): unknown {
  switch (kind) {
    case 'string':
      if (typeof v !== 'string') fail(path, 'expected a string')
      return v === '' ? undefined : v
    case 'bool':
      if (typeof v !== 'boolean') fail(path, 'expected a boolean')
      return v ? true : undefined
    case 'bytes': {
      if (typeof v !== 'string') fail(path, 'expected base64 bytes')
      let bytes: Uint8Array
      try {
        bytes = fromBase64(v)
      } catch {
        fail(path, 'invalid base64')
      }
      return bytes.length === 0 ? undefined : toBase64(bytes)
    }
    case 'timestamp': {
      if (typeof v !== 'string') fail(path, 'expected an RFC 3339 timestamp string')
      const t = parseRFC3339(v)
      if (!t) fail(path, `invalid google.protobuf.Timestamp value ${JSON.stringify(v)}`)
      const secs = Math.floor(t.utcMillis / 1000)
      // google.protobuf.Timestamp covers 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
      if (secs < -62135596800 || secs > 253402300799) fail(path, `timestamp out of range: ${v}`)
      return formatProtoTimestamp(t)
    }
    case 'struct':
      if (!isJSONObject(v)) fail(path, 'expected a JSON object')
      return v
    case 'stringMap': {
      if (!isJSONObject(v)) fail(path, 'expected a JSON object of strings')
      for (const [k, x] of Object.entries(v)) if (typeof x !== 'string') fail(`${path}.${k}`, 'expected a string')
      return Object.keys(v).length === 0 ? undefined : v
    }
  }
  if ('message' in kind) return normalizeProtoMessage(v, kind.message, path)
  if (!Array.isArray(v)) fail(path, 'expected a JSON array')
  const items = v.map((x, i) => normalizeProtoMessage(x, kind.repeated, `${path}[${i}]`))
  return items.length === 0 ? undefined : items
}

/** An RFC 3339 time: the instant, its nanoseconds within the second, and the written UTC offset in minutes. */
export interface ParsedTime {
  readonly utcMillis: number
  readonly nanos: number
  readonly offsetMinutes: number
  /** The wall-clock fields as written (before applying the offset). */
  readonly local: {
    readonly year: number
    readonly month: number
    readonly day: number
    readonly hour: number
    readonly minute: number
    readonly second: number
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/

/** Parse Go's `time.RFC3339Nano` (what both protojson and Go's `time.Time` accept); `undefined` if invalid. */
export function parseRFC3339(s: string): ParsedTime | undefined {
  const m = RFC3339.exec(s)
  if (!m) return undefined
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ]
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate()
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  if (day < 1 || day > (month === 2 ? (leap ? 29 : 28) : daysInMonth)) return undefined
  const zone = m[8]!
  const offsetMinutes =
    zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
  if (zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(4, 6)) > 59)) return undefined
  const d = new Date(0)
  d.setUTCFullYear(year, month - 1, day)
  d.setUTCHours(hour, minute, second, 0)
  return {
    utcMillis: d.getTime() - offsetMinutes * 60_000,
    nanos: Number((m[7] ?? '').padEnd(9, '0')),
    offsetMinutes,
    local: { year, month, day, hour, minute, second },
  }
}

const pad = (n: number, w: number) => String(n).padStart(w, '0')

/** protojson's Timestamp form: UTC, `Z`, and 0, 3, 6 or 9 fractional digits. */
export function formatProtoTimestamp(t: ParsedTime): string {
  const d = new Date(Math.floor(t.utcMillis / 1000) * 1000)
  let frac = ''
  if (t.nanos !== 0) {
    frac = pad(t.nanos, 9)
    while (frac.endsWith('000')) frac = frac.slice(0, -3)
    frac = `.${frac}`
  }
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(
    d.getUTCHours(),
    2,
  )}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}${frac}Z`
}

/** Go's `time.Time` JSON form (RFC 3339 with nanoseconds, trailing zeros trimmed, the offset as written). */
export function formatGoTime(t: ParsedTime): string {
  const l = t.local
  const frac = t.nanos === 0 ? '' : `.${pad(t.nanos, 9).replace(/0+$/, '')}`
  const off = Math.abs(t.offsetMinutes)
  const zone =
    t.offsetMinutes === 0
      ? 'Z'
      : `${t.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(off / 60), 2)}:${pad(off % 60, 2)}`
  return `${pad(l.year, 4)}-${pad(l.month, 2)}-${pad(l.day, 2)}T${pad(l.hour, 2)}:${pad(l.minute, 2)}:${pad(
    l.second,
    2,
  )}${frac}${zone}`
}
