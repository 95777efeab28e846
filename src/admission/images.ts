/**
 * Find every image the kubelet would pull for a workload: Pods, PodTemplates, and the pod templates of Deployments,
 * ReplicaSets, StatefulSets, DaemonSets, ReplicationControllers, Jobs and CronJobs; in each pod spec the
 * containers, initContainers and ephemeralContainers, and image volumes (`volumes[].image.reference`, Kubernetes
 * 1.31+). Anything of the wrong shape on the way is an error, so an object the webhook cannot fully read is denied
 * rather than waved through with its unread images.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import { isJSONObject } from '../internal/json.js'
import type { GroupVersionKind } from './review.js'

/**
 * One image in a workload and where it sits.
 *
 * Exported from `countersign/admission`.
 */
export interface WorkloadImage {
  /** The reference as written in the container (or image volume). */
  readonly image: string
  /** Field path for people, e.g. `spec.template.spec.initContainers[0].image`. */
  readonly field: string
  /** RFC 6901 JSON pointer to the same field, for JSONPatch, e.g. `/spec/template/spec/initContainers/0/image`. */
  readonly pointer: string
  /** The container's name, or the image volume's (may be empty if the object has none yet). */
  readonly container: string
}

/**
 * Longest image reference read. No reference that parses comes near it (registry host at most 253 characters plus a
 * port, repository at most 255, tag at most 128, digest at most 135), and policy matching runs synchronously on each
 * reference, so its cost is bounded by refusing longer ones up front.
 *
 * @example
 * ```ts
 * if (image.length > MAX_IMAGE_REFERENCE_LENGTH) throw new CountersignError('ERR_INVALID_INPUT', 'image too long')
 * ```
 */
export const MAX_IMAGE_REFERENCE_LENGTH = 1024

/** The three container lists of a PodSpec, in the order Kubernetes starts them. */
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const

/** Pod spec fields that hold images; a key differing from one of them only in case is refused (see `caseVariant`). */
const POD_SPEC_IMAGE_FIELDS = [...CONTAINER_LISTS, 'volumes'] as const

/** Where the PodSpec lives in each supported kind (the version does not change the layout). */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  '/Pod': ['spec'],
  '/PodTemplate': ['template', 'spec'],
  '/ReplicationController': ['spec', 'template', 'spec'],
  'apps/Deployment': ['spec', 'template', 'spec'],
  'apps/ReplicaSet': ['spec', 'template', 'spec'],
  'apps/StatefulSet': ['spec', 'template', 'spec'],
  'apps/DaemonSet': ['spec', 'template', 'spec'],
  'batch/Job': ['spec', 'template', 'spec'],
  'batch/CronJob': ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
}

/**
 * The path to the PodSpec in objects of `kind`, or undefined when the kind holds no pod template countersign knows.
 *
 * @example
 * ```ts
 * import { podSpecPath } from 'countersign/admission'
 * podSpecPath({ group: 'batch', version: 'v1', kind: 'CronJob' }) // ['spec', 'jobTemplate', 'spec', 'template', 'spec']
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function podSpecPath(kind: GroupVersionKind): readonly string[] | undefined {
  return POD_SPEC_PATHS[`${kind.group}/${kind.kind}`]
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1')
}

function invalid(field: string, what: string): CountersignError {
  return new CountersignError('ERR_INVALID_INPUT', `invalid workload: ${field} ${what}`)
}

/**
 * Refuse a key of `obj` that equals one of `names` but for case. The API server decodes case-sensitively and sends
 * webhooks its own canonical encoding, so such a key never comes from it; a case-insensitive decoder (Go's
 * encoding/json) would read it as the field, so the object means different things to different readers.
 */
function caseVariant(obj: Record<string, unknown>, names: readonly string[], where: string): void {
  for (const key of Object.keys(obj)) {
    const lower = key.toLowerCase()
    const name = names.find((n) => n !== key && n.toLowerCase() === lower)
    if (name !== undefined) throw invalid(where, `has a field ${quoteClipped(key, 64)} that is ${name} but for case`)
  }
}

/** The reference at `holder[key]`: a non-empty string of bounded length. */
function referenceAt(holder: Record<string, unknown>, key: string, field: string): string {
  const image = holder[key]
  if (typeof image !== 'string' || image.trim() === '') throw invalid(field, 'must be a non-empty string')
  if (image.length > MAX_IMAGE_REFERENCE_LENGTH)
    throw invalid(field, `is longer than ${MAX_IMAGE_REFERENCE_LENGTH} characters`)
  return image
}

