// Issue 14: trusted roots and signing configs are bounded (4 MiB, 64 levels) before they are read
// (docs/formats.md §Input limits).
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/internal/bytes.js'
import { parseSigningConfig } from '../../src/trust/signing-config.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

const rootText = readFileSync(
  join(resolve(import.meta.dirname, '../vectors/bundles'), 'conformance-happy-path-v0.3/trusted_root.json'),
  'utf8',
)

describe('trust documents on deeply nested input', () => {
  const parsers = [
    ['trusted root', parseTrustedRoot],
    ['signing config', parseSigningConfig],
  ] as const
  for (const [what, parse] of parsers) {
    it(`${what}: 100,000 levels as text, bytes or a parsed value give a coded error`, async () => {
      for (const text of [`{"mediaType":${nestedArrays()}}`, `{"tlogs":[${nestedObjects()}]}`]) {
        for (const input of [text, utf8(text), JSON.parse(text)]) {
          const e = await expectShapeError(() => parse(input), 'ERR_INVALID_INPUT', 'too-deep')
          expect(e.message).toBe(`${what} is nested too deeply (more than 64 levels)`)
        }
      }
    })
    it(`${what}: more than 4 MiB is too large, and a shallow odd mediaType is quoted clipped`, async () => {
      await expectShapeError(() => parse(' '.repeat(4 * 1024 * 1024 + 1)), 'ERR_INVALID_INPUT', 'too-large')
      expect(() => parse(`{"mediaType":${nestedArrays(30)}}`)).toThrow(/unsupported media type \[\[\[/)
    })
  }

  it('still reads a conformance trusted root', () => {
    expect(parseTrustedRoot(rootText).tlogs.length).toBeGreaterThan(0)
  })
})
