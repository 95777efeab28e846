/** sha2Digest hashes small inputs in JS and large ones with Web Crypto: the bytes must be the same on both sides. */
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { sha2Digest } from '../../src/keys/webcrypto.js'

describe('sha2Digest', () => {
  // Around the 2 KiB switch-over, and well past it.
  for (const size of [0, 1, 55, 56, 64, 2047, 2048, 2049, 70_000]) {
    for (const alg of ['sha256', 'sha384', 'sha512'] as const) {
      it(`${alg} of ${size} bytes equals node:crypto`, async () => {
        const data = new Uint8Array(size).map((_, i) => (i * 31 + size) & 0xff)
        const want = new Uint8Array(createHash(alg).update(data).digest())
        expect(await sha2Digest(alg, data)).toEqual(want)
      })
    }
  }
})