/** A list field of the pod spec: absent, or an array of objects. */
function objectList(spec: Record<string, unknown>, list: string, specField: string): Record<string, unknown>[] {
  const items = spec[list]
  if (items === undefined || items === null) return []
  if (!Array.isArray(items)) throw invalid(`${specField}.${list}`, 'must be an array')
  items.forEach((item: unknown, i: number) => {
    if (!isJSONObject(item)) throw invalid(`${specField}.${list}[${i}]`, 'must be an object')
  })
  return items as Record<string, unknown>[]
}

/** `object.kind` and `object.apiVersion`, when present, must name the kind under review (the API server sets both). */
function checkTypeMeta(kind: GroupVersionKind, object: Readonly<Record<string, unknown>>): void {
  const apiVersion = kind.group === '' ? kind.version : `${kind.group}/${kind.version}`
  const own = object.kind
  if (own !== undefined && own !== null && own !== kind.kind)
    throw invalid('kind', `${quoteClipped(own, 64)} is not the kind under review (${quoteClipped(kind.kind, 64)})`)
  const version = object.apiVersion
  if (version !== undefined && version !== null && version !== apiVersion)
    throw invalid(
      'apiVersion',
      `${quoteClipped(version, 64)} is not that of the review (${quoteClipped(apiVersion, 128)})`,
    )
}

/**
 * Every image of `object` (a Pod, a PodTemplate or a workload with a pod template): init containers first, then
 * containers, then ephemeral containers, then image volumes. Unsupported kinds throw rather than return nothing, so
 * that a webhook configured for more resources than it understands denies instead of waving them through; so does
 * any field on the way to an image that is not of its Kubernetes type, and a pod spec without containers (which no
 * kubelet runs, so the object is not what its kind says).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for an unsupported kind, an object whose `kind`/`apiVersion` differ
 *   from the review's, a missing pod spec, a container or volume list that is not an array of objects, no containers,
 *   a container or image volume without a non-empty string reference (or one over 1024 characters), or a key that
 *   differs from an image field only in case.
 * @example
 * ```ts
 * import { workloadImages } from 'countersign/admission'
 * const images = workloadImages({ group: '', version: 'v1', kind: 'Pod' }, pod)
 * // [{ image: 'nginx:1.27', field: 'spec.containers[0].image', pointer: '/spec/containers/0/image', container: 'web' }]
 * ```
 *
 * Exported from `countersign/admission`.
 */
export function workloadImages(kind: GroupVersionKind, object: Readonly<Record<string, unknown>>): WorkloadImage[] {
  const path = podSpecPath(kind)
  if (path === undefined)
    throw new CountersignError(
      'ERR_INVALID_INPUT',
      `unsupported kind ${kind.group === '' ? '' : `${kind.group}/`}${kind.version} ${kind.kind}`.slice(0, 200),
    )
  checkTypeMeta(kind, object)
  let spec: unknown = object
  for (let i = 0; i < path.length; i++) {
    if (!isJSONObject(spec)) throw invalid(path.slice(0, i).join('.') || 'object', 'must be an object')
    spec = spec[path[i]!]
  }
  const specField = path.join('.')
  if (!isJSONObject(spec)) throw invalid(specField, 'must be an object')
  caseVariant(spec, POD_SPEC_IMAGE_FIELDS, specField)
  const specPointer = `/${path.map(escapePointer).join('/')}`
  const out: WorkloadImage[] = []
  for (const list of CONTAINER_LISTS) {
    objectList(spec, list, specField).forEach((c, i) => {
      caseVariant(c, ['image'], `${specField}.${list}[${i}]`)
      out.push({
        image: referenceAt(c, 'image', `${specField}.${list}[${i}].image`),
        field: `${specField}.${list}[${i}].image`,
        pointer: `${specPointer}/${list}/${i}/image`,
        container: typeof c.name === 'string' ? c.name : '',
      })
    })
  }
  // A pod spec always has a container (the API server requires one); none here means the kind and the object
  // disagree, and the images it does hold are somewhere this reader does not look.
  if (!Array.isArray(spec.containers) || spec.containers.length === 0)
    throw invalid(`${specField}.containers`, 'must list at least one container')
  objectList(spec, 'volumes', specField).forEach((v, i) => {
    const where = `${specField}.volumes[${i}]`
    caseVariant(v, ['image'], where)
    const source = v.image
    // Other volume types (configMap, emptyDir, …) pull nothing.
    if (source === undefined || source === null) return
    if (!isJSONObject(source)) throw invalid(`${where}.image`, 'must be an object')
    caseVariant(source, ['reference'], `${where}.image`)
    out.push({
      image: referenceAt(source, 'reference', `${where}.image.reference`),
      field: `${where}.image.reference`,
      pointer: `${specPointer}/volumes/${i}/image/reference`,
      container: typeof v.name === 'string' ? v.name : '',
    })
  })
  return out
}
