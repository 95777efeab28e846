/**
 * The cosign vulnerability-scan predicate (`--type vuln`, cosign `specs/COSIGN_VULN_ATTESTATION_SPEC.md`), read the
 * way cosign's Go struct reads it.
 * @module
 */
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import { formatGoTime, parseRFC3339 } from './proto-json.js'

/** predicateType of the cosign vulnerability predicate. Exported from `countersign/attestation`. */
export const COSIGN_VULN_PREDICATE_TYPE = 'https://cosign.sigstore.dev/attestation/vuln/v1'

/**
 * The cosign vulnerability-scan predicate. Times are RFC 3339 strings or `Date`s.
 *
 * Exported from `countersign/attestation`.
 */
export interface CosignVulnPredicate {
  readonly invocation?: {
    readonly parameters?: unknown
    readonly uri?: string
    readonly event_id?: string
    readonly 'builder.id'?: string
  }
  readonly scanner?: {
    readonly uri?: string
    readonly version?: string
    readonly db?: { readonly uri?: string; readonly version?: string }
    readonly result?: unknown
  }
  readonly metadata?: { readonly scanStartedOn?: string | Date; readonly scanFinishedOn?: string | Date }
}

type GoField = readonly [name: string, kind: 'string' | 'any' | 'time' | readonly GoField[]]

const VULN: readonly GoField[] = [
  [
    'invocation',
    [
      ['parameters', 'any'],
      ['uri', 'string'],
      ['event_id', 'string'],
      ['builder.id', 'string'],
    ],
  ],
  [
    'scanner',
    [
      ['uri', 'string'],
      ['version', 'string'],
      [
        'db',
        [
          ['uri', 'string'],
          ['version', 'string'],
        ],
      ],
      ['result', 'any'],
    ],
  ],
  [
    'metadata',
    [
      ['scanStartedOn', 'time'],
      ['scanFinishedOn', 'time'],
    ],
  ],
]

const GO_ZERO_TIME = '0001-01-01T00:00:00Z'

function fail(path: string, reason: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `${path}: ${reason}`)
}

/**
 * Go's `json.Unmarshal` into a struct then `json.Marshal`: unknown keys dropped, keys matched case-insensitively
 * (an exact match wins), every field written (strings `""`, times Go's zero time, `any` fields `null`).
 */
function goStruct(value: unknown, fields: readonly GoField[], path: string): Record<string, unknown> {
  const input = value === null || value === undefined ? {} : value
  if (!isJSONObject(input)) fail(path, 'expected a JSON object')
  const set = new Map<string, unknown>()
  for (const [key, v] of Object.entries(input)) {
    const field =
      fields.find(([name]) => name === key) ?? fields.find(([name]) => name.toLowerCase() === key.toLowerCase())
    if (field) set.set(field[0], v)
  }
  const out: Record<string, unknown> = {}
  for (const [name, kind] of fields) {
    const v = set.get(name)
    const p = `${path}.${name}`
    if (kind === 'any') out[name] = v ?? null
    else if (kind === 'string') {
      if (v !== undefined && v !== null && typeof v !== 'string') fail(p, 'expected a string')
      out[name] = v ?? ''
    } else if (kind === 'time') {
      if (v === undefined || v === null) out[name] = GO_ZERO_TIME
      else {
        const t = typeof v === 'string' ? parseRFC3339(v) : undefined
        if (!t) fail(p, 'expected an RFC 3339 time')
        out[name] = formatGoTime(t)
      }
    } else out[name] = goStruct(v, kind, p)
  }
  return out
}

/**
 * Normalise a cosign vulnerability predicate as `cosign attest --type vuln` does (Go struct round trip: unknown keys
 * dropped, every field present, times in Go's RFC 3339 form keeping their offset).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a non-object or a field of the wrong type.
 * @example
 * ```ts
 * import { normalizeCosignVulnPredicate } from 'countersign/attestation'
 * normalizeCosignVulnPredicate({ scanner: { uri: 'pkg:github/aquasecurity/trivy', version: '0.50.0' } })
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function normalizeCosignVulnPredicate(predicate: unknown): Record<string, unknown> {
  return goStruct(predicate, VULN, 'vuln predicate')
}

/**
 * Build a cosign vulnerability predicate from typed fields (see {@link normalizeCosignVulnPredicate}); pass it as
 * `predicate` to `attestImage` with `predicateType: 'vuln'`.
 *
 * @example
 * ```ts
 * import { createCosignVulnPredicate } from 'countersign/attestation'
 * const predicate = createCosignVulnPredicate({
 *   scanner: { uri: 'pkg:github/aquasecurity/trivy', version: '0.50.0', result: { Results: [] } },
 *   metadata: { scanStartedOn: new Date(), scanFinishedOn: new Date() },
 * })
 * ```
 *
 * Exported from `countersign/attestation`.
 */
export function createCosignVulnPredicate(predicate: CosignVulnPredicate): Record<string, unknown> {
  const iso = (t: string | Date | undefined) => (t instanceof Date ? t.toISOString() : t)
  const md = predicate.metadata
  const doc = md
    ? { ...predicate, metadata: { scanStartedOn: iso(md.scanStartedOn), scanFinishedOn: iso(md.scanFinishedOn) } }
    : predicate
  return normalizeCosignVulnPredicate(JSON.parse(JSON.stringify(doc)))
}
