/**
 * Deeply nested DER: the DER reader (src/internal/der.ts) is lazy and schema-driven — a parser descends only into
 * the positions its ASN.1 schema names, one level per step, so nesting depth in the input never becomes recursion
 * depth. These tests pin that: 100,000 levels of constructed elements, at the top and in the slot a schema does
 * descend into, fail at once with a coded error, never a RangeError (stack) or a long walk.
 */
import { describe, expect, test } from 'vitest'
import { CountersignError } from '../../src/errors.js'
import { ecdsaDERToP1363, parsePrivateKey, parsePublicKey } from '../../src/keys/index.js'
import { parseTimestamp } from '../../src/timestamp/index.js'
import { parseCertificate } from '../../src/x509/index.js'

const DEPTH = 100_000

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n]
  const out: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff)
  return [0x80 | out.length, ...out]
}

/** `depth` levels of `tag` around `inner`, built inside-out in linear time. */
function nested(depth: number, tag: number, inner: Uint8Array = Uint8Array.of(0x05, 0x00)): Uint8Array {
  const headers: number[][] = []
  let length = inner.length
  for (let i = 0; i < depth; i++) {
    const header = [tag, ...lengthBytes(length)]
    headers.push(header)
    length += header.length
  }
  const out = new Uint8Array(length)
  let offset = 0
  for (let i = headers.length - 1; i >= 0; i--) {
    out.set(headers[i]!, offset)
    offset += headers[i]!.length
  }
  out.set(inner, offset)
  return out
}

/** A SEQUENCE whose first element is `first` (the slot every schema here reads first: tbsCertificate, etc.). */
function sequenceStartingWith(first: Uint8Array): Uint8Array {
  return Uint8Array.from([0x30, ...lengthBytes(first.length), ...first])
}

const parsers: Record<string, (der: Uint8Array) => unknown> = {
  parseCertificate: (der) => parseCertificate(der),
  parseTimestamp: (der) => parseTimestamp(der),
  parsePublicKey: (der) => parsePublicKey(der),
  parsePrivateKey: (der) => parsePrivateKey(der),
  ecdsaDERToP1363: (der) => ecdsaDERToP1363(der, 32),
}

function outcome(parse: (der: Uint8Array) => unknown, der: Uint8Array): { error: unknown; ms: number } {
  const start = performance.now()
  try {
    parse(der)
    return { error: undefined, ms: performance.now() - start }
  } catch (error) {
    return { error, ms: performance.now() - start }
  }
}

describe(`DER nested ${DEPTH} levels deep`, () => {
  // SEQUENCE, SET, and the constructed context tags certificates ([0] version, [3] extensions) and CMS use.
  const tags = [0x30, 0x31, 0xa0, 0xa3]
  const inputs = tags.flatMap((tag) => {
    const deep = nested(DEPTH, tag)
    return [
      [`top level, tag 0x${tag.toString(16)}`, deep] as const,
      [`first element of a SEQUENCE, tag 0x${tag.toString(16)}`, sequenceStartingWith(deep)] as const,
    ]
  })

  for (const [name, parse] of Object.entries(parsers)) {
    test.each(inputs)(`${name}: %s → coded error`, (_label, der) => {
      const { error, ms } = outcome(parse, der)
      expect(error).toBeInstanceOf(CountersignError)
      expect((error as CountersignError).code).toMatch(/^ERR_(INVALID_INPUT|KEY_INVALID|TIMESTAMP_INVALID)$/)
      // Linear in the bytes touched, which is a handful of headers: far under the bound on any machine.
      expect(ms).toBeLessThan(250)
    })
  }
})
