import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseReference, repositoryName } from '../../src/oci/reference.js'
import { createSimpleSigningPayload, parseSimpleSigningPayload } from '../../src/signature/simple-signing.js'

const dir = new URL('../vectors/cosign/', import.meta.url)
const vectors = JSON.parse(readFileSync(new URL('simplesigning-marshal-vectors.json', dir), 'utf8')) as {
  vectors: {
    source: string
    image: string
    claimedIdentity: string | null
    annotations: Record<string, never> | null
    expected: string
  }[]
}
const dec = new TextDecoder()

describe('simple-signing payload', () => {
  for (const v of vectors.vectors) {
    it(`matches cosign byte for byte: ${v.source}`, () => {
      const ref = parseReference(v.image)
      const bytes = createSimpleSigningPayload(v.claimedIdentity ?? repositoryName(ref), ref.digest!, v.annotations)
      expect(dec.decode(bytes)).toBe(v.expected)
    })
  }

  it('is the generated fixture payload exactly (247 bytes, no newline)', () => {
    const expected = readFileSync(new URL('simplesigning-payload.json', dir))
    const ref = parseReference(
      'docker.io/namespace/image@sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec',
    )
    const bytes = createSimpleSigningPayload(repositoryName(ref), ref.digest!)
    expect(bytes.length).toBe(247)
    expect(Buffer.from(bytes).equals(expected)).toBe(true)
  })

  it('writes "optional":null for an empty annotation map', () => {
    expect(dec.decode(createSimpleSigningPayload('r/x', 'sha256:00', {}))).toMatch(/"optional":null}$/)
  })

  it('escapes like Go (HTML characters, U+2028) and sorts keys by UTF-8 bytes', () => {
    const s = dec.decode(
      createSimpleSigningPayload('r/x', 'sha256:00', { b: '<a&b>', a: '\u2028\n', '\u{1F600}': 'x', '\uFFFD': 'y' }),
    )
    expect(s).toContain('"optional":{"a":"\\u2028\\n","b":"\\u003ca\\u0026b\\u003e","\uFFFD":"y","\u{1F600}":"x"}')
  })

  it('parses what cosign verify reads and ignores the type, as SimpleClaimVerifier does', () => {
    const neg = JSON.parse(readFileSync(new URL('simplesigning-unmarshal-vectors.json', dir), 'utf8'))[0]
    const p = parseSimpleSigningPayload(new TextEncoder().encode(neg.payload))
    expect(p.critical.type).toBe('atomic container signature')
    expect(p.critical.image['docker-manifest-digest']).toMatch(/^sha256:d34db33f/)
  })

  it.each([
    ['not JSON', '{"critical":'],
    ['no digest', '{"critical":{"image":{}}}'],
    ['array', '[]'],
    ['digest not a string', '{"critical":{"image":{"docker-manifest-digest":1}}}'],
  ])('rejects a payload that is %s', (_, text) => {
    expect(() => parseSimpleSigningPayload(new TextEncoder().encode(text))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })
})
