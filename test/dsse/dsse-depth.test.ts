// Issue 14: DSSE envelopes are bounded to 64 levels before they are read (docs/formats.md §Input limits).
import { describe, expect, it } from 'vitest'
import { parseDSSEEnvelope } from '../../src/dsse/envelope.js'
import { utf8 } from '../../src/internal/bytes.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

describe('parseDSSEEnvelope on deeply nested input', () => {
  it('refuses 100,000 levels as bytes or parsed', async () => {
    for (const text of [`{"payloadType":${nestedArrays()}}`, `{"signatures":[${nestedObjects()}]}`]) {
      for (const input of [utf8(text), JSON.parse(text)]) {
        const e = await expectShapeError(() => parseDSSEEnvelope(input), 'ERR_DSSE_INVALID', 'too-deep')
        expect(e.message).toBe('DSSE envelope is nested too deeply (more than 64 levels)')
      }
    }
  })

  it('still reads an ordinary envelope', () => {
    const env = parseDSSEEnvelope(utf8('{"payloadType":"t","payload":"AA==","signatures":[{"sig":"AQ=="}]}'))
    expect(env.payloadType).toBe('t')
  })
})
