// Issue 18: admission answers list a bounded number of reasons per image, however many a check returns.
import { describe, expect, it } from 'vitest'
import { createAdmissionHandler } from '../../src/admission/handler.js'
import { MAX_MESSAGE_LENGTH, reasonsOf } from '../../src/admission/messages.js'
import { loadReview } from './fixtures.js'

describe('admission messages: bounded reasons', () => {
  it('lists the first 16 reasons of an image, then a count', () => {
    const reasons = Array.from({ length: 10_000 }, (_, i) => `app:1: reason ${i}`)
    const line = reasonsOf({ image: 'app:1', allowed: false, reasons, warnings: [] })
    expect(line).toBe(`${Array.from({ length: 16 }, (_, i) => `reason ${i}`).join('; ')}; … and 9984 more`)
    // Few reasons: as before, all of them.
    expect(reasonsOf({ image: 'app:1', allowed: false, reasons: ['app:1: a', 'b'], warnings: [] })).toBe('a; b')
  })

  it('a check returning thousands of long reasons gives a denial within the message bound', async () => {
    const long = 'x'.repeat(50_000)
    const handler = createAdmissionHandler({
      check: async (image) => ({ image, allowed: false, reasons: new Array(10_000).fill(long), warnings: [] }),
    })
    const out = await handler(loadReview('pod-create'))
    expect(out.body.response.allowed).toBe(false)
    const message = out.body.response.status?.message ?? ''
    expect(message.length).toBeLessThanOrEqual(MAX_MESSAGE_LENGTH)
    expect(message).toContain('failed verification')
  })
})
