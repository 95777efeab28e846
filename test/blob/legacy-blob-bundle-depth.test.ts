// Issue 14: cosign's older blob bundle is bounded to 64 levels before it is read (docs/formats.md §Input limits).
import { describe, expect, it } from 'vitest'
import { parseLegacyBlobBundle } from '../../src/blob/legacy-blob-bundle.js'
import { utf8 } from '../../src/internal/bytes.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

describe('parseLegacyBlobBundle on deeply nested input', () => {
  it('refuses 100,000 levels as text, bytes or parsed', async () => {
    for (const text of [`{"base64Signature":${nestedArrays()}}`, `{"rekorBundle":${nestedObjects()}}`]) {
      for (const input of [text, utf8(text), JSON.parse(text)]) {
        const e = await expectShapeError(() => parseLegacyBlobBundle(input), 'ERR_BUNDLE_INVALID', 'too-deep')
        expect(e.message).toBe('bundle is nested too deeply (more than 64 levels)')
      }
    }
  })
})
