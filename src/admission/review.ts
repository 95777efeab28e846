/**
 * AdmissionReview v1 (`admission.k8s.io/v1`): parse what the API server sends and build what it expects back.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape } from '../internal/json-shape.js'

/** The API version this webhook speaks; the API server is told so in `admissionReviewVersions: ["v1"]`. */
const REVIEW_API_VERSION = 'admission.k8s.io/v1'

/**
 * The group/version/kind of the object under review (`request.kind`).
 *
 * Exported from `countersign/admission`.
 */
export interface GroupVersionKind {
  /** `""` for the core group (Pods), `apps`, `batch`, … */
  readonly group: string
  readonly version: string
  readonly kind: string
}

/**
 * The parts of an AdmissionReview request the webhook uses. Everything else in the request is ignored.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionRequest {
  /** Echoed back in the response; the API server matches on it. */
  readonly uid: string
  readonly kind: GroupVersionKind
  /** `request.subResource`, e.g. `ephemeralcontainers` for `kubectl debug`. */
  readonly subResource?: string
  readonly namespace?: string
  readonly name?: string
  /** `CREATE`, `UPDATE`, `DELETE` or `CONNECT`. */
  readonly operation: string
  /** The object as it would be stored (absent for DELETE and CONNECT). */
  readonly object?: Record<string, unknown>
  /** The object before the change (UPDATE and DELETE). */
  readonly oldObject?: Record<string, unknown>
  readonly dryRun: boolean
}

/**
 * A JSONPatch operation (RFC 6902), as the mutating endpoint returns them.
 *
 * Exported from `countersign/admission`.
 */
export interface JSONPatchOperation {
  readonly op: 'replace'
  /** RFC 6901 JSON pointer into the object under review. */
  readonly path: string
  readonly value: string
}

/**
 * The `response` of an AdmissionReview.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionResponse {
  readonly uid: string
  readonly allowed: boolean
  /** Present on denial: the HTTP-like code and the message `kubectl` shows. */
  readonly status?: { readonly code: number; readonly reason?: string; readonly message: string }
  readonly warnings?: readonly string[]
  readonly patchType?: 'JSONPatch'
  /** Base64 of the JSON-encoded patch operations. */
  readonly patch?: string
}

/**
 * A complete AdmissionReview v1 response body.
 *
 * Exported from `countersign/admission`.
 */
export interface AdmissionReviewResponse {
  readonly apiVersion: typeof REVIEW_API_VERSION
  readonly kind: 'AdmissionReview'
  readonly response: AdmissionResponse
}

/** Kubernetes names and uids are short; anything far longer is not from an API server. */
const MAX_FIELD_LENGTH = 1024

/**
 * Deepest nesting accepted. Workloads sit far shallower (a CronJob's container fields are about 20 levels into the
 * review, managed fields a few more), while recursive walkers (`JSON.stringify`, `structuredClone`, a CEL or log
 * encoder) overflow the stack a couple of thousand levels down. `JSON.parse` itself is iterative in V8, so a deep
 * body parses; it is refused here, by a walk that is iterative too, before anything recursive sees it.
 */
const MAX_NESTING_DEPTH = 256
/**
 * Most objects and arrays walked. A 4 MiB body holds at most about 2 million of them; the bound only matters for a
 * value handed in already parsed, where shared sub-objects could make the walk exponential.
 */
const MAX_NESTED_VALUES = 1 << 22

function bad(message: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `malformed AdmissionReview: ${message}`)
}

function optionalString(obj: Record<string, unknown>, key: string): string | undefined {
  const v = obj[key]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string' || v.length > MAX_FIELD_LENGTH) throw bad(`request.${key} must be a short string`)
  return v
}

function requiredString(obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key]
  if (typeof v !== 'string' || v === '' || v.length > MAX_FIELD_LENGTH)
    throw bad(`${where}.${key} must be a non-empty string`)
  return v
}

