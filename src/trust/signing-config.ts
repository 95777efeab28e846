/**
 * Sigstore signing configuration (`signing_config.json`, protobuf-specs `SigningConfig` v0.2): which Fulcio, OIDC
 * provider, Rekor logs and timestamp authorities a signer should use, and the selection rules sigstore-go applies
 * (`pkg/root/signing_config.go`): only services valid now, the highest API version the client supports, newest
 * validity start first, at most one service per operator, then the configured selector (ALL, ANY, EXACT count).
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import { fromUtf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { SIGNING_CONFIG_MEDIA_TYPE_V02 } from '../oci/media-types.js'
import type { ValidityPeriod } from './trusted-root.js'

/** Largest signing config read from bytes or text; real ones are a few kilobytes (docs/formats.md §Input limits). */
const MAX_BYTES = 4 * 1024 * 1024

/**
 * One service endpoint of a signing config.
 *
 * Exported from `countersign/trust`.
 */
export interface SigningService {
  /** Base URL (Fulcio, Rekor, OIDC issuer) or full URL (TSA). */
  readonly url: string
  readonly majorApiVersion: number
  readonly validFor: ValidityPeriod
  readonly operator: string
}

/**
 * How many services of a list to use: `ALL`, `ANY` (one, at random) or `EXACT` (`count`, at random).
 *
 * Exported from `countersign/trust`.
 */
export interface ServiceSelection {
  readonly selector: 'ALL' | 'ANY' | 'EXACT'
  readonly count?: number
}

/**
 * A parsed signing config.
 *
 * Exported from `countersign/trust`.
 */
export interface SigningConfig {
  readonly mediaType: string
  readonly caUrls: readonly SigningService[]
  readonly oidcUrls: readonly SigningService[]
  readonly rekorTlogUrls: readonly SigningService[]
  readonly rekorTlogConfig: ServiceSelection
  readonly tsaUrls: readonly SigningService[]
  readonly tsaConfig: ServiceSelection
}

function invalid(reason: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `signing config: ${reason}`)
}

function parseTime(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') invalid(`${field} is not an RFC 3339 time`)
  const d = new Date(value)
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(d.getTime())) invalid(`${field} is not an RFC 3339 time`)
  return d
}

function parseService(value: unknown, field: string): SigningService {
  if (!isJSONObject(value)) invalid(`${field} is not an object`)
  const { url, majorApiVersion, validFor, operator } = value
  if (typeof url !== 'string') invalid(`${field}.url is missing`)
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    invalid(`${field}.url is not a URL`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') invalid(`${field}.url is not an http(s) URL`)
  if (typeof majorApiVersion !== 'number' || !Number.isInteger(majorApiVersion) || majorApiVersion < 0) {
    invalid(`${field}.majorApiVersion is not a non-negative integer`)
  }
  if (!isJSONObject(validFor)) invalid(`${field}.validFor is missing`)
  // A service without a start would be valid since the epoch; sigstore-go treats a zero start that way, but a config
  // that omits it is malformed under the spec (start is required), so refuse it like a trusted root would be.
  const start = parseTime(validFor.start, `${field}.validFor.start`)
  if (start === undefined) invalid(`${field}.validFor.start is missing`)
  const end = parseTime(validFor.end, `${field}.validFor.end`)
  if (operator !== undefined && typeof operator !== 'string') invalid(`${field}.operator is not a string`)
  return Object.freeze({
    url: url.replace(/\/+$/, ''),
    majorApiVersion,
    validFor: Object.freeze(end ? { start, end } : { start }),
    operator: operator ?? '',
  })
}

function parseServices(value: unknown, field: string): readonly SigningService[] {
  if (value === undefined || value === null) return Object.freeze([])
  if (!Array.isArray(value)) invalid(`${field} is not a list`)
  if (value.length > 64) invalid(`${field} lists too many services`)
  return Object.freeze(value.map((v, i) => parseService(v, `${field}[${i}]`)))
}

function parseSelection(value: unknown, field: string): ServiceSelection {
  if (value === undefined || value === null) return { selector: 'ANY' }
  if (!isJSONObject(value)) invalid(`${field} is not an object`)
  const { selector, count } = value
  if (selector !== 'ALL' && selector !== 'ANY' && selector !== 'EXACT')
    invalid(`${field}.selector is not ALL, ANY or EXACT`)
  if (selector === 'EXACT') {
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) invalid(`${field}.count must be at least 1`)
    return { selector, count }
  }
  return { selector }
}

