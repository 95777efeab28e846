/**
 * OPA Gatekeeper's external-data wire format (`externaldata.gatekeeper.sh/v1beta1`): reading a `ProviderRequest`
 * strictly and within bounds, and the `ProviderResponse` shapes countersign answers with. Sources: the Go types in
 * open-policy-agent/frameworks@9a75fe2c:constraint/pkg/externaldata/{request,response}.go; the mapping is in
 * docs/policy.md §Gatekeeper external data.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONText } from '../internal/json-shape.js'
import { assertReferenceLength } from '../oci/reference.js'

/** The API version Gatekeeper sends and countersign answers with. */
const API_VERSION = 'externaldata.gatekeeper.sh/v1beta1'
/** Any version of the group is read alike: the request's shape is the same in v1alpha1 and v1beta1. */
const API_GROUP_PREFIX = 'externaldata.gatekeeper.sh/'
/**
 * A ProviderRequest nests three levels (`{request: {keys: [...]}}`); unknown fields are ignored as Go's decoder
 * ignores them, but they may not nest deeper than this.
 */
const MAX_REQUEST_DEPTH = 16

/**
 * What countersign puts in an item's `value` on `/gatekeeper/validate` when the loaded policies admit the image.
 *
 * Exported from `countersign/admission`.
 */
export interface GatekeeperVerifiedValue {
  /** Always true: images the policies do not admit get an item `error` instead. */
  readonly verified: true
  /** `sha256:…` the image was verified at (absent when it was admitted without a verification, e.g. no policy matched under `--no-match-policy allow`). */
  readonly digest?: string
  /**
   * The image pinned to `digest` as the mutating endpoint pins it: by default the repository as written with the tag
   * dropped; the policies may keep the tag (`repo:tag@sha256:…`, Kyverno's form).
   */
  readonly reference?: string
  /** What the image check warned about (warn-mode policy failures, unsupported policy fields). */
  readonly warnings?: readonly string[]
}

/**
 * One entry of `response.items`: the key exactly as Gatekeeper sent it, and either a value or an error.
 *
 * Exported from `countersign/admission`.
 */
export interface GatekeeperItem {
  readonly key: string
  /** `/gatekeeper/validate`: a {@link GatekeeperVerifiedValue}; `/gatekeeper/mutate`: the pinned reference. */
  readonly value?: GatekeeperVerifiedValue | string
  /** Why the image is not admitted (a policy denial); Gatekeeper caches it per key like a value. */
  readonly error?: string
}

/**
 * A complete `ProviderResponse` body.
 *
 * Exported from `countersign/admission`.
 */
export interface GatekeeperProviderResponse {
  readonly apiVersion: typeof API_VERSION
  readonly kind: 'ProviderResponse'
  readonly response: {
    /** Always true (Gatekeeper's mutation refuses answers that are not). */
    readonly idempotent: true
    /** One per distinct key; absent with `systemError`. */
    readonly items?: readonly GatekeeperItem[]
    /** The whole request failed (malformed, over a limit, a check that could not complete): no item is cached. */
    readonly systemError?: string
  }
}

/**
 * A `ProviderResponse` carrying items.
 *
 * @example
 * ```ts
 * const body = providerResponse([{ key: 'nginx:1.27', error: 'no signatures found' }])
 * ```
 */
export function providerResponse(items: readonly GatekeeperItem[]): GatekeeperProviderResponse {
  return { apiVersion: API_VERSION, kind: 'ProviderResponse', response: { idempotent: true, items } }
}

/**
 * A `ProviderResponse` that fails the whole request: `systemError` and no items, so that Gatekeeper caches nothing
 * (its response cache stores every item it receives, errors included, but never a systemError). Servers use it for
 * answers given before the handler runs (a refused client certificate, an oversized body).
 *
 * @param message - Why; shown to the user by the ConstraintTemplate, so keep it free of secrets.
 * @example
 * ```ts
 * import { gatekeeperSystemError } from 'countersign/admission'
 * res.end(JSON.stringify(gatekeeperSystemError('client certificate required')))
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function gatekeeperSystemError(message: string): GatekeeperProviderResponse {
  return { apiVersion: API_VERSION, kind: 'ProviderResponse', response: { idempotent: true, systemError: message } }
}

/**
 * The limits {@link parseProviderRequest} applies.
 *
 * @example
 * ```ts
 * const limits: ProviderRequestLimits = { maxBytes: 4 * 1024 * 1024, maxKeys: 1024 }
 * ```
 */
export interface ProviderRequestLimits {
  /** Largest body, in bytes (UTF-16 code units for a string). */
  readonly maxBytes: number
  /** Most entries in `request.keys`, duplicates included. */
  readonly maxKeys: number
}

function bad(message: string, reason?: 'too-large'): CountersignError {
  return new CountersignError(
    'ERR_INVALID_INPUT',
    `malformed ProviderRequest: ${message}`,
    reason ? { details: { reason } } : undefined,
  )
}

function decode(body: Uint8Array | string): unknown {
  let text: string
  if (typeof body === 'string') text = body
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body)
    } catch {
      throw bad('body is not UTF-8')
    }
  }
  try {
    return JSON.parse(text)
  } catch {
    throw bad('body is not JSON')
  }
}

/**
 * The keys of a ProviderRequest, in the order sent, duplicates kept, each string exactly as decoded. A missing,
 * null or empty `request.keys` is no keys. `apiVersion` and `kind` are optional (Gatekeeper always sends them, and
 * its Go decoder would not insist), but when present must name `externaldata.gatekeeper.sh` and `ProviderRequest`.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a body that is not UTF-8 JSON of that shape, nested more than 16
 *   levels, larger than `limits.maxBytes` or with more than `limits.maxKeys` keys (`details.reason: 'too-large'`);
 *   ERR_OCI_REFERENCE_INVALID (`details.reason: 'too-long'`) for a key longer than 4096 characters.
 * @example
 * ```ts
 * parseProviderRequest('{"request":{"keys":["nginx:1.27"]}}', { maxBytes: 1 << 22, maxKeys: 1024 }) // ['nginx:1.27']
 * ```
 */
export function parseProviderRequest(body: Uint8Array | string, limits: ProviderRequestLimits): string[] {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) throw bad('body must be bytes or text')
  assertJSONText(body, {
    code: 'ERR_INVALID_INPUT',
    what: 'ProviderRequest',
    maxBytes: limits.maxBytes,
    maxDepth: MAX_REQUEST_DEPTH,
  })
  const doc = decode(body)
  if (!isJSONObject(doc)) throw bad('not a JSON object')
  const { apiVersion, kind, request } = doc
  if (apiVersion !== undefined && (typeof apiVersion !== 'string' || !apiVersion.startsWith(API_GROUP_PREFIX)))
    throw bad(`apiVersion must be ${API_VERSION}`)
  if (kind !== undefined && kind !== 'ProviderRequest') throw bad('kind must be ProviderRequest')
  if (!isJSONObject(request)) throw bad('request must be an object')
  const keys = request.keys
  if (keys === undefined || keys === null) return []
  if (!Array.isArray(keys)) throw bad('request.keys must be an array of strings')
  if (keys.length > limits.maxKeys)
    throw bad(`request.keys holds ${keys.length} keys; at most ${limits.maxKeys} are accepted`, 'too-large')
  keys.forEach((k: unknown, i: number) => {
    if (typeof k !== 'string') throw bad(`request.keys[${i}] is not a string`)
    assertReferenceLength(k, `request.keys[${i}]`)
  })
  return keys as string[]
}
