import { describe, expect, it } from 'vitest'
import { createAdmissionHandler } from '../../src/admission/handler.js'
import { createAdmissionMetrics } from '../../src/admission/metrics.js'
import type { ImageCheck, ImageCheckResult } from '../../src/admission/types.js'
import { CountersignError } from '../../src/errors.js'
import { applyReplacePatch, loadReview, type Review } from './fixtures.js'

const D = (n: number) => `sha256:${n.toString(16).padStart(2, '0').repeat(32)}`

/** A fake check: images containing "bad" fail, others pass at a digest derived from their position in `calls`. */
function fakeCheck(overrides: Partial<Record<string, Partial<ImageCheckResult>>> = {}) {
  const calls: { image: string; namespace?: string | undefined }[] = []
  const check: ImageCheck = async (image, context) => {
    calls.push({ image, namespace: context.namespace })
    const bad = image.includes('bad')
    return {
      image,
      allowed: !bad,
      warnings: [],
      reasons: bad ? ['no signatures found'] : [],
      ...(bad ? {} : { digest: D(calls.length) }),
      ...overrides[image],
    }
  }
  return { check, calls }
}

function withImages(name: Parameters<typeof loadReview>[0], map: Record<string, string>): Review {
  const review = loadReview(name)
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk)
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>
      for (const [k, x] of Object.entries(o)) {
        if (k === 'image' && typeof x === 'string' && map[x] !== undefined) o[k] = map[x]
        else walk(x)
      }
    }
  }
  walk(review.request.object)
  return review
}

const decodePatch = (p: string) => JSON.parse(Buffer.from(p, 'base64').toString('utf8'))

describe('createAdmissionHandler: decisions', () => {
  it('allows a Pod whose images all pass; the check sees each distinct image once with the namespace', async () => {
    const { check, calls } = fakeCheck()
    const out = await createAdmissionHandler({ check })(loadReview('pod-create'))
    expect(out.status).toBe(200)
    expect(out.decision).toBe('allowed')
    expect(out.body).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true },
    })
    expect(calls.map((c) => c.image)).toEqual([
      'registry.example.com/shop/migrate:v3',
      'registry.example.com/shop/web:v1.4.2',
      expect.stringContaining('proxy@sha256:'),
    ])
    expect(calls.every((c) => c.namespace === 'shop')).toBe(true)
  })

  it('denies, listing every failing image with its field and reasons (Deployment, duplicate image checked once)', async () => {
    const review = withImages('deployment-create', {
      'registry.example.com/shop/web:v1.4.2': 'registry.example.com/shop/bad:v1',
      'registry.example.com/shop/migrate:v3': 'registry.example.com/shop/bad-migrate:v3',
    })
    const { check, calls } = fakeCheck({
      'registry.example.com/shop/bad-migrate:v3': {
        reasons: [
          'no matching signatures: invalid signature',
          'registry.example.com/shop/bad-migrate:v3: key "a": expired',
        ],
      },
    })
    const out = await createAdmissionHandler({ check })(review)
    expect(calls).toHaveLength(2)
    expect(out.decision).toBe('denied')
    expect(out.body.response.allowed).toBe(false)
    expect(out.body.response.status).toMatchObject({ code: 403, reason: 'Forbidden' })
    expect(out.body.response.status!.message).toBe(
      [
        'countersign: admission denied: 2 of 2 image(s) failed verification',
        '- spec.template.spec.initContainers[0].image "registry.example.com/shop/bad-migrate:v3": no matching signatures: invalid signature; key "a": expired',
        '- spec.template.spec.containers[0].image, spec.template.spec.containers[1].image "registry.example.com/shop/bad:v1": no signatures found',
      ].join('\n'),
    )
  })

  it('a CronJob with one failing init container is denied; the passing container is not listed', async () => {
    const review = withImages('cronjob-create', {
      'registry.example.com/tools/fetch:2024.06': 'registry.example.com/tools/bad:1',
    })
    const out = await createAdmissionHandler(fakeCheck())(review)
    expect(out.decision).toBe('denied')
    expect(out.message).toContain(
      'spec.jobTemplate.spec.template.spec.initContainers[0].image "registry.example.com/tools/bad:1"',
    )
    expect(out.message).not.toContain('report')
  })

  it('kubectl debug: an unsigned ephemeral container is denied', async () => {
    const review = withImages('pod-ephemeral', { 'busybox:1.36': 'busybox-bad:1.36' })
    const out = await createAdmissionHandler(fakeCheck())(review)
    expect(out.decision).toBe('denied')
    expect(out.message).toContain('spec.ephemeralContainers[0].image "busybox-bad:1.36": no signatures found')
  })

  it('warn mode: failing images are allowed with one warning each; check warnings pass through, one line, clipped', async () => {
    const review = withImages('pod-create', {
      'registry.example.com/shop/web:v1.4.2': 'registry.example.com/shop/bad:v1',
    })
    const { check } = fakeCheck({
      'registry.example.com/shop/migrate:v3': { warnings: [`deprecated\npredicate ${'x'.repeat(400)}`] },
    })
    const out = await createAdmissionHandler({ check, mode: 'warn' })(review)
    expect(out.decision).toBe('allowed')
    expect(out.body.response.allowed).toBe(true)
    const warnings = out.body.response.warnings!
    expect(warnings[0]).toBe(
      'countersign (warn mode): spec.containers[0].image "registry.example.com/shop/bad:v1": no signatures found',
    )
    expect(warnings[1]).toMatch(/^deprecated predicate x+…$/)
    expect(warnings[1]!.length).toBe(256)
  })

  it('a check result that is allowed with warnings (a warn-mode policy) is allowed in enforce mode, with warnings', async () => {
    const { check } = fakeCheck({
      'registry.example.com/shop/web:v1.4.2': { warnings: ['policy p1 (warn): unsigned'] },
    })
    const out = await createAdmissionHandler({ check })(loadReview('pod-create'))
    expect(out.body.response).toMatchObject({ allowed: true, warnings: ['policy p1 (warn): unsigned'] })
  })
})

