import { describe, expect, it } from 'vitest'
import { workloadImages } from '../../src/admission/images.js'
import { pinImagesPatch, pinnedReference } from '../../src/admission/patch.js'
import { denyResponse, parseAdmissionReview, reviewUID } from '../../src/admission/review.js'
import { applyReplacePatch, loadReview } from './fixtures.js'

const D = `sha256:${'ab'.repeat(32)}`

describe('parseAdmissionReview (AdmissionReview v1 as the API server sends it)', () => {
  it('reads the fields the webhook needs from a Pod CREATE review', () => {
    const r = parseAdmissionReview(loadReview('pod-create'))
    expect(r).toMatchObject({
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'shop',
      name: 'web-7d9c8',
      operation: 'CREATE',
      dryRun: false,
    })
    expect(r.object?.kind).toBe('Pod')
  })

  it('keeps the subresource of a kubectl debug (ephemeralcontainers) review', () => {
    expect(parseAdmissionReview(loadReview('pod-ephemeral'))).toMatchObject({
      subResource: 'ephemeralcontainers',
      operation: 'UPDATE',
    })
  })

  it.each([
    ['not an object', 'nope', /not a JSON object/],
    ['v1beta1', { ...loadReview('pod-create'), apiVersion: 'admission.k8s.io/v1beta1' }, /apiVersion must be/],
    ['wrong kind', { ...loadReview('pod-create'), kind: 'TokenReview' }, /kind must be AdmissionReview/],
    ['no request', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, /request is missing/],
    [
      'no uid',
      (() => {
        const r = loadReview('pod-create')
        delete r.request.uid
        return r
      })(),
      /request.uid/,
    ],
    [
      'odd operation',
      (() => {
        const r = loadReview('pod-create')
        r.request.operation = 'PATCH'
        return r
      })(),
      /not an admission operation/,
    ],
    [
      'CREATE without object',
      (() => {
        const r = loadReview('pod-create')
        r.request.object = null
        return r
      })(),
      /object is required for CREATE/,
    ],
    [
      'object is an array',
      (() => {
        const r = loadReview('pod-create')
        r.request.object = []
        return r
      })(),
      /request.object must be an object/,
    ],
    [
      'huge uid',
      (() => {
        const r = loadReview('pod-create')
        r.request.uid = 'x'.repeat(5000)
        return r
      })(),
      /request.uid/,
    ],
  ])('rejects %s with ERR_INVALID_INPUT', (_name, review, message) => {
    expect(() => parseAdmissionReview(review)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT', message: expect.stringMatching(message) }),
    )
  })

  it('reviewUID recovers the uid of a review that is otherwise broken', () => {
    expect(reviewUID({ request: { uid: 'u-1', kind: 7 } })).toBe('u-1')
    expect(reviewUID({ request: { uid: 42 } })).toBeUndefined()
    expect(reviewUID(null)).toBeUndefined()
  })

  it('denyResponse is an AdmissionReview v1 with allowed false and a status', () => {
    expect(denyResponse('u', 'no', { warnings: ['w'] })).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: 'u',
        allowed: false,
        status: { code: 403, reason: 'Forbidden', message: 'no' },
        warnings: ['w'],
      },
    })
  })
})

