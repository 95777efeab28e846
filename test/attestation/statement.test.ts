import { describe, expect, it } from 'vitest'
import {
  COSIGN_SIGN_PREDICATE_TYPE,
  createStatement,
  parseStatement,
  statementHasSubjectDigest,
} from '../../src/attestation/statement.js'

const enc = new TextEncoder()
const dec = new TextDecoder()

describe('in-toto statements', () => {
  it('serialises like cosign v3 (protojson order, sorted maps, no HTML escaping)', () => {
    const bytes = createStatement(
      [{ name: 'x', digest: { sha512: 'b', sha256: 'a' }, annotations: { z: '<&>', a: 1 } }],
      COSIGN_SIGN_PREDICATE_TYPE,
      { b: true, a: null },
    )
    expect(dec.decode(bytes)).toBe(
      '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"x","digest":{"sha256":"a","sha512":"b"},"annotations":{"a":1,"z":"<&>"}}],"predicateType":"https://sigstore.dev/cosign/sign/v1","predicate":{"a":null,"b":true}}',
    )
    const st = parseStatement(bytes)
    expect(statementHasSubjectDigest(st, 'sha256:a')).toBe(true)
    expect(statementHasSubjectDigest(st, 'sha256:b')).toBe(false)
  })

  it.each([
    ['not JSON', '{'],
    ['an unknown _type', '{"_type":"https://example.com/x","predicateType":"p","subject":[]}'],
    ['no subject', '{"_type":"https://in-toto.io/Statement/v1","predicateType":"p"}'],
    ['a non-object subject', '{"_type":"https://in-toto.io/Statement/v1","predicateType":"p","subject":[1]}'],
  ])('rejects %s', (_, text) => {
    expect(() => parseStatement(enc.encode(text))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})
