// Issue 14: the AdmissionReview fuzzer grafted image strings into places of workloads and reported the reviews it
// saw allowed. Every place the kubelet pulls from, in every kind the webhook reads, must be checked (and an unsigned
// image there denied); places it never pulls from (metadata) are not images.
import { describe, expect, it } from 'vitest'
import { createAdmissionHandler } from '../../src/admission/handler.js'
import { podSpecPath, workloadImages } from '../../src/admission/images.js'
import type { GroupVersionKind } from '../../src/admission/review.js'
import type { ImageCheck } from '../../src/admission/types.js'
import { applyReplacePatch, type Review } from './fixtures.js'

const D = `sha256:${'cd'.repeat(32)}`
const GOOD = 'registry.example.com/shop/app:v1'
const UNSIGNED = 'registry.example.com/grafted/unsigned:v1'

/** Images containing "unsigned" fail; every other passes at digest D. */
function recordingCheck() {
  const seen: string[] = []
  const check: ImageCheck = async (image) => {
    seen.push(image)
    const bad = image.includes('unsigned')
    return {
      image,
      allowed: !bad,
      warnings: [],
      reasons: bad ? ['no signatures found'] : [],
      ...(bad ? {} : { digest: D }),
    }
  }
  return { check, seen }
}

const KINDS: readonly GroupVersionKind[] = [
  { group: '', version: 'v1', kind: 'Pod' },
  { group: '', version: 'v1', kind: 'PodTemplate' },
  { group: '', version: 'v1', kind: 'ReplicationController' },
  { group: 'apps', version: 'v1', kind: 'Deployment' },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet' },
  { group: 'apps', version: 'v1', kind: 'StatefulSet' },
  { group: 'apps', version: 'v1', kind: 'DaemonSet' },
  { group: 'batch', version: 'v1', kind: 'Job' },
  { group: 'batch', version: 'v1', kind: 'CronJob' },
  // The API server converts to the version the webhook is registered for; the layout is the same in old versions.
  { group: 'batch', version: 'v1beta1', kind: 'CronJob' },
]

/** An object of `kind` whose pod spec is `spec` (one passing container plus whatever `spec` adds). */
function workload(kind: GroupVersionKind, spec: Record<string, unknown>): Record<string, unknown> {
  const path = podSpecPath(kind)!
  let inner: Record<string, unknown> = { containers: [{ name: 'app', image: GOOD }], ...spec }
  for (let i = path.length - 1; i >= 0; i--)
    inner = { [path[i]!]: inner, ...(path[i] === 'template' ? { metadata: { labels: { app: 'x' } } } : {}) }
  return {
    apiVersion: kind.group === '' ? kind.version : `${kind.group}/${kind.version}`,
    kind: kind.kind,
    metadata: { name: 'w', namespace: 'shop' },
    ...inner,
  }
}

function review(kind: GroupVersionKind, object: Record<string, unknown>): Review {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'u-14', kind, namespace: 'shop', operation: 'CREATE', object },
  }
}

/** Each place a pod spec names an image the kubelet pulls, grafted with `image`. */
const GRAFTS: readonly [string, (image: string) => Record<string, unknown>, string][] = [
  ['an init container', (image) => ({ initContainers: [{ name: 'g', image }] }), 'initContainers[0].image'],
  [
    'a sidecar (restartable init container)',
    (image) => ({ initContainers: [{ name: 'g', image, restartPolicy: 'Always' }] }),
    'initContainers[0].image',
  ],
  [
    'a second container',
    (image) => ({
      containers: [
        { name: 'app', image: GOOD },
        { name: 'g', image },
      ],
    }),
    'containers[1].image',
  ],
  [
    'an ephemeral container',
    (image) => ({ ephemeralContainers: [{ name: 'g', image }] }),
    'ephemeralContainers[0].image',
  ],
  [
    'an image volume (Kubernetes 1.31+)',
    (image) => ({
      volumes: [
        { name: 'cfg', configMap: { name: 'c' } },
        { name: 'g', image: { reference: image, pullPolicy: 'IfNotPresent' } },
      ],
    }),
    'volumes[1].image.reference',
  ],
]

