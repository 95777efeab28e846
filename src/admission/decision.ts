/**
 * The decision on one parsed AdmissionRequest: which requests need no check, the images and their limit, the
 * checks, and the answer built from their results (fail closed on errors, deny or warn on failures, allow with a
 * digest-pinning patch on the mutating endpoint).
 *
 * @module
 */
import { boundedJoin } from '../internal/bounded-text.js'
import { toBase64, utf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { runChecks, type Settled } from './checks.js'
import type { AdmissionHandlerCallOptions, AdmissionOutcome } from './handler.js'
import { type WorkloadImage, workloadImages } from './images.js'
import { clip, describeError, MAX_MESSAGE_LENGTH, reasonsOf, warningList } from './messages.js'
import { pinImagesPatch } from './patch.js'
import { type AdmissionRequest, admissionReviewResponse, denyResponse } from './review.js'
import type { AdmissionResource, ImageCheck, ImageCheckResult } from './types.js'

/**
 * The handler's options with their defaults applied.
 *
 * @example
 * ```ts
 * const settings: DecisionSettings = { check, mode: 'enforce', timeoutMs: 8000, concurrency: 8, maxImages: 256 }
 * ```
 */
export interface DecisionSettings {
  readonly check: ImageCheck
  readonly mode: 'enforce' | 'warn'
  readonly timeoutMs: number
  readonly concurrency: number
  readonly maxImages: number
}

/**
 * An outcome before the request's identity (uid, kind, namespace) is added.
 *
 * @example
 * ```ts
 * const decided = await decideRequest(request, call, settings)
 * const outcome: AdmissionOutcome = { uid: request.uid, kind: request.kind, ...decided }
 * ```
 */
export type Decided = Omit<AdmissionOutcome, 'uid' | 'kind' | 'namespace'>

/**
 * Most image fields (not distinct images) one review may hold, unless `maxImages` is higher. Real pod specs have a
 * few dozen containers and volumes at most; the bound keeps the per-field work (messages, patches) small.
 */
const MAX_IMAGE_FIELDS = 1024
/** Fields named per image in a message before "… and K more" (one image can fill every container). */
const MAX_FIELDS_NAMED = 4

/** What the checks of one review found, and how to name an image in a message. */
interface Findings {
  readonly uid: string
  readonly images: readonly WorkloadImage[]
  /** The fields of each distinct image, in workload order. */
  readonly fields: ReadonlyMap<string, readonly string[]>
  readonly distinct: number
  readonly results: readonly ImageCheckResult[]
  readonly errored: readonly Extract<Settled, { error: string }>[]
  readonly failing: readonly ImageCheckResult[]
  readonly checkWarnings: readonly string[]
}

/**
 * Decide one request; throws only on the unforeseen (the caller turns that into a denial).
 *
 * @example
 * ```ts
 * const decided = await decideRequest(parseAdmissionReview(body), { endpoint: 'mutate' }, settings)
 * ```
 */
export async function decideRequest(
  request: AdmissionRequest,
  call: AdmissionHandlerCallOptions | undefined,
  settings: DecisionSettings,
): Promise<Decided> {
  // Nothing to verify when nothing new can run: deletions, and updates of objects already being deleted that
  // leave the images alone (finalizer removal must not be blocked by a policy, as in policy-controller).
  if (request.object === undefined || request.operation === 'DELETE' || request.operation === 'CONNECT')
    return allowed(request.uid)
  if (terminatingWithSameImages(request)) return allowed(request.uid)

  let images: WorkloadImage[]
  try {
    images = workloadImages(request.kind, request.object)
  } catch (e) {
    const message = `countersign: admission denied: ${describeError(e)}`
    return {
      status: 200,
      body: denyResponse(request.uid, message, { code: 400, reason: 'BadRequest' }),
      decision: 'invalid',
      results: [],
      message,
    }
  }
  const maxFields = Math.max(MAX_IMAGE_FIELDS, settings.maxImages)
  if (images.length > maxFields) {
    const message = `countersign: admission denied: ${images.length} image fields exceed the limit of ${maxFields}`
    return { status: 200, body: denyResponse(request.uid, message), decision: 'invalid', results: [], message }
  }
  const distinct = [...new Set(images.map((i) => i.image))]
  if (distinct.length > settings.maxImages) {
    const message = `countersign: admission denied: ${distinct.length} distinct images exceed the limit of ${settings.maxImages}`
    return { status: 200, body: denyResponse(request.uid, message), decision: 'invalid', results: [], message }
  }

  const budget = Math.min(settings.timeoutMs, call?.timeoutMs ?? Number.POSITIVE_INFINITY)
  const settled = await runChecks(distinct, {
    check: settings.check,
    concurrency: settings.concurrency,
    budgetMs: Math.max(1, budget),
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    resource: admissionResource(request),
    // Its signal is read only when the run needs it: the webhook's is made on demand (a cached review never needs it).
    ...(call !== undefined ? { caller: call } : {}),
  })
  const results = settled.flatMap((s) => ('result' in s ? [s.result] : []))
  const fields = new Map<string, string[]>()
  for (const i of images) {
    const list = fields.get(i.image)
    if (list === undefined) fields.set(i.image, [i.field])
    else list.push(i.field)
  }
  const findings: Findings = {
    uid: request.uid,
    images,
    fields,
    distinct: distinct.length,
    results,
    errored: settled.filter((s): s is Extract<Settled, { error: string }> => 'error' in s),
    failing: results.filter((r) => !r.allowed),
    checkWarnings: results.flatMap((r) => r.warnings),
  }
  if (findings.errored.length > 0) return failedClosed(findings)
  if (findings.failing.length > 0 && settings.mode === 'enforce') return denied(findings)
  return allowedWithWarnings(findings, call?.endpoint === 'mutate')
}

function allowed(uid: string, warnings: readonly string[] = [], results: readonly ImageCheckResult[] = []) {
  return {
    status: 200,
    body: admissionReviewResponse({ uid, allowed: true, ...(warnings.length ? { warnings } : {}) }),
    decision: 'allowed' as const,
    results,
  }
}

/** The workload fields that name `image`, e.g. `spec.containers[0].image, spec.initContainers[1].image`. */
function fieldsOf(f: Findings, image: string): string {
  return boundedJoin(f.fields.get(image) ?? [], ', ', { maxItems: MAX_FIELDS_NAMED })
}

function line(f: Findings, image: string, why: string): string {
  return `- ${fieldsOf(f, image)} ${JSON.stringify(image)}: ${why}`
}

/** Some image could not be verified: deny, whatever the mode. */
function failedClosed(f: Findings): Decided {
  const lines = [
    ...f.errored.map((s) => line(f, s.image, `verification could not complete: ${s.error}`)),
    ...f.failing.map((r) => line(f, r.image, reasonsOf(r))),
  ]
  const message = clip(
    `countersign: admission denied (fail closed): ${f.errored.length} of ${f.distinct} image(s) could not be verified\n${lines.join('\n')}`,
    MAX_MESSAGE_LENGTH,
  )
  const warnings = warningList(f.checkWarnings)
  return {
    status: 200,
    body: denyResponse(f.uid, message, { code: 500, reason: 'InternalError', warnings }),
    decision: 'error',
    results: f.results,
    message,
  }
}

/** Some image failed its policy in enforce mode. */
function denied(f: Findings): Decided {
  const message = clip(
    `countersign: admission denied: ${f.failing.length} of ${f.distinct} image(s) failed verification\n${f.failing
      .map((r) => line(f, r.image, reasonsOf(r)))
      .join('\n')}`,
    MAX_MESSAGE_LENGTH,
  )
  return {
    status: 200,
    body: denyResponse(f.uid, message, { warnings: warningList(f.checkWarnings) }),
    decision: 'denied',
    results: f.results,
    message,
  }
}

/** Allow (warn mode lists the failures as warnings); on the mutating endpoint, pin verified tags to digests. */
function allowedWithWarnings(f: Findings, mutate: boolean): Decided {
  const warnings = warningList([
    ...f.failing.map(
      (r) => `countersign (warn mode): ${fieldsOf(f, r.image)} ${JSON.stringify(r.image)}: ${reasonsOf(r)}`,
    ),
    ...f.checkWarnings,
  ])
  if (!mutate) return allowed(f.uid, warnings, f.results)
  const byImage = new Map(f.results.map((r) => [r.image, r]))
  // Only images that passed are pinned; an image allowed by warn mode keeps its tag (no verified digest).
  const ops = pinImagesPatch(
    f.images,
    (image) => {
      const r = byImage.get(image)
      return r?.allowed ? r.digest : undefined
    },
    (image) => byImage.get(image)?.pin,
  )
  const base = allowed(f.uid, warnings, f.results)
  if (ops.length === 0) return base
  return {
    ...base,
    body: admissionReviewResponse({
      ...base.body.response,
      patchType: 'JSONPatch',
      patch: toBase64(utf8(JSON.stringify(ops))),
    }),
  }
}

function terminatingWithSameImages(request: AdmissionRequest): boolean {
  const { object, oldObject } = request
  if (request.operation !== 'UPDATE' || object === undefined || oldObject === undefined) return false
  const metadata = object.metadata
  if (!isJSONObject(metadata) || !metadata.deletionTimestamp) return false
  try {
    const key = (o: Record<string, unknown>) =>
      JSON.stringify(workloadImages(request.kind, o).map((i) => [i.pointer, i.image]))
    return key(object) === key(oldObject)
  } catch {
    return false
  }
}

/** The workload as policies that match on resources see it. */
function admissionResource(request: AdmissionRequest): AdmissionResource {
  const metadata = isJSONObject(request.object?.metadata) ? request.object.metadata : {}
  const name =
    request.name ||
    (typeof metadata.name === 'string' && metadata.name) ||
    (typeof metadata.generateName === 'string' ? metadata.generateName : '')
  return {
    group: request.kind.group,
    version: request.kind.version,
    kind: request.kind.kind,
    ...(request.subResource ? { subresource: request.subResource } : {}),
    name,
    ...(request.namespace !== undefined ? { namespace: request.namespace } : {}),
    operation: request.operation,
    ...stringMaps(metadata),
  }
}

function stringMaps(metadata: Record<string, unknown>) {
  const strings = (v: unknown) =>
    isJSONObject(v)
      ? Object.fromEntries(Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string'))
      : undefined
  const labels = strings(metadata.labels)
  const annotations = strings(metadata.annotations)
  return { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) }
}