describe('createAdmissionHandler: fail closed', () => {
  it('a check that throws denies (500, InternalError) naming the image; foreign error text is not echoed', async () => {
    const check: ImageCheck = async (image) => {
      if (image.includes('web')) throw new Error('password=hunter2 leaked by a buggy check')
      if (image.includes('migrate'))
        throw new CountersignError('ERR_NETWORK', 'registry.example.com: connection refused')
      return { image, allowed: true, warnings: [], reasons: [] }
    }
    const out = await createAdmissionHandler({ check })(loadReview('pod-create'))
    expect(out.decision).toBe('error')
    expect(out.body.response.allowed).toBe(false)
    expect(out.body.response.status).toMatchObject({ code: 500, reason: 'InternalError' })
    const message = out.body.response.status!.message
    expect(message).toMatch(/^countersign: admission denied \(fail closed\): 2 of 3 image\(s\) could not be verified/)
    expect(message).toContain(
      '"registry.example.com/shop/migrate:v3": verification could not complete: registry.example.com: connection refused',
    )
    expect(message).toContain(
      '"registry.example.com/shop/web:v1.4.2": verification could not complete: internal error in the image check',
    )
    expect(JSON.stringify(out.body)).not.toContain('hunter2')
  })

  it('a check that never answers is denied at the timeout, and its signal is aborted', async () => {
    let signal: AbortSignal | undefined
    const check: ImageCheck = (_image, context) => {
      signal = context.signal
      return new Promise(() => {}) // ignores the signal on purpose
    }
    const t0 = Date.now()
    const out = await createAdmissionHandler({ check, timeoutMs: 100 })(loadReview('pod-ephemeral'))
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(out.decision).toBe('error')
    expect(out.body.response.allowed).toBe(false)
    expect(out.message).toContain('verification could not complete: timed out after 100 ms')
    expect(signal?.aborted).toBe(true)
  })

  it('a per-call timeout tighter than the handler budget applies', async () => {
    const check: ImageCheck = () => new Promise(() => {})
    const out = await createAdmissionHandler({ check, timeoutMs: 60_000 })(loadReview('pod-ephemeral'), {
      timeoutMs: 50,
    })
    expect(out.message).toContain('timed out after 50 ms')
  })

  it('an aborted request (client gone, shutdown) is denied', async () => {
    const controller = new AbortController()
    const check: ImageCheck = () => new Promise(() => {})
    const pending = createAdmissionHandler({ check })(loadReview('pod-create'), { signal: controller.signal })
    controller.abort()
    const out = await pending
    expect(out.body.response.allowed).toBe(false)
    expect(out.message).toContain('the request was aborted')
  })

  it.each([
    ['no reasons array', { allowed: true, warnings: [] }],
    ['allowed is a string', { allowed: 'yes', warnings: [], reasons: [] }],
    ['a result for another image', { image: 'other:1', allowed: true, warnings: [], reasons: [] }],
  ])('a malformed check result (%s) denies', async (_n, result) => {
    const check = (async (image: string) => ({ image, ...result })) as unknown as ImageCheck
    const out = await createAdmissionHandler({ check })(loadReview('pod-ephemeral'))
    expect(out.decision).toBe('error')
    expect(out.body.response.allowed).toBe(false)
  })

  it.each([
    ['not JSON', '{"apiVersion":'],
    ['not UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
    ['an empty object', {}],
    ['JSON null', 'null'],
    ['a v1beta1 review', JSON.stringify({ ...loadReview('pod-create'), apiVersion: 'admission.k8s.io/v1beta1' })],
  ])('a malformed review (%s) → 400, allowed false, never an allow', async (_n, body) => {
    const { check, calls } = fakeCheck()
    const out = await createAdmissionHandler({ check })(body)
    expect(out.status).toBe(400)
    expect(out.decision).toBe('invalid')
    expect(out.body.response).toMatchObject({ allowed: false, status: { code: 400, reason: 'BadRequest' } })
    expect(calls).toHaveLength(0)
  })

  it('a malformed review keeps its uid when it has one', async () => {
    const review = loadReview('pod-create')
    review.request.operation = 'SMASH'
    const out = await createAdmissionHandler(fakeCheck())(JSON.stringify(review))
    expect(out.status).toBe(400)
    expect(out.body.response.uid).toBe('705ab4f5-6393-11e8-b7cc-42010a800002')
  })

  it('a well-formed review of a broken or unsupported workload is denied (200, BadRequest status)', async () => {
    const review = loadReview('pod-create')
    review.request.object.spec.containers[0].image = ''
    const out = await createAdmissionHandler(fakeCheck())(review)
    expect(out.status).toBe(200)
    expect(out.decision).toBe('invalid')
    expect(out.body.response).toMatchObject({ allowed: false, status: { code: 400 } })
    const cm = loadReview('pod-create')
    cm.request.kind = { group: '', version: 'v1', kind: 'ConfigMap' }
    const out2 = await createAdmissionHandler(fakeCheck())(cm)
    expect(out2.body.response.allowed).toBe(false)
    expect(out2.message).toContain('unsupported kind v1 ConfigMap')
  })

  it('more distinct images than maxImages is denied without checking', async () => {
    const { check, calls } = fakeCheck()
    const out = await createAdmissionHandler({ check, maxImages: 2 })(loadReview('pod-create'))
    expect(out.body.response.allowed).toBe(false)
    expect(out.message).toContain('3 distinct images exceed the limit of 2')
    expect(calls).toHaveLength(0)
  })

  it('DELETE and updates of objects being deleted are allowed without checks', async () => {
    const { check, calls } = fakeCheck()
    const handle = createAdmissionHandler({ check })
    const del = loadReview('pod-create')
    del.request.operation = 'DELETE'
    del.request.oldObject = del.request.object
    del.request.object = null
    expect((await handle(del)).body.response.allowed).toBe(true)
    const finalizing = withImages('pod-ephemeral', { 'busybox:1.36': 'bad:1' })
    finalizing.request.object.metadata.deletionTimestamp = '2025-01-01T00:00:00Z'
    finalizing.request.oldObject = structuredClone(finalizing.request.object)
    delete finalizing.request.object.metadata.finalizers
    expect((await handle(finalizing)).body.response.allowed).toBe(true)
    expect(calls).toHaveLength(0)
  })

  it('an object being deleted whose images change is still checked', async () => {
    const { check, calls } = fakeCheck()
    const review = withImages('pod-ephemeral', { 'busybox:1.36': 'bad:1' })
    review.request.object.metadata.deletionTimestamp = '2025-01-01T00:00:00Z'
    review.request.oldObject = structuredClone(review.request.object)
    review.request.oldObject.spec.ephemeralContainers = []
    const out = await createAdmissionHandler({ check })(review)
    expect(out.body.response.allowed).toBe(false)
    expect(calls.map((c) => c.image)).toContain('bad:1')
  })
})

describe('createAdmissionHandler: mutate endpoint', () => {
  it('pins every tag to the verified digest; digest references stay; the patch applies', async () => {
    const review = loadReview('pod-create')
    const { check } = fakeCheck()
    const out = await createAdmissionHandler({ check })(review, { endpoint: 'mutate' })
    expect(out.body.response).toMatchObject({ allowed: true, patchType: 'JSONPatch' })
    const ops = decodePatch(out.body.response.patch!)
    expect(ops).toEqual([
      { op: 'replace', path: '/spec/initContainers/0/image', value: `registry.example.com/shop/migrate@${D(1)}` },
      { op: 'replace', path: '/spec/containers/0/image', value: `registry.example.com/shop/web@${D(2)}` },
    ])
    const patched = applyReplacePatch(review.request.object, ops) as Review
    expect(patched.spec.containers[1].image).toBe(review.request.object.spec.containers[1].image)
  })

  it('the same image in two containers is pinned in both places (Deployment)', async () => {
    const out = await createAdmissionHandler(fakeCheck())(loadReview('deployment-create'), { endpoint: 'mutate' })
    const ops = decodePatch(out.body.response.patch!)
    expect(ops.map((o: { path: string }) => o.path)).toEqual([
      '/spec/template/spec/initContainers/0/image',
      '/spec/template/spec/containers/0/image',
      '/spec/template/spec/containers/1/image',
    ])
    expect(ops[1].value).toBe(ops[2].value)
  })

  it('a denial on the mutate endpoint carries no patch; warn-mode failures are not pinned', async () => {
    const review = withImages('pod-ephemeral', { 'busybox:1.36': 'bad:1' })
    const denied = await createAdmissionHandler(fakeCheck())(review, { endpoint: 'mutate' })
    expect(denied.body.response.allowed).toBe(false)
    expect(denied.body.response.patch).toBeUndefined()
    const warned = await createAdmissionHandler({ ...fakeCheck(), mode: 'warn' })(review, { endpoint: 'mutate' })
    const ops = decodePatch(warned.body.response.patch!)
    expect(ops).toEqual([
      { op: 'replace', path: '/spec/containers/0/image', value: expect.stringMatching(/web@sha256:/) },
    ])
  })

  it('an allowed result with a malformed digest fails closed instead of patching garbage', async () => {
    const { check } = fakeCheck({ 'busybox:1.36': { digest: 'sha256:nothex' } })
    const out = await createAdmissionHandler({ check })(loadReview('pod-ephemeral'), { endpoint: 'mutate' })
    expect(out.body.response.allowed).toBe(false)
    expect(out.decision).toBe('error')
  })
})

describe('createAdmissionMetrics', () => {
  it('counts reviews by outcome, image checks, cache hits, and renders a histogram', async () => {
    const metrics = createAdmissionMetrics()
    const { check } = fakeCheck({ 'busybox:1.36': { cached: true } })
    const handle = createAdmissionHandler({ check })
    metrics.observe('validate', await handle(loadReview('pod-ephemeral')), 0.004)
    metrics.observe('validate', await handle(withImages('pod-ephemeral', { 'busybox:1.36': 'bad:1' })), 0.2)
    metrics.observe('mutate', await handle('garbage', { endpoint: 'mutate' }), 0.001)
    metrics.observe('mutate', undefined, 0.001)
    metrics.recordReload('policy', true)
    metrics.setReady(true)
    const text = metrics.render()
    expect(text).toContain('countersign_admission_requests_total{endpoint="validate"} 2')
    expect(text).toContain('countersign_admission_allowed_total{endpoint="validate"} 1')
    expect(text).toContain('countersign_admission_denied_total{endpoint="validate"} 1')
    expect(text).toContain('countersign_admission_denied_total{endpoint="mutate"} 2')
    expect(text).toContain('countersign_admission_errors_total{endpoint="mutate"} 2')
    expect(text).toContain('countersign_admission_image_checks_total 4')
    expect(text).toContain('countersign_admission_cache_hits_total 1')
    expect(text).toContain('countersign_admission_reloads_total{what="policy",result="success"} 1')
    expect(text).toContain('countersign_admission_ready 1')
    expect(text).toContain('countersign_admission_request_duration_seconds_bucket{endpoint="validate",le="0.005"} 1')
    expect(text).toContain('countersign_admission_request_duration_seconds_bucket{endpoint="validate",le="0.25"} 2')
    expect(text).toContain('countersign_admission_request_duration_seconds_bucket{endpoint="validate",le="+Inf"} 2')
    expect(text).toContain('countersign_admission_request_duration_seconds_count{endpoint="mutate"} 2')
    // Exposition format: every sample line is `name{labels} value` or `name value`.
    for (const line of text.trimEnd().split('\n'))
      expect(line).toMatch(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [0-9.e+-]+)$/)
  })
})