describe('workloadImages', () => {
  it('Pod: init containers, containers (digest references too), with JSON pointers', () => {
    const r = parseAdmissionReview(loadReview('pod-create'))
    expect(workloadImages(r.kind, r.object!)).toEqual([
      {
        image: 'registry.example.com/shop/migrate:v3',
        field: 'spec.initContainers[0].image',
        pointer: '/spec/initContainers/0/image',
        container: 'migrate',
      },
      {
        image: 'registry.example.com/shop/web:v1.4.2',
        field: 'spec.containers[0].image',
        pointer: '/spec/containers/0/image',
        container: 'web',
      },
      {
        image: expect.stringMatching(/^registry.example.com\/shop\/proxy@sha256:/),
        field: 'spec.containers[1].image',
        pointer: '/spec/containers/1/image',
        container: 'sidecar',
      },
    ])
  })

  it('Pod ephemeralcontainers subresource: the debug container is found', () => {
    const r = parseAdmissionReview(loadReview('pod-ephemeral'))
    expect(workloadImages(r.kind, r.object!).map((i) => [i.image, i.pointer])).toEqual([
      ['registry.example.com/shop/web:v1.4.2', '/spec/containers/0/image'],
      ['busybox:1.36', '/spec/ephemeralContainers/0/image'],
    ])
  })

  it('Deployment: the pod template, same image twice listed twice', () => {
    const r = parseAdmissionReview(loadReview('deployment-create'))
    expect(workloadImages(r.kind, r.object!).map((i) => i.field)).toEqual([
      'spec.template.spec.initContainers[0].image',
      'spec.template.spec.containers[0].image',
      'spec.template.spec.containers[1].image',
    ])
  })

  it('CronJob: the job template inside the cron job', () => {
    const r = parseAdmissionReview(loadReview('cronjob-create'))
    expect(workloadImages(r.kind, r.object!).map((i) => i.pointer)).toEqual([
      '/spec/jobTemplate/spec/template/spec/initContainers/0/image',
      '/spec/jobTemplate/spec/template/spec/containers/0/image',
    ])
  })

  it.each([
    ['apps', 'ReplicaSet'],
    ['apps', 'StatefulSet'],
    ['apps', 'DaemonSet'],
    ['batch', 'Job'],
    ['', 'ReplicationController'],
  ])('%s %s: spec.template.spec', (group, kind) => {
    const obj = { spec: { template: { spec: { containers: [{ name: 'a', image: 'a:1' }] } } } }
    expect(workloadImages({ group, version: 'v1', kind }, obj)).toEqual([
      {
        image: 'a:1',
        field: 'spec.template.spec.containers[0].image',
        pointer: '/spec/template/spec/containers/0/image',
        container: 'a',
      },
    ])
  })

  it.each([
    [
      'an unsupported kind',
      { group: '', version: 'v1', kind: 'ConfigMap' },
      { data: {} },
      /unsupported kind v1 ConfigMap/,
    ],
    [
      'a missing template',
      { group: 'apps', version: 'v1', kind: 'Deployment' },
      { spec: {} },
      /spec.template must be an object/,
    ],
    [
      'containers not a list',
      { group: '', version: 'v1', kind: 'Pod' },
      { spec: { containers: {} } },
      /spec.containers must be an array/,
    ],
    [
      'a container without image',
      { group: '', version: 'v1', kind: 'Pod' },
      { spec: { containers: [{ name: 'x' }] } },
      /spec.containers\[0\].image must be a non-empty string/,
    ],
    [
      'a numeric image',
      { group: '', version: 'v1', kind: 'Pod' },
      { spec: { initContainers: [{ image: 7 }] } },
      /initContainers\[0\].image/,
    ],
  ])('throws ERR_INVALID_INPUT for %s (so the webhook denies)', (_n, kind, obj, message) => {
    expect(() => workloadImages(kind, obj)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT', message: expect.stringMatching(message) }),
    )
  })
})

describe('pinning tags to digests', () => {
  it.each([
    ['nginx', `nginx@${D}`],
    ['nginx:1.27', `nginx@${D}`],
    ['registry.example.com:5000/shop/web:v1', `registry.example.com:5000/shop/web@${D}`],
    ['localhost:5000/app', `localhost:5000/app@${D}`],
    [`ghcr.io/a/b@${D.replace('ab', 'cd')}`, `ghcr.io/a/b@${D.replace('ab', 'cd')}`],
  ])('%s → %s', (image, pinned) => {
    expect(pinnedReference(image, D)).toBe(pinned)
  })

  it('refuses a malformed digest and a malformed reference', () => {
    expect(() => pinnedReference('nginx:1', 'sha256:zz')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(() => pinnedReference('UPPER/case:1', D)).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_REFERENCE_INVALID' }),
    )
  })

  it('the patch applies to the CronJob and replaces exactly the tag references', () => {
    const review = loadReview('cronjob-create')
    const r = parseAdmissionReview(review)
    const images = workloadImages(r.kind, r.object!)
    const ops = pinImagesPatch(images, (i) => (i.includes('report') ? D : undefined))
    expect(ops).toEqual([
      {
        op: 'replace',
        path: '/spec/jobTemplate/spec/template/spec/containers/0/image',
        value: `registry.example.com/shop/report@${D}`,
      },
    ])
    const patched = applyReplacePatch(r.object, ops) as typeof review.request.object
    expect(patched.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(
      `registry.example.com/shop/report@${D}`,
    )
    expect(patched.spec.jobTemplate.spec.template.spec.initContainers[0].image).toBe(
      'registry.example.com/tools/fetch:2024.06',
    )
  })
})
