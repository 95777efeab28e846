import { createHash, randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sha256, sha256Parts, sha384, sha512 } from '../../src/internal/sha2.js'

const ref = (alg: string, data: Uint8Array) => new Uint8Array(createHash(alg).update(data).digest())

describe('in-house SHA-2 equals node:crypto', () => {
  // Every length up to three SHA-512 blocks covers each padding case (length field in the same block or the next).
  const data = new Uint8Array(randomBytes(400))
  it.each([
    ['sha256', sha256],
    ['sha384', sha384],
    ['sha512', sha512],
  ] as const)('%s for every length 0..400', (alg, fn) => {
    for (let n = 0; n <= 400; n++)
      expect(fn(data.subarray(0, n)), `${alg} length ${n}`).toEqual(ref(alg, data.subarray(0, n)))
  })

  it('FIPS 180-4 "abc" vectors', () => {
    const abc = new TextEncoder().encode('abc')
    expect(Buffer.from(sha256(abc)).toString('hex')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(Buffer.from(sha512(abc)).toString('hex')).toBe(
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    )
    expect(Buffer.from(sha384(abc)).toString('hex')).toBe(
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
    )
  })

  it('large and random inputs', () => {
    for (let k = 0; k < 20; k++) {
      const d = new Uint8Array(randomBytes(1 + Math.floor(Math.random() * 20000)))
      expect(sha256(d)).toEqual(ref('sha256', d))
      expect(sha512(d)).toEqual(ref('sha512', d))
      expect(sha384(d)).toEqual(ref('sha384', d))
    }
  })

  it('sha256Parts hashes the concatenation, whatever the split', () => {
    const d = new Uint8Array(randomBytes(300))
    const want = ref('sha256', d)
    for (let k = 0; k < 200; k++) {
      const cuts = [0, ...Array.from({ length: 1 + (k % 5) }, () => Math.floor(Math.random() * 301)), 300].sort(
        (a, b) => a - b,
      )
      const parts = cuts.slice(1).map((c, i) => d.subarray(cuts[i]!, c))
      expect(sha256Parts(parts)).toEqual(want)
    }
    expect(sha256Parts([])).toEqual(ref('sha256', new Uint8Array(0)))
  })

  it('returns fresh arrays (no shared output buffer)', () => {
    const a = sha256(Uint8Array.of(1))
    const b = sha256(Uint8Array.of(2))
    expect(a).not.toEqual(b)
    expect(a).toEqual(ref('sha256', Uint8Array.of(1)))
  })
})