describe('every image the kubelet pulls is checked, in every kind (issue 14)', () => {
  for (const kind of KINDS) {
    const prefix = podSpecPath(kind)!.join('.')
    it.each(GRAFTS)(
      `${kind.group || 'core'}/${kind.version} ${kind.kind}: an unsigned image in %s is denied`,
      async (_n, graft, field) => {
        const { check, seen } = recordingCheck()
        const out = await createAdmissionHandler({ check })(review(kind, workload(kind, graft(UNSIGNED))))
        expect(seen).toContain(UNSIGNED)
        expect(out.decision).toBe('denied')
        expect(out.body.response.allowed).toBe(false)
        expect(out.message).toContain(`- ${prefix}.${field} ${JSON.stringify(UNSIGNED)}: no signatures found`)
      },
    )
  }

  it('the same grafts signed are allowed, and each was checked (no location is skipped when it passes)', async () => {
    for (const kind of KINDS)
      for (const [, graft] of GRAFTS) {
        const { check, seen } = recordingCheck()
        const out = await createAdmissionHandler({ check })(
          review(kind, workload(kind, graft('registry.example.com/x/signed:v2'))),
        )
        expect(out.body.response.allowed).toBe(true)
        expect([...seen].sort()).toEqual([GOOD, 'registry.example.com/x/signed:v2'].sort())
      }
  })

  it('the CronJob of the fuzzer report: an init container in the job template is denied, and named', async () => {
    const kind = { group: 'batch', version: 'v1', kind: 'CronJob' }
    const object = workload(kind, { initContainers: [{ name: 'fetch', image: UNSIGNED }] })
    const out = await createAdmissionHandler(recordingCheck())(review(kind, object))
    expect(out.body.response.allowed).toBe(false)
    expect(out.message).toContain(
      `spec.jobTemplate.spec.template.spec.initContainers[0].image ${JSON.stringify(UNSIGNED)}`,
    )
  })

  it('an image volume is listed with its field and pointer, and pinned by the mutating endpoint', async () => {
    const kind = { group: '', version: 'v1', kind: 'Pod' }
    const object = workload(kind, {
      volumes: [{ name: 'models', image: { reference: 'registry.example.com/ml/model:v3' } }],
    })
    expect(workloadImages(kind, object)).toEqual([
      { image: GOOD, field: 'spec.containers[0].image', pointer: '/spec/containers/0/image', container: 'app' },
      {
        image: 'registry.example.com/ml/model:v3',
        field: 'spec.volumes[0].image.reference',
        pointer: '/spec/volumes/0/image/reference',
        container: 'models',
      },
    ])
    const out = await createAdmissionHandler(recordingCheck())(review(kind, object), { endpoint: 'mutate' })
    const ops = JSON.parse(Buffer.from(out.body.response.patch!, 'base64').toString('utf8'))
    const patched = applyReplacePatch(object, ops) as Review
    expect(patched.spec.volumes[0].image.reference).toBe(`registry.example.com/ml/model@${D}`)
    expect(patched.spec.containers[0].image).toBe(`registry.example.com/shop/app@${D}`)
  })

  it('an object being deleted that gains an image volume is still checked', async () => {
    const kind = { group: '', version: 'v1', kind: 'Pod' }
    const old = workload(kind, {})
    ;(old.metadata as Record<string, unknown>).deletionTimestamp = '2025-01-01T00:00:00Z'
    const object = structuredClone(old)
    ;(object.spec as Record<string, unknown>).volumes = [{ name: 'g', image: { reference: UNSIGNED } }]
    const r = review(kind, object)
    r.request.operation = 'UPDATE'
    r.request.oldObject = old
    const { check, seen } = recordingCheck()
    expect((await createAdmissionHandler({ check })(r)).body.response.allowed).toBe(false)
    expect(seen).toContain(UNSIGNED)
  })

  it('image strings in metadata are not images: annotations and labels are never pulled, so they are not checked', async () => {
    // The kubelet pulls only what the pod spec names: container images and image volume references. Annotations
    // and labels are free-form strings for people and controllers (a label value cannot even hold a '/' or ':'),
    // and an image written there runs nowhere unless a controller copies it into a pod spec, which then comes to
    // this webhook as a Pod (or workload) and is checked there. Checking them would deny on text, not on images.
    for (const kind of KINDS) {
      const object = workload(kind, {})
      object.metadata = { name: 'w', annotations: { 'example.com/image': UNSIGNED }, labels: { image: 'unsigned' } }
      const template = podSpecPath(kind)!.slice(0, -1)
      if (template.length > 0) {
        let at = object as Record<string, unknown>
        for (const p of template) at = at[p] as Record<string, unknown>
        at.metadata = { annotations: { 'example.com/image': UNSIGNED } }
      }
      const { check, seen } = recordingCheck()
      const out = await createAdmissionHandler({ check })(review(kind, object))
      expect(out.body.response.allowed).toBe(true)
      expect(seen).toEqual([GOOD])
    }
  })
})

