// Issue 14: in-toto statements are bounded to 128 levels (the predicate is free-form) before they are read, and an
// unknown `_type` is described without `String()` (docs/formats.md §Input limits).
import { describe, expect, it } from 'vitest'
import { parseStatement } from '../../src/attestation/statement.js'
import { utf8 } from '../../src/internal/bytes.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

const statement = (predicate: string) =>
  utf8(
    `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"t","predicate":${predicate}}`,
  )

describe('parseStatement on deeply nested input', () => {
  it('refuses 100,000 levels in the predicate or at _type', async () => {
    for (const bytes of [statement(nestedObjects()), utf8(`{"_type":${nestedArrays()}}`)]) {
      const e = await expectShapeError(() => parseStatement(bytes), 'ERR_INVALID_INPUT', 'too-deep')
      expect(e.message).toBe('in-toto statement is nested too deeply (more than 128 levels)')
    }
  })

  it('accepts a predicate 100 levels deep, and quotes an odd _type clipped', () => {
    expect(parseStatement(statement(nestedObjects(100))).predicateType).toBe('t')
    expect(() => parseStatement(utf8(`{"_type":${nestedArrays(50)}}`))).toThrow(/statement type: \[\[\[/)
    expect(() => parseStatement(utf8('{"_type":"x"}'))).toThrow('unknown in-toto statement type: x')
  })
})
