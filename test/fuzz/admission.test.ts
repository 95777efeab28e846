/**
 * Fuzz: the admission handler (`createAdmissionHandler`) over mutated AdmissionReviews, in process, with a trivial
 * image check that allows exactly the images of the fixtures (so any image a mutant invents is denied by the check).
 * The handler is documented never to reject, so any throw fails here, CountersignError included. Its answer must be
 * well formed, 400 only when invalid, and "allowed" only when every image field of the pod spec named by the
 * review's kind (read here independently, with case-insensitive field names) is a string the check allowed.
 *
 * Gatekeeper external-data requests are not fuzzed: countersign has no handler for them yet.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createAdmissionHandler, type ImageCheck } from '../../src/admission/index.js'
import { type FixtureName, loadReview } from '../admission/fixtures.js'
import { documentInputs, randomText, textMutants, utf8 } from './generators.js'
import { FUZZ_RUNS, fuzz } from './harness.js'

const NAMES: FixtureName[] = ['pod-create', 'pod-ephemeral', 'deployment-create', 'cronjob-create']
const reviews = NAMES.map(loadReview)
const texts = reviews.map((r) => JSON.stringify(r))

/** Where each kind keeps its pod spec (Kubernetes API facts, written out here rather than imported). */
const POD_SPEC: Record<string, string[]> = {
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

// biome-ignore lint/suspicious/noExplicitAny: reviews are free-form JSON
type AnyJSON = any

/** Every image string in the fixtures: the only ones the check allows. */
const ALLOWED = new Set<string>()
for (const r of reviews) {
  const spec = POD_SPEC[`${r.request.kind.group ?? ''}/${r.request.kind.kind}`]!.reduce(
    (o: AnyJSON, k) => o?.[k],
    r.request.object,
  )
  for (const list of ['initContainers', 'containers', 'ephemeralContainers'])
    for (const c of spec[list] ?? []) ALLOWED.add(c.image)
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
/** Values of `obj` under keys equal to `name` ignoring case (a case-variant key must not hide an image). */
const fieldsLike = (obj: Record<string, unknown>, name: string) =>
  Object.keys(obj)
    .filter((k) => k.toLowerCase() === name.toLowerCase())
    .map((k) => obj[k])

/**
 * Why an "allowed" answer is wrong for this review, or undefined when it may be allowed: every image field of the
 * pod spec must be a string the check saw and allowed; a review that is not a JSON object, or whose operation
 * runs nothing, may be allowed without images.
 */
function allowedProblem(review: unknown, checked: ReadonlySet<string>): string | undefined {
  let r = review
  if (r instanceof Uint8Array) r = new TextDecoder().decode(r)
  if (typeof r === 'string') {
    try {
      r = JSON.parse(r)
    } catch {
      return 'allowed a body that is not JSON'
    }
  }
  const request = isObject(r) ? r.request : undefined
  if (!isObject(request)) return 'allowed a review without a request'
  if (request.operation === 'DELETE' || request.operation === 'CONNECT') return undefined
  const object = request.object
  if (!isObject(object))
    return request.operation === 'CREATE' || request.operation === 'UPDATE' ? 'allowed without object' : undefined
  // An object being deleted whose images do not change is let through on purpose (finalizer removal).
  if (request.operation === 'UPDATE' && isObject(object.metadata) && object.metadata.deletionTimestamp) return undefined
  const kind = isObject(request.kind) ? request.kind : {}
  const path = POD_SPEC[`${kind.group ?? ''}/${kind.kind}`]
  if (path === undefined) return `allowed an unsupported kind ${JSON.stringify(kind).slice(0, 80)}`
  let spec: unknown = object
  for (const k of path) spec = isObject(spec) ? spec[k] : undefined
  if (!isObject(spec)) return 'allowed without a pod spec'
  const images: unknown[] = []
  for (const list of ['initContainers', 'containers', 'ephemeralContainers', 'volumes']) {
    for (const items of fieldsLike(spec, list)) {
      if (items === undefined || items === null) continue
      if (!Array.isArray(items)) return `allowed with ${list} not an array`
      for (const item of items) {
        if (!isObject(item)) return `allowed with a ${list} item that is not an object`
        if (list !== 'volumes')
          images.push(...(fieldsLike(item, 'image').length > 0 ? fieldsLike(item, 'image') : [undefined]))
        else
          for (const source of fieldsLike(item, 'image')) {
            if (source === undefined || source === null) continue
            if (!isObject(source)) return 'allowed with an image volume that is not an object'
            images.push(...(fieldsLike(source, 'reference').length > 0 ? fieldsLike(source, 'reference') : [undefined]))
          }
      }
    }
  }
  for (const image of images) {
    if (typeof image !== 'string') return `allowed with an image field that is not a string: ${JSON.stringify(image)}`
    if (!checked.has(image) || !ALLOWED.has(image))
      return `allowed image ${JSON.stringify(image.slice(0, 100))} the check did not allow`
  }
  return undefined
}

type Input = { review: { how: string; seed: number; value: unknown }; mutate: boolean; warn: boolean }

describe('fuzz: admission handler', () => {
  it('every seed review is allowed, every image checked', async () => {
    for (const r of reviews) {
      const seen: string[] = []
      const check: ImageCheck = async (image) => {
        seen.push(image)
        return { image, allowed: ALLOWED.has(image), warnings: [], reasons: [] }
      }
      const out = await createAdmissionHandler({ check })(r)
      expect(out.decision).toBe('allowed')
      expect(allowedProblem(r, new Set(seen))).toBeUndefined()
    }
  })

  it(`the handler answers every review, never allows a malformed one (${FUZZ_RUNS} inputs)`, async () => {
    await fuzz<Input>({
      name: 'admission-review',
      arbitrary: fc.record({
        review: fc.oneof(
          {
            weight: 6,
            arbitrary: documentInputs(texts.map(utf8), { json: reviews }).map((d) => ({
              how: d.how,
              seed: d.seed,
              value: 'value' in d ? d.value : d.bytes,
            })),
          },
          { weight: 2, arbitrary: textMutants(texts) },
          { weight: 1, arbitrary: randomText() },
        ),
        mutate: fc.boolean(),
        warn: fc.boolean(),
      }),
      describe: ({ review, mutate, warn }) =>
        `${review.seed >= 0 ? NAMES[review.seed] : 'random'} ${review.how}${mutate ? ' mutate' : ''}${warn ? ' warn' : ''}`,
      run: async ({ review, mutate, warn }) => {
        const checked = new Set<string>()
        const check: ImageCheck = async (image) => {
          checked.add(image)
          const allowed = ALLOWED.has(image)
          return {
            image,
            allowed,
            warnings: [],
            reasons: allowed ? [] : ['not in the fixtures'],
            ...(allowed ? { digest: `sha256:${'1'.repeat(64)}` } : {}),
          }
        }
        let out: Awaited<ReturnType<ReturnType<typeof createAdmissionHandler>>>
        try {
          out = await createAdmissionHandler({ check, mode: warn ? 'warn' : 'enforce' })(review.value, {
            endpoint: mutate ? 'mutate' : 'validate',
          })
        } catch (e) {
          throw new Error(`the handler rejected (documented never to): ${e instanceof Error ? e.stack : String(e)}`)
        }
        if (out.status !== 200 && out.status !== 400) throw new Error(`status ${out.status}`)
        if (out.body.apiVersion !== 'admission.k8s.io/v1' || out.body.kind !== 'AdmissionReview')
          throw new Error('malformed answer')
        if (out.body.response.allowed !== (out.decision === 'allowed'))
          throw new Error(`allowed ${out.body.response.allowed} but decision ${out.decision}`)
        if (out.status === 400 && out.decision !== 'invalid') throw new Error(`400 with decision ${out.decision}`)
        if (out.decision === 'allowed' && !warn) {
          const problem = allowedProblem(review.value, checked)
          if (problem !== undefined) throw new Error(problem)
        }
        return out.decision
      },
    })
  })
})
