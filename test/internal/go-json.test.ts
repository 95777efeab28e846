import { describe, expect, it } from 'vitest'
import { compareUtf8, goMarshal, goObject } from '../../src/internal/go-json.js'

describe('goMarshal (Go encoding/json compatible)', () => {
  it.each([
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [123456789, '123456789'],
    [8.314, '8.314'],
    [-0, '-0'],
    [0.000001, '0.000001'],
  ])('formats %p like Go', (n, want) => {
    expect(goMarshal(n)).toBe(want)
  })

  it('escapes control characters with Go 1.22+ short forms and lower-case hex', () => {
    expect(goMarshal('\b\f\u0001\u001f"\\/')).toBe('"\\b\\f\\u0001\\u001f\\"\\\\/"')
  })

  it('replaces lone surrogates with \\ufffd and keeps pairs', () => {
    expect(goMarshal('a\ud800b\udc00\u{1F600}')).toBe('"a\\ufffdb\\ufffd\u{1F600}"')
  })

  it('keeps struct order, omits undefined fields, sorts map keys by UTF-8 bytes', () => {
    expect(
      goMarshal(
        goObject([
          ['z', 1],
          ['a', undefined],
          ['m', { b: 1, a: [true, null] }],
        ]),
      ),
    ).toBe('{"z":1,"m":{"a":[true,null],"b":1}}')
    // U+FFFD sorts before U+1F600 in UTF-8 but after it in UTF-16.
    expect(['\u{1F600}', '\uFFFD', 'a'].sort(compareUtf8)).toEqual(['a', '\uFFFD', '\u{1F600}'])
  })

  it('rejects values JSON cannot hold', () => {
    expect(() => goMarshal(Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    expect(() => goMarshal(() => 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})