describe('an object the webhook cannot fully read is denied (issue 14)', () => {
  const pod = { group: '', version: 'v1', kind: 'Pod' }
  const cronJob = { group: 'batch', version: 'v1', kind: 'CronJob' }

  it.each([
    [
      'a kind with no pod template (webhook registered for more than it reads)',
      { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      { spec: { replicas: 3 } },
      /unsupported kind autoscaling\/v1 Scale/,
    ],
    [
      'a custom resource with a pod template',
      { group: 'argoproj.io', version: 'v1alpha1', kind: 'Rollout' },
      workload({ group: 'apps', version: 'v1', kind: 'Deployment' }, {}),
      /unsupported kind argoproj.io\/v1alpha1 Rollout/,
    ],
    [
      'an object of another kind than the review says',
      pod,
      workload(cronJob, { initContainers: [{ name: 'g', image: UNSIGNED }] }),
      /kind "CronJob" is not the kind under review \("Pod"\)/,
    ],
    [
      'an object of another version than the review says',
      pod,
      { ...workload(pod, {}), apiVersion: 'v2' },
      /apiVersion "v2" is not that of the review \("v1"\)/,
    ],
    [
      'a pod spec without containers',
      pod,
      { apiVersion: 'v1', kind: 'Pod', spec: { volumes: [] } },
      /spec.containers must list at least one container/,
    ],
    [
      'containers that are not a list',
      pod,
      { spec: { containers: { app: { image: UNSIGNED } } } },
      /spec.containers must be an array/,
    ],
    ['a null container', pod, workload(pod, { initContainers: [null] }), /spec.initContainers\[0\] must be an object/],
    [
      'volumes that are not a list',
      pod,
      workload(pod, { volumes: { g: { image: { reference: UNSIGNED } } } }),
      /spec.volumes must be an array/,
    ],
    [
      'a volume that is not an object',
      pod,
      workload(pod, { volumes: [UNSIGNED] }),
      /spec.volumes\[0\] must be an object/,
    ],
    [
      'an image volume given as a string',
      pod,
      workload(pod, { volumes: [{ name: 'g', image: UNSIGNED }] }),
      /spec.volumes\[0\].image must be an object/,
    ],
    [
      'an image volume without a reference',
      pod,
      workload(pod, { volumes: [{ name: 'g', image: {} }] }),
      /spec.volumes\[0\].image.reference must be a non-empty string/,
    ],
    [
      'an image volume with a numeric reference',
      pod,
      workload(pod, { volumes: [{ name: 'g', image: { reference: 7 } }] }),
      /image.reference must be a non-empty string/,
    ],
    [
      'a container list differing only in case',
      pod,
      workload(pod, { InitContainers: [{ name: 'g', image: UNSIGNED }] }),
      /spec has a field "InitContainers" that is initContainers but for case/,
    ],
    [
      'a container image key differing only in case',
      pod,
      workload(pod, { initContainers: [{ name: 'g', image: GOOD, Image: UNSIGNED }] }),
      /initContainers\[0\] has a field "Image"/,
    ],
    [
      'an image volume reference key differing only in case',
      pod,
      workload(pod, { volumes: [{ name: 'g', image: { reference: GOOD, Reference: UNSIGNED } }] }),
      /volumes\[0\].image has a field "Reference"/,
    ],
    [
      'a CronJob whose job template is not an object',
      cronJob,
      { spec: { jobTemplate: [] } },
      /spec.jobTemplate must be an object/,
    ],
  ])('%s', async (_n, kind, object, message) => {
    const { check, seen } = recordingCheck()
    const out = await createAdmissionHandler({ check })(review(kind, object as Record<string, unknown>))
    expect(out.body.response.allowed).toBe(false)
    expect(out.decision).toBe('invalid')
    expect(out.body.response.status).toMatchObject({ code: 400, reason: 'BadRequest' })
    expect(out.message).toMatch(message)
    expect(seen).toEqual([])
  })
})
