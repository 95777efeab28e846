import { describe, expect, test } from 'vitest'
import { computeDigest, isDigest, parseDigest, sha256Digest, verifyDigest } from '../../src/oci/digest.js'
import { EMPTY_JSON_DIGEST } from '../../src/oci/media-types.js'

const enc = new TextEncoder()

describe('digest', () => {
  test('sha256 of {} is the OCI empty digest', async () => {
    expect(await sha256Digest(enc.encode('{}'))).toBe(EMPTY_JSON_DIGEST)
  })
  test('sha512', async () => {
    const d = await computeDigest(enc.encode('abc'), 'sha512')
    expect(d).toBe(
      'sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
    )
    await expect(verifyDigest(enc.encode('abc'), d)).resolves.toBeUndefined()
  })
  test('parseDigest', () => {
    expect(parseDigest(EMPTY_JSON_DIGEST)).toEqual({ algorithm: 'sha256', hex: EMPTY_JSON_DIGEST.slice(7) })
    for (const bad of [
      '',
      'sha256:',
      'sha256:abc',
      `SHA256:${'a'.repeat(64)}`,
      `sha256:${'A'.repeat(64)}`,
      `md5:${'a'.repeat(32)}`,
      `sha512:${'a'.repeat(64)}`,
    ]) {
      expect(() => parseDigest(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
      expect(isDigest(bad)).toBe(false)
    }
    expect(isDigest(42)).toBe(false)
  })
  test('verifyDigest mismatch', async () => {
    await expect(verifyDigest(enc.encode('{ }'), EMPTY_JSON_DIGEST)).rejects.toMatchObject({
      code: 'ERR_OCI_DIGEST_MISMATCH',
      details: { expected: EMPTY_JSON_DIGEST },
    })
    await expect(verifyDigest(enc.encode('{}'), 'sha256:nope')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })
})
