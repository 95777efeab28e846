import { p256, p384, p521 } from '@noble/curves/nist.js'
import { describe, expect, it } from 'vitest'
import { encodeBitString, encodeOID, encodeSequence } from '../../src/internal/der.js'
import { bytesToBigInt, CURVES, isOnCurve } from '../../src/keys/algorithms.js'
import { parsePublicKey } from '../../src/keys/parse-public.js'

const NOBLE = { 'ecdsa-p256': p256, 'ecdsa-p384': p384, 'ecdsa-p521': p521 } as const

function spki(oid: string, point: Uint8Array): Uint8Array {
  return encodeSequence(encodeSequence(encodeOID('1.2.840.10045.2.1'), encodeOID(oid)), encodeBitString(point))
}

describe.each(Object.values(CURVES))('$namedCurve constants and isOnCurve', (curve) => {
  const noble = NOBLE[curve.algorithm]

  it('matches the domain parameters noble uses', () => {
    const c = noble.Point.CURVE()
    expect([curve.p, curve.a, curve.b, curve.order]).toEqual([c.p, c.a, c.b, c.n])
    expect(curve.p.toString(2).length).toBe(c.p.toString(2).length)
    expect(Math.ceil(curve.p.toString(2).length / 8)).toBe(curve.size)
  })

  it('accepts the generator and random public keys', () => {
    const g = noble.Point.BASE.toAffine()
    expect(isOnCurve(curve, g.x, g.y)).toBe(true)
    for (let i = 0; i < 5; i++) {
      const point = noble.getPublicKey(noble.utils.randomSecretKey(), false)
      const x = bytesToBigInt(point.subarray(1, 1 + curve.size))
      const y = bytesToBigInt(point.subarray(1 + curve.size))
      expect(isOnCurve(curve, x, y)).toBe(true)
      expect(parsePublicKey(spki(curve.oid, point)).algorithm).toBe(curve.algorithm)
    }
  })

  it('rejects off-curve points, unreduced coordinates and the all-zero encoding', () => {
    const g = noble.Point.BASE.toAffine()
    expect(isOnCurve(curve, g.x, g.y + 1n)).toBe(false)
    expect(isOnCurve(curve, g.x, curve.p - g.y)).toBe(true) // -G
    // (x, y + p) satisfies the equation mod p but is not a field element; Go's Unmarshal refuses it too.
    expect(isOnCurve(curve, g.x, g.y + curve.p)).toBe(false)
    expect(isOnCurve(curve, g.x + curve.p, g.y)).toBe(false)
    expect(isOnCurve(curve, -g.x, g.y)).toBe(false)
    expect(isOnCurve(curve, 0n, 0n)).toBe(false)
    const zero = new Uint8Array(1 + 2 * curve.size)
    zero[0] = 4
    expect(() => parsePublicKey(spki(curve.oid, zero))).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
  })

  it('rejects an encoding whose y coordinate is not reduced mod p', () => {
    if (curve.algorithm !== 'ecdsa-p521') return // only P-521 has room: 66 bytes hold y + p
    const g = noble.Point.BASE.toAffine()
    const point = noble.Point.BASE.toBytes(false)
    const bumped = new Uint8Array(point)
    let y = g.y + curve.p
    for (let i = bumped.length - 1; i > curve.size; i--) {
      bumped[i] = Number(y & 0xffn)
      y >>= 8n
    }
    expect(() => parsePublicKey(spki(curve.oid, bumped))).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
  })
})
