// Issue 14: the work one AdmissionReview can cause is bounded (nesting, image count, reference length, time), and
// whatever exceeds a bound is denied with a reason instead of crashing (RangeError) or being allowed.
import { describe, expect, it } from 'vitest'
import { runChecks } from '../../src/admission/checks.js'
import { createAdmissionHandler } from '../../src/admission/handler.js'
import { parseAdmissionReview } from '../../src/admission/review.js'
import type { ImageCheck } from '../../src/admission/types.js'
import { loadReview, type Review } from './fixtures.js'

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002'

function countingCheck() {
  const seen: string[] = []
  const check: ImageCheck = async (image) => {
    seen.push(image)
    const bad = image.includes('bad')
    return { image, allowed: !bad, warnings: [], reasons: bad ? ['no signatures found'] : [] }
  }
  return { check, seen }
}

/** `{"a":{"a":…leaf…}}`, `depth` objects deep, as JSON text (building it as a value would need recursion). */
const deepObject = (depth: number, leaf = '1') => `${'{"a":'.repeat(depth)}${leaf}${'}'.repeat(depth)}`
const deepArray = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`

/** The Pod review as text with `insert` spliced in right after `after`. */
function podWith(after: string, insert: string): string {
  const text = JSON.stringify(loadReview('pod-create'))
  const at = text.indexOf(after)
  if (at < 0) throw new Error(`${after} not in the fixture`)
  return text.slice(0, at + after.length) + insert + text.slice(at + after.length)
}

/** The Pod review as text with the value `from` (which must be there) replaced by `to`. */
function podReplacing(from: string, to: string): string {
  const text = JSON.stringify(loadReview('pod-create'))
  if (!text.includes(from)) throw new Error(`${from} not in the fixture`)
  return text.replace(from, () => to)
}

describe('deeply nested reviews are malformed (400), never a RangeError, never allowed', () => {
  // JSON.parse is iterative in V8 and accepts these; JSON.stringify (which the apiVersion error message used to call)
  // and any other recursive walk overflow the stack a couple of thousand levels down.
  const DEEP = 50_000
  it.each([
    ['in metadata', podWith('"metadata":{', `"x":${deepObject(DEEP)},`)],
    ['in an annotation value', podWith('"metadata":{', `"annotations":{"x":${deepArray(DEEP)}},`)],
    ['in a container field', podWith('"containers":[{', `"env":${deepArray(DEEP)},`)],
    ['as a container image', podReplacing('"registry.example.com/shop/web:v1.4.2"', deepObject(DEEP, '"x"'))],
    [
      'as the apiVersion (was a RangeError in the error message)',
      podReplacing('"admission.k8s.io/v1"', deepObject(DEEP)),
    ],
    ['in request.kind', podWith('"kind":{', `"x":${deepArray(DEEP)},`)],
    ['in the oldObject', podReplacing('"oldObject":null', `"oldObject":${deepObject(DEEP)}`)],
  ])('%s', async (_n, body) => {
    const { check, seen } = countingCheck()
    const handle = createAdmissionHandler({ check })
    for (const input of [body, new TextEncoder().encode(body), JSON.parse(body)]) {
      const out = await handle(input)
      expect(out.status).toBe(400)
      expect(out.decision).toBe('invalid')
      expect(out.body.response).toMatchObject({ allowed: false, status: { code: 400, reason: 'BadRequest' } })
      expect(out.message).toBe('AdmissionReview is nested too deeply (more than 256 levels)')
      expect(out.uid).toBe(UID)
      // The answer is a plain AdmissionReview that serializes.
      expect(() => JSON.stringify(out.body)).not.toThrow()
    }
    expect(seen).toEqual([])
  })

  it('nesting within the bound is read as before', async () => {
    const out = await createAdmissionHandler(countingCheck())(podWith('"metadata":{', `"x":${deepObject(200)},`))
    expect(out.body.response.allowed).toBe(true)
  })

  it('a review handed in already parsed that refers to itself is malformed too', async () => {
    const review = loadReview('pod-create')
    review.request.object.metadata.self = review
    expect(() => parseAdmissionReview(review)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT', message: expect.stringContaining('nested too deeply') }),
    )
    const out = await createAdmissionHandler(countingCheck())(review)
    expect(out.status).toBe(400)
    expect(out.body.response.allowed).toBe(false)
  })

  it('a non-string apiVersion is quoted, clipped, in the error', () => {
    const review = { ...loadReview('pod-create'), apiVersion: { v: 'x'.repeat(1000) } }
    expect(() => parseAdmissionReview(review)).toThrow(/apiVersion must be admission.k8s.io\/v1, got \{"v":"x+…$/)
  })
})

describe('per-review caps, denied with a reason', () => {
  /** The Pod fixture with `n` containers running `image(i)`. */
  function manyContainers(n: number, image: (i: number) => string): Review {
    const review = loadReview('pod-create')
    review.request.object.spec.containers = Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: image(i) }))
    return review
  }

  it('more than 1024 image fields is denied without checking, even for one distinct image', async () => {
    const { check, seen } = countingCheck()
    const out = await createAdmissionHandler({ check })(manyContainers(2000, () => 'registry.example.com/a:1'))
    expect(out.body.response.allowed).toBe(false)
    expect(out.decision).toBe('invalid')
    expect(out.message).toBe('countersign: admission denied: 2001 image fields exceed the limit of 1024')
    expect(seen).toEqual([])
  })

  it('a maxImages above 1024 raises the field limit with it', async () => {
    const out = await createAdmissionHandler({ ...countingCheck(), maxImages: 3000 })(
      manyContainers(2000, () => 'registry.example.com/a:1'),
    )
    expect(out.body.response.allowed).toBe(true)
  })

  it('more distinct images than maxImages (default 256) is denied without checking', async () => {
    const { check, seen } = countingCheck()
    const out = await createAdmissionHandler({ check })(manyContainers(300, (i) => `registry.example.com/a:${i}`))
    expect(out.message).toBe('countersign: admission denied: 301 distinct images exceed the limit of 256')
    expect(seen).toEqual([])
  })

  it('a reference longer than 1024 characters is denied without matching it', async () => {
    const { check, seen } = countingCheck()
    const long = `registry.example.com/${'a'.repeat(1100)}:1`
    const review = loadReview('pod-create')
    review.request.object.spec.containers[0].image = long
    const out = await createAdmissionHandler({ check })(review)
    expect(out.body.response).toMatchObject({ allowed: false, status: { code: 400 } })
    expect(out.message).toBe(
      'countersign: admission denied: invalid workload: spec.containers[0].image is longer than 1024 characters',
    )
    expect(seen).toEqual([])
  })

  it('one image in many containers names its first fields, then a count; each failing image gets its own line', async () => {
    const review = manyContainers(10, (i) =>
      i === 9 ? 'registry.example.com/other-bad:1' : 'registry.example.com/bad:1',
    )
    const out = await createAdmissionHandler(countingCheck())(review)
    const fields = [0, 1, 2, 3].map((i) => `spec.containers[${i}].image`).join(', ')
    expect(out.message).toBe(
      [
        'countersign: admission denied: 2 of 3 image(s) failed verification',
        `- ${fields}, … and 5 more "registry.example.com/bad:1": no signatures found`,
        '- spec.containers[9].image "registry.example.com/other-bad:1": no signatures found',
      ].join('\n'),
    )
  })
})

describe('the time budget holds even when checks never yield to the event loop', () => {
  /** Burn `ms` of CPU synchronously, as slow policy matching would. */
  const spin = (ms: number) => {
    const end = Date.now() + ms
    while (Date.now() < end) {
      // busy
    }
  }

  it('checks that answer synchronously (cache hits, matching) stop being started once the budget is spent', async () => {
    const started: string[] = []
    // An async function without an await: each answer is a resolved promise, so only microtasks run between checks
    // and a timer could never fire.
    const check: ImageCheck = async (image) => {
      started.push(image)
      spin(30)
      return { image, allowed: true, warnings: [], reasons: [] }
    }
    const images = Array.from({ length: 20 }, (_, i) => `registry.example.com/a:${i}`)
    const t0 = Date.now()
    const settled = await runChecks(images, { check, concurrency: 1, budgetMs: 100 })
    expect(Date.now() - t0).toBeLessThan(20 * 30)
    expect(started.length).toBeLessThan(images.length)
    const timedOut = settled.filter((s) => 'error' in s)
    expect(timedOut.length).toBe(images.length - started.length)
    for (const s of timedOut) expect(s).toMatchObject({ error: 'timed out after 100 ms' })
  })

  it('through the handler the review is denied (fail closed) naming the images that timed out', async () => {
    const check: ImageCheck = async (image) => {
      spin(40)
      return { image, allowed: true, warnings: [], reasons: [] }
    }
    const out = await createAdmissionHandler({ check, timeoutMs: 50, concurrency: 1 })(loadReview('pod-create'))
    expect(out.body.response).toMatchObject({ allowed: false, status: { code: 500 } })
    expect(out.message).toContain('timed out after 50 ms')
  })
})