/**
 * Parse a `signing_config.json` (v0.2 media type).
 *
 * @param input - JSON bytes, text or a parsed object.
 * @returns The frozen config.
 * @throws {CountersignError} ERR_INVALID_INPUT for malformed JSON, another media type, or a malformed service.
 * @example
 * ```ts
 * import { parseSigningConfig } from 'countersign/trust'
 * const config = parseSigningConfig(await readFile('signing_config.json'))
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function parseSigningConfig(input: Uint8Array | string | unknown): SigningConfig {
  let value: unknown = input
  const limits = { code: 'ERR_INVALID_INPUT', what: 'signing config', maxDepth: MAX_JSON_DEPTH } as const
  if (input instanceof Uint8Array || typeof input === 'string')
    assertJSONText(input, { ...limits, maxBytes: MAX_BYTES })
  if (input instanceof Uint8Array) value = fromUtf8(input, 'signing config')
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', 'signing config is not valid JSON', { cause })
    }
  }
  assertJSONShape(value, limits)
  if (!isJSONObject(value)) invalid('must be a JSON object')
  if (value.mediaType !== SIGNING_CONFIG_MEDIA_TYPE_V02) {
    invalid(`unsupported media type ${quoteClipped(value.mediaType ?? null)}`)
  }
  return Object.freeze({
    mediaType: SIGNING_CONFIG_MEDIA_TYPE_V02,
    caUrls: parseServices(value.caUrls, 'caUrls'),
    oidcUrls: parseServices(value.oidcUrls, 'oidcUrls'),
    rekorTlogUrls: parseServices(value.rekorTlogUrls, 'rekorTlogUrls'),
    rekorTlogConfig: parseSelection(value.rekorTlogConfig, 'rekorTlogConfig'),
    tsaUrls: parseServices(value.tsaUrls, 'tsaUrls'),
    tsaConfig: parseSelection(value.tsaConfig, 'tsaConfig'),
  })
}

function validAt(s: SigningService, now: Date): boolean {
  const t = now.getTime()
  return t >= s.validFor.start.getTime() && (s.validFor.end === undefined || t <= s.validFor.end.getTime())
}

/** Services of the highest supported API version valid at `now`, newest start first. */
function candidates(
  services: readonly SigningService[],
  supportedVersions: readonly number[],
  now: Date,
): SigningService[] {
  const byNewest = [...services].sort((a, b) => b.validFor.start.getTime() - a.validFor.start.getTime())
  for (const version of [...supportedVersions].sort((a, b) => b - a)) {
    const found = byNewest.filter((s) => s.majorApiVersion === version && validAt(s, now))
    if (found.length > 0) return found
  }
  return []
}

/**
 * The one service to use from a list (Fulcio, OIDC): the newest valid one of the highest supported API version.
 *
 * @param services - e.g. `config.caUrls`.
 * @param supportedVersions - API versions this client speaks (e.g. `[1]` for Fulcio).
 * @param now - The current time.
 * @returns The service.
 * @throws {CountersignError} ERR_INVALID_INPUT when none matches.
 * @example
 * ```ts
 * import { selectSigningService } from 'countersign/trust'
 * const fulcio = selectSigningService(config.caUrls, [1], new Date())
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function selectSigningService(
  services: readonly SigningService[],
  supportedVersions: readonly number[],
  now: Date,
): SigningService {
  const [first] = candidates(services, supportedVersions, now)
  if (first === undefined) {
    invalid(`no service of API version ${supportedVersions.join(' or ')} is valid at ${now.toISOString()}`)
  }
  return first
}

/**
 * The services to use from a list with a selector (Rekor logs, TSAs), as sigstore-go's `SelectServices`: the
 * highest supported API version with any valid service, at most one per operator (the newest), then ALL, ANY (one at
 * random) or EXACT (`count` at random).
 *
 * @param services - e.g. `config.rekorTlogUrls`.
 * @param selection - e.g. `config.rekorTlogConfig`.
 * @param supportedVersions - API versions this client speaks (`[1, 2]` for Rekor).
 * @param now - The current time.
 * @param random - Random source in [0, 1) (tests pass a fixed one).
 * @returns The chosen services; empty when the list is empty.
 * @throws {CountersignError} ERR_INVALID_INPUT when services exist but none is usable, or EXACT asks for more.
 * @example
 * ```ts
 * import { selectSigningServices } from 'countersign/trust'
 * const logs = selectSigningServices(config.rekorTlogUrls, config.rekorTlogConfig, [1, 2], new Date())
 * ```
 *
 * Exported from `countersign/trust`.
 */
export function selectSigningServices(
  services: readonly SigningService[],
  selection: ServiceSelection,
  supportedVersions: readonly number[],
  now: Date,
  random: () => number = Math.random,
): SigningService[] {
  if (services.length === 0) return []
  const operators = new Set<string>()
  const distinct = candidates(services, supportedVersions, now).filter((s) => {
    if (operators.has(s.operator)) return false
    operators.add(s.operator)
    return true
  })
  if (distinct.length === 0) {
    invalid(`no service of API version ${supportedVersions.join(' or ')} is valid at ${now.toISOString()}`)
  }
  if (selection.selector === 'ALL') return distinct
  const count = selection.selector === 'ANY' ? 1 : (selection.count ?? 0)
  if (count > distinct.length) invalid(`EXACT selector asks for ${count} services, only ${distinct.length} usable`)
  const pool = [...distinct]
  const chosen: SigningService[] = []
  for (let i = 0; i < count; i++) {
    const at = Math.min(pool.length - 1, Math.floor(random() * pool.length))
    chosen.push(pool.splice(at, 1)[0]!)
  }
  return chosen
}
