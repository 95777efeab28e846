/**
 * The Go JSON shapes cosign prints or stores for legacy signature material: `bundle.RekorBundle`,
 * `bundle.RFC3161Timestamp`, DSSE envelopes as go-securesystemslib marshals them, and splitting a stream of JSON
 * values as Go's `json.Decoder` reads it. Never exported.
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromBase64, toBase64 } from '../internal/bytes.js'
import { goMarshal, goObject, type OrderedObject } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'

/** A field of a Go struct, matched case-insensitively as encoding/json does when decoding. */
function field(o: Record<string, unknown>, name: string): unknown {
  if (name in o) return o[name]
  const lower = name.toLowerCase()
  for (const [k, v] of Object.entries(o)) if (k.toLowerCase() === lower) return v
  return undefined
}

function int64(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v !== 'number' || !Number.isSafeInteger(v))
    throw new CountersignError('ERR_INVALID_INPUT', `${what} must be an integer`)
  return v
}

/**
 * `bundle.RekorBundle` as Go re-marshals it after decoding: `{"SignedEntryTimestamp":"<b64>","Payload":{"body":…,
 * "integratedTime":n,"logIndex":n,"logID":"…"}}`.
 */
export function rekorBundleValue(v: unknown): OrderedObject {
  if (!isJSONObject(v)) throw new CountersignError('ERR_INVALID_INPUT', 'rekor bundle must be a JSON object')
  const setField = field(v, 'SignedEntryTimestamp')
  let set = ''
  if (setField !== undefined && setField !== null) {
    if (typeof setField !== 'string')
      throw new CountersignError('ERR_INVALID_INPUT', 'SignedEntryTimestamp must be base64')
    set = toBase64(fromBase64(setField))
  }
  const p = field(v, 'Payload')
  const payload = isJSONObject(p) ? p : {}
  const logID = field(payload, 'logID')
  return goObject([
    ['SignedEntryTimestamp', set],
    [
      'Payload',
      goObject([
        ['body', field(payload, 'body') ?? null],
        ['integratedTime', int64(field(payload, 'integratedTime'), 'integratedTime')],
        ['logIndex', int64(field(payload, 'logIndex'), 'logIndex')],
        ['logID', typeof logID === 'string' ? logID : ''],
      ]),
    ],
  ])
}

/** The `dev.sigstore.cosign/rfc3161timestamp` value for a timestamp response: `{"SignedRFC3161Timestamp":"<b64>"}`. */
export function rfc3161TimestampValue(tsr: Uint8Array): OrderedObject {
  return goObject([['SignedRFC3161Timestamp', toBase64(tsr)]])
}

/** Re-read an `rfc3161timestamp` annotation as Go decodes and re-encodes it. */
export function rfc3161TimestampFromAnnotation(text: string): OrderedObject {
  const v = JSON.parse(text) as unknown
  if (!isJSONObject(v))
    throw new CountersignError('ERR_INVALID_INPUT', 'RFC 3161 timestamp annotation is not an object')
  const ts = field(v, 'SignedRFC3161Timestamp')
  if (ts !== undefined && ts !== null && typeof ts !== 'string') {
    throw new CountersignError('ERR_INVALID_INPUT', 'SignedRFC3161Timestamp must be base64')
  }
  return goObject([['SignedRFC3161Timestamp', typeof ts === 'string' ? toBase64(fromBase64(ts)) : null]])
}

/** A DSSE envelope as go-securesystemslib's `dsse.Envelope` marshals it (keyid always present), from its raw JSON. */
export function ssslEnvelopeJSON(raw: Record<string, unknown>): string {
  const str = (x: unknown) => (typeof x === 'string' ? x : '')
  const sigs = Array.isArray(field(raw, 'signatures')) ? (field(raw, 'signatures') as unknown[]) : []
  return goMarshal(
    goObject([
      ['payloadType', str(field(raw, 'payloadType'))],
      ['payload', str(field(raw, 'payload'))],
      [
        'signatures',
        sigs.map((s) => {
          const o = isJSONObject(s) ? s : {}
          return goObject([
            ['keyid', str(field(o, 'keyid'))],
            ['sig', str(field(o, 'sig'))],
          ])
        }),
      ],
    ]),
  )
}

/**
 * Split text holding one or more JSON objects, separated by whitespace (what Go's `json.Decoder` loop over
 * `More()` reads), into the parsed objects.
 */
export function parseJSONObjectStream(text: string, what: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  let i = 0
  const n = text.length
  while (i < n) {
    while (i < n && /\s/.test(text[i]!)) i++
    if (i >= n) break
    if (text[i] !== '{')
      throw new CountersignError('ERR_INVALID_INPUT', `${what}: expected a JSON object at offset ${i}`)
    let depth = 0
    let inString = false
    let j = i
    for (; j < n; j++) {
      const c = text[j]!
      if (inString) {
        if (c === '\\') j++
        else if (c === '"') inString = false
      } else if (c === '"') inString = true
      else if (c === '{' || c === '[') depth++
      else if (c === '}' || c === ']') {
        depth--
        if (depth === 0) break
      }
    }
    if (depth !== 0 || j >= n) throw new CountersignError('ERR_INVALID_INPUT', `${what}: truncated JSON`)
    let value: unknown
    try {
      value = JSON.parse(text.slice(i, j + 1))
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', `${what}: invalid JSON`, { cause })
    }
    out.push(value as Record<string, unknown>)
    i = j + 1
  }
  if (out.length === 0) throw new CountersignError('ERR_INVALID_INPUT', `${what}: no JSON object found`)
  return out
}

/**
 * Re-encode parsed JSON keeping object key order (protojson order for bundles) with Go's HTML-safe escaping:
 * what `json.Marshal` prints for a value whose `MarshalJSON` returned that JSON.
 */
export function compactGoJSON(value: unknown): string {
  const ordered = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(ordered)
    if (isJSONObject(v)) return goObject(Object.entries(v).map(([k, x]) => [k, ordered(x)] as const))
    return v
  }
  return goMarshal(ordered(value))
}
