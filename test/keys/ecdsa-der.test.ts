import { p256, p384, p521 } from '@noble/curves/nist.js'
import { describe, expect, it } from 'vitest'
import { fromHex, toHex } from '../../src/internal/bytes.js'
import { ecdsaDERToP1363, ecdsaP1363ToDER } from '../../src/keys/index.js'

function halves(size: number, r: string, s: string): Uint8Array {
  return fromHex(r.padStart(size * 2, '0') + s.padStart(size * 2, '0'))
}

describe('ecdsaP1363ToDER / ecdsaDERToP1363', () => {
  it.each([
    [32, p256],
    [48, p384],
    [66, p521],
  ] as const)('round-trips random %i-byte signatures and matches noble DER', (size, curve) => {
    for (let i = 0; i < 20; i++) {
      const sig = curve.sign(crypto.getRandomValues(new Uint8Array(32)), curve.utils.randomSecretKey(), { lowS: false })
      const der = ecdsaP1363ToDER(sig)
      expect(toHex(der)).toBe(toHex(curve.Signature.fromBytes(sig, 'compact').toBytes('der')))
      expect(ecdsaDERToP1363(der, size)).toEqual(sig)
    }
  })

  it('adds 0x00 before values with the high bit set', () => {
    const raw = halves(32, 'ff'.repeat(32), '80'.padEnd(64, '0'))
    const der = ecdsaP1363ToDER(raw)
    expect(toHex(der)).toBe(`3046022100${'ff'.repeat(32)}02210080${'00'.repeat(31)}`)
    expect(ecdsaDERToP1363(der, 32)).toEqual(raw)
  })

  it('drops leading zeros of short values and pads them back', () => {
    const raw = halves(32, '01', '007f')
    const der = ecdsaP1363ToDER(raw)
    expect(toHex(der)).toBe('300602010102017f')
    expect(ecdsaDERToP1363(der, 32)).toEqual(raw)
    // 31 significant bytes with the high bit set: the padding zero becomes exactly one DER sign byte.
    const raw2 = halves(32, '80'.padEnd(62, '1'), '05')
    expect(toHex(ecdsaP1363ToDER(raw2))).toBe(`302502200080${'11'.repeat(30)}020105`)
    expect(ecdsaDERToP1363(ecdsaP1363ToDER(raw2), 32)).toEqual(raw2)
  })

  it('encodes zero as a single 0x00', () => {
    expect(toHex(ecdsaP1363ToDER(new Uint8Array(64)))).toBe('3006020100020100')
  })

  it.each([
    ['non-minimal integer', '300702020001020101'],
    ['negative integer', '3006020181020101'],
    ['trailing data', '300602010102010100'],
    ['extra field', '3009020101020101020101'],
    ['indefinite length', '3080020101020101 0000'.replace(' ', '')],
    ['truncated', '3006020101020101'.slice(0, 12)],
    ['not a sequence', '3106020101020101'],
    ['empty', ''],
    ['value too large for P-256', `3025022101${'00'.repeat(32)}020101`],
  ])('rejects %s', (_, hex) => {
    expect(() => ecdsaDERToP1363(fromHex(hex), 32)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })

  it('rejects odd or empty P1363 input', () => {
    expect(() => ecdsaP1363ToDER(new Uint8Array(63))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    expect(() => ecdsaP1363ToDER(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    expect(() => ecdsaP1363ToDER('x' as unknown as Uint8Array)).toThrow(TypeError)
  })
})
