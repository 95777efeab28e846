/**
 * Find every container image in a workload: Pods, and the pod templates of Deployments, ReplicaSets, StatefulSets,
 * DaemonSets, ReplicationControllers, Jobs and CronJobs; containers, initContainers and ephemeralContainers.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { isJSONObject } from '../internal/json.js'
import type { GroupVersionKind } from './review.js'

/**
 * One image in a workload and where it sits.
 *
 * Exported from `countersign/admission`.
 */
export interface WorkloadImage {
  /** The reference as written in the container. */
  readonly image: string
  /** Field path for people, e.g. `spec.template.spec.initContainers[0].image`. */
  readonly field: string
  /** RFC 6901 JSON pointer to the same field, for JSONPatch, e.g. `/spec/template/spec/initContainers/0/image`. */
  readonly pointer: string
  /** The container's name (may be empty if the object has none yet). */
  readonly container: string
}

/** The three container lists of a PodSpec, in the order Kubernetes starts them. */
const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const

/** Where the PodSpec lives in each supported kind (the version does not change the layout). */
const POD_SPEC_PATHS: Readonly<Record<string, readonly string[]>> = {
  '/Pod': ['spec'],
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
 * Every container image of `object` (a Pod or a workload with a pod template), init containers first, then
 * containers, then ephemeral containers. Unsupported kinds throw rather than return nothing, so that a webhook
 * configured for more resources than it understands denies instead of waving them through.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for an unsupported kind, a missing pod spec, a container list that is
 *   not an array, or a container without a string image.
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
  let spec: unknown = object
  for (let i = 0; i < path.length; i++) {
    if (!isJSONObject(spec)) throw invalid(path.slice(0, i).join('.') || 'object', 'must be an object')
    spec = spec[path[i]!]
  }
  const specField = path.join('.')
  if (!isJSONObject(spec)) throw invalid(specField, 'must be an object')
  const specPointer = `/${path.map(escapePointer).join('/')}`
  const out: WorkloadImage[] = []
  for (const list of CONTAINER_LISTS) {
    const containers = spec[list]
    if (containers === undefined || containers === null) continue
    if (!Array.isArray(containers)) throw invalid(`${specField}.${list}`, 'must be an array')
    containers.forEach((c: unknown, i: number) => {
      const field = `${specField}.${list}[${i}].image`
      if (!isJSONObject(c)) throw invalid(`${specField}.${list}[${i}]`, 'must be an object')
      const image = c.image
      if (typeof image !== 'string' || image.trim() === '') throw invalid(field, 'must be a non-empty string')
      out.push({
        image,
        field,
        pointer: `${specPointer}/${list}/${i}/image`,
        container: typeof c.name === 'string' ? c.name : '',
      })
    })
  }
  return out
}
