// Issue 14: Rekor v1 responses and the entry bodies in them are bounded to 64 levels before they are read
// (docs/formats.md §Input limits).
import { describe, expect, it } from 'vitest'
import { toBase64, utf8 } from '../../src/internal/bytes.js'
import { parseRekorLogEntry, rekorEntryUUID } from '../../src/rekor/log-entry.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

describe('parseRekorLogEntry on deeply nested input', () => {
  it('refuses a response nested 100,000 levels', async () => {
    const e = await expectShapeError(
      () => parseRekorLogEntry({ x: JSON.parse(nestedObjects()) }),
      'ERR_REKOR_HTTP',
      'too-deep',
    )
    expect(e.message).toBe('Rekor log entry is nested too deeply (more than 64 levels)')
  })

  it('refuses an entry body nested 100,000 levels', async () => {
    const body = utf8(`{"kind":${nestedArrays()}}`)
    const entry = {
      [rekorEntryUUID(body)]: { body: toBase64(body), integratedTime: 1, logID: 'ab'.repeat(32), logIndex: 1 },
    }
    const e = await expectShapeError(() => parseRekorLogEntry(entry), 'ERR_REKOR_HTTP', 'too-deep')
    expect(e.message).toBe('Rekor log entry body is nested too deeply (more than 64 levels)')
  })
})
