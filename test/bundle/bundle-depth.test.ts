// Issue 14: a bundle with a deeply nested value where `mediaType` or an inclusion proof is expected overflowed the
// stack (RangeError) while the error message was built with `String(value)`; a 2 MB body took 1–2.5 s. Bundles
// nested past 64 levels are now refused first (docs/formats.md §Input limits).
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseBundle } from '../../src/bundle/bundle.js'
import { fromBase64, toBase64, utf8 } from '../../src/internal/bytes.js'
import { readEntryBody } from '../../src/rekor/body.js'
import { parseTransparencyLogEntry } from '../../src/rekor/entry.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

const vectors = resolve(import.meta.dirname, '../vectors/bundles')
const happyText = readFileSync(join(vectors, 'conformance-happy-path-v0.3/bundle.sigstore.json'), 'utf8')
const happy = () => JSON.parse(happyText) as { verificationMaterial: { tlogEntries: Record<string, unknown>[] } }
/** The happy bundle with `hole` (a JSON text) at `path` of its first tlog entry, or at `mediaType`. */
function withNested(where: 'mediaType' | 'inclusionProof' | 'checkpoint', hole: string): Uint8Array {
  const marker = '"__HOLE__"'
  const doc = happy() as Record<string, unknown> & ReturnType<typeof happy>
  const entry = doc.verificationMaterial.tlogEntries[0]!
  if (where === 'mediaType') doc.mediaType = '__HOLE__'
  else if (where === 'inclusionProof') entry.inclusionProof = '__HOLE__'
  else (entry.inclusionProof as Record<string, unknown>).checkpoint = '__HOLE__'
  return utf8(JSON.stringify(doc).replace(marker, hole))
}

describe('parseBundle on deeply nested input', () => {
  for (const where of ['mediaType', 'inclusionProof', 'checkpoint'] as const) {
    for (const [shape, hole] of [
      ['arrays', nestedArrays()],
      ['objects', nestedObjects()],
    ]) {
      it(`refuses 100,000 levels of ${shape} at ${where}, from bytes and parsed`, async () => {
        const bytes = withNested(where, hole!)
        const e = await expectShapeError(() => parseBundle(bytes), 'ERR_BUNDLE_INVALID', 'too-deep')
        expect(e.message).toBe('bundle is nested too deeply (more than 64 levels)')
        const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes))
        await expectShapeError(() => parseBundle(parsed), 'ERR_BUNDLE_INVALID', 'too-deep')
      })
    }
  }

  it('refuses a 2 MB body of nested brackets quickly', async () => {
    const body = utf8(`{"mediaType":${nestedArrays(1_000_000)}}`)
    expect(body.length).toBeGreaterThan(2_000_000)
    await expectShapeError(() => parseBundle(body), 'ERR_BUNDLE_INVALID', 'too-deep')
  })

  it('describes a mediaType that is not a string as clipped JSON, never through String()', () => {
    const shallow = withNested('mediaType', nestedArrays(40))
    expect(() => parseBundle(shallow)).toThrow(/^unsupported bundle media type: \[\[\[\[/)
    const wide = withNested('mediaType', JSON.stringify(Array.from({ length: 100_000 }, (_, i) => i)))
    try {
      parseBundle(wide)
      expect.unreachable()
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(300)
    }
    expect(() => parseBundle(withNested('mediaType', '"application/x-other"'))).toThrow(
      'unsupported bundle media type: application/x-other',
    )
  })

  it('still reads the conformance bundles', () => {
    expect(parseBundle(utf8(happyText)).version).toBe('0.3')
    expect(parseBundle(happy()).tlogEntries).toHaveLength(1)
  })
})

describe('transparency log entries on deeply nested input', () => {
  it('parseTransparencyLogEntry refuses a nested inclusion proof handed in parsed', async () => {
    const entry = { ...happy().verificationMaterial.tlogEntries[0], inclusionProof: JSON.parse(nestedObjects()) }
    const e = await expectShapeError(() => parseTransparencyLogEntry(entry), 'ERR_BUNDLE_INVALID', 'too-deep', {
      check: 'entry',
    })
    expect(e.message).toBe('transparency log entry is nested too deeply (more than 64 levels)')
  })

  it('readEntryBody refuses a nested body, and names a kind that is not a string without String()', async () => {
    const raw = happy().verificationMaterial.tlogEntries[0]!
    const body = JSON.parse(new TextDecoder().decode(fromBase64(raw.canonicalizedBody as string)))
    const withBody = (text: string) => parseTransparencyLogEntry({ ...raw, canonicalizedBody: toBase64(utf8(text)) })
    const deep = withBody(`{"kind":${nestedArrays()}}`)
    await expectShapeError(() => readEntryBody(deep), 'ERR_TLOG_ENTRY_MISMATCH', 'too-deep', { check: 'body' })
    const shallow = withBody(JSON.stringify({ ...body, kind: JSON.parse(nestedArrays(30)) }))
    expect(() => readEntryBody(shallow)).toThrow(/kind\/version \[\[\[\[/)
  })
})