/**
 * Read the request of an AdmissionReview v1. Only `admission.k8s.io/v1` is accepted (v1beta1 has been deprecated
 * since Kubernetes 1.16 and the example configuration asks for v1 only).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT naming the first field that is wrong, or for a review nested deeper
 *   than 256 levels (no workload comes close, and recursive readers of a deeper one would overflow the stack).
 * @example
 * ```ts
 * import { parseAdmissionReview } from 'countersign/admission'
 * const request = parseAdmissionReview(JSON.parse(body))
 * console.log(request.uid, request.kind.kind, request.operation)
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function parseAdmissionReview(review: unknown): AdmissionRequest {
  if (!isJSONObject(review)) throw bad('not a JSON object')
  assertJSONShape(review, {
    code: 'ERR_INVALID_INPUT',
    what: 'AdmissionReview',
    maxDepth: MAX_NESTING_DEPTH,
    maxNodes: MAX_NESTED_VALUES,
  })
  if (review.apiVersion !== REVIEW_API_VERSION)
    throw bad(`apiVersion must be ${REVIEW_API_VERSION}, got ${quoteClipped(review.apiVersion, 64)}`)
  if (review.kind !== 'AdmissionReview') throw bad('kind must be AdmissionReview')
  const request = review.request
  if (!isJSONObject(request)) throw bad('request is missing')
  const uid = requiredString(request, 'uid', 'request')
  const kind = request.kind
  if (!isJSONObject(kind)) throw bad('request.kind is missing')
  const group = kind.group ?? ''
  if (typeof group !== 'string' || group.length > MAX_FIELD_LENGTH) throw bad('request.kind.group must be a string')
  const gvk: GroupVersionKind = {
    group,
    version: requiredString(kind, 'version', 'request.kind'),
    kind: requiredString(kind, 'kind', 'request.kind'),
  }
  const operation = requiredString(request, 'operation', 'request')
  if (!['CREATE', 'UPDATE', 'DELETE', 'CONNECT'].includes(operation))
    throw bad(`request.operation ${JSON.stringify(operation.slice(0, 64))} is not an admission operation`)
  const object = request.object
  if (object !== undefined && object !== null && !isJSONObject(object)) throw bad('request.object must be an object')
  if ((operation === 'CREATE' || operation === 'UPDATE') && !isJSONObject(object))
    throw bad(`request.object is required for ${operation}`)
  const oldObject = request.oldObject
  if (oldObject !== undefined && oldObject !== null && !isJSONObject(oldObject))
    throw bad('request.oldObject must be an object')
  const dryRun = request.dryRun
  if (dryRun !== undefined && dryRun !== null && typeof dryRun !== 'boolean')
    throw bad('request.dryRun must be a boolean')
  const subResource = optionalString(request, 'subResource')
  const namespace = optionalString(request, 'namespace')
  const name = optionalString(request, 'name')
  return {
    uid,
    kind: gvk,
    operation,
    dryRun: dryRun === true,
    ...(subResource !== undefined ? { subResource } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(isJSONObject(object) ? { object } : {}),
    ...(isJSONObject(oldObject) ? { oldObject } : {}),
  }
}

/**
 * The `request.uid` of a review that may be malformed otherwise, so that even a rejection names its request.
 * Returns undefined when there is no usable uid.
 *
 * @example
 * ```ts
 * import { reviewUID } from 'countersign/admission'
 * reviewUID({ request: { uid: 'abc' } }) // 'abc'
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function reviewUID(review: unknown): string | undefined {
  if (!isJSONObject(review) || !isJSONObject(review.request)) return undefined
  const uid = review.request.uid
  return typeof uid === 'string' && uid !== '' && uid.length <= MAX_FIELD_LENGTH ? uid : undefined
}

/**
 * Build an AdmissionReview v1 response from its `response` part.
 *
 * @example
 * ```ts
 * import { admissionReviewResponse } from 'countersign/admission'
 * const body = admissionReviewResponse({ uid: request.uid, allowed: true })
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function admissionReviewResponse(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: REVIEW_API_VERSION, kind: 'AdmissionReview', response }
}

/**
 * A denial: `allowed: false` with a status the API server shows to the client (`kubectl` prints the message).
 *
 * @example
 * ```ts
 * import { denyResponse } from 'countersign/admission'
 * const body = denyResponse(request.uid, 'image "app:v1" is not signed')
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function denyResponse(
  uid: string,
  message: string,
  options?: { readonly code?: number; readonly reason?: string; readonly warnings?: readonly string[] },
): AdmissionReviewResponse {
  return admissionReviewResponse({
    uid,
    allowed: false,
    status: { code: options?.code ?? 403, reason: options?.reason ?? 'Forbidden', message },
    ...(options?.warnings?.length ? { warnings: options.warnings } : {}),
  })
}
