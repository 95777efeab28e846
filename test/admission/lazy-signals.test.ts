// A review answered without waiting makes no AbortSignal and reads none (Node 20 makes them dearly, and each one kept
// the review reachable past young-generation collections; docs/admission.md, "Latency"), while a check that waits
// still gets a signal that the caller's abort and the budget reach. Also guards the hidden-class trap: every
// review's outcome must share one hidden class.
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAdmissionHandler } from '../../src/admission/handler.js'
import type { ImageCheck } from '../../src/admission/types.js'
import { runNativesScript, srcURL } from '../support/natives-script.js'
import { loadReview } from './fixtures.js'

const allowAll: ImageCheck = async (image) => ({ image, allowed: true, reasons: [], warnings: [], cached: true })

/** Counts AbortSignals made through AbortController while a test runs. */
let signalsMade = 0
const original = Object.getOwnPropertyDescriptor(AbortController.prototype, 'signal')!
beforeEach(() => {
  signalsMade = 0
  const seen = new WeakSet<object>()
  Object.defineProperty(AbortController.prototype, 'signal', {
    ...original,
    get(this: AbortController) {
      if (!seen.has(this)) {
        seen.add(this)
        signalsMade++
      }
      return original.get!.call(this)
    },
  })
})
afterEach(() => {
  Object.defineProperty(AbortController.prototype, 'signal', original)
})

/** A call whose signal is made on demand, as the webhook's (and counts how often it is asked for). */
function lazyCall() {
  const controller = new AbortController()
  const call = {
    reads: 0,
    endpoint: 'validate' as const,
    get signal() {
      call.reads++
      return controller.signal
    },
    abort: (reason?: unknown) => controller.abort(reason),
  }
  return call
}

describe('signals made only when needed', () => {
  it("a review whose checks answer at once makes no AbortSignal and never reads the caller's", async () => {
    const handle = createAdmissionHandler({ check: allowAll })
    const call = lazyCall()
    const out = await handle(loadReview('pod-ephemeral'), call)
    expect(out.decision).toBe('allowed')
    expect(call.reads).toBe(0)
    expect(signalsMade).toBe(0)
  })

  it("a check that reads its signal gets one the caller's abort reaches", async () => {
    let seen: AbortSignal | undefined
    const check: ImageCheck = (_image, context) =>
      new Promise((_, reject) => {
        seen = context.signal as AbortSignal
        seen.addEventListener('abort', () => reject(seen!.reason))
      })
    const call = lazyCall()
    const pending = createAdmissionHandler({ check })(loadReview('pod-create'), call)
    await new Promise((r) => setTimeout(r, 5))
    expect(call.reads).toBe(1)
    call.abort()
    const out = await pending
    expect(out.message).toContain('the request was aborted')
    expect(seen?.aborted).toBe(true)
  })

  it('a caller already aborted stops a check that ignores its signal at the first tick', async () => {
    const call = lazyCall()
    call.abort()
    const t0 = Date.now()
    const out = await createAdmissionHandler({ check: () => new Promise(() => {}), timeoutMs: 60_000 })(
      loadReview('pod-create'),
      call,
    )
    expect(Date.now() - t0).toBeLessThan(1000)
    expect(out.body.response.allowed).toBe(false)
    expect(out.message).toContain('the request was aborted')
  })

  it('the budget still aborts the signal a waiting check read', async () => {
    let seen: AbortSignal | undefined
    const check: ImageCheck = (_image, context) => {
      seen = context.signal as AbortSignal
      return new Promise(() => {})
    }
    const out = await createAdmissionHandler({ check, timeoutMs: 30 })(loadReview('pod-create'), lazyCall())
    expect(out.message).toContain('timed out after 30 ms')
    expect(seen?.aborted).toBe(true)
  })
})

describe('hidden classes', () => {
  it('every review outcome shares one hidden class once the handler is optimised', () => {
    const result = runNativesScript<{ changes: number }>([
      `import { createAdmissionHandler } from ${srcURL('admission/handler.js')}`,
      `import { readFileSync } from 'node:fs'`,
      `const review = readFileSync(${JSON.stringify(join(import.meta.dirname, 'fixtures', 'pod-ephemeral.json'))})`,
      'const check = async (image: string) => ({ image, allowed: true, reasons: [], warnings: [], cached: true })',
      'const handle = createAdmissionHandler({ check })',
      'const sameMap = new Function("a", "b", "return %HaveSameMap(a, b)")',
      'let last: unknown',
      'let changes = 0',
      'for (let i = 0; i < 4000; i++) {',
      '  const out = await handle(new Uint8Array(review), { endpoint: "validate" })',
      '  if (i >= 3000 && !sameMap(out, last)) changes++',
      '  last = out',
      '}',
      'console.log(JSON.stringify({ changes }))',
    ])
    expect(result).toEqual({ changes: 0 })
  }, 60_000)
})
