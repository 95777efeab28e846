// Issue 14: an encrypted cosign key whose `kdf.name` or `cipher.name` was a deeply nested value overflowed the stack
// (RangeError) in `JSON.stringify` while the "unknown kdf name" message was built. The envelope is now bounded to
// 64 KiB and 64 levels before it is read (docs/formats.md §Input limits).
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/internal/bytes.js'
import { encodePEM } from '../../src/internal/pem.js'
import { COSIGN_PEM_LABEL, decryptCosignPrivateKey } from '../../src/keys/index.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

const password = utf8('pw')
const envelope = (kdfName: string, cipherName: string) =>
  encodePEM(
    COSIGN_PEM_LABEL,
    utf8(
      `{"kdf":{"name":${kdfName},"params":{"N":32768,"r":8,"p":1},"salt":"AA=="},"cipher":{"name":${cipherName},"nonce":"AA=="},"ciphertext":"AA=="}`,
    ),
  )

describe('decryptCosignPrivateKey on deeply nested envelopes', () => {
  for (const field of ['kdf', 'cipher'] as const) {
    const at = (v: string) => (field === 'kdf' ? envelope(v, '"nacl/secretbox"') : envelope('"scrypt"', v))
    it(`refuses 100,000 levels at ${field}.name (over 64 KiB) as too large`, async () => {
      const e = await expectShapeError(
        () => decryptCosignPrivateKey(at(nestedArrays()), password),
        'ERR_INVALID_INPUT',
        'too-large',
      )
      expect(e.message).toBe('encrypted key is too large (more than 65536 bytes)')
    })
    it(`refuses 10,000 levels at ${field}.name (under 64 KiB) as too deep`, async () => {
      for (const hole of [nestedArrays(10_000), nestedObjects(5_000)]) {
        const e = await expectShapeError(
          () => decryptCosignPrivateKey(at(hole), password),
          'ERR_INVALID_INPUT',
          'too-deep',
        )
        expect(e.message).toBe('encrypted key is nested too deeply (more than 64 levels)')
      }
    })
    it(`names an unknown ${field} that is not a string as clipped JSON`, async () => {
      const p = decryptCosignPrivateKey(at(nestedArrays(50)), password)
      await expect(p).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_ALGORITHM' })
      await expect(p).rejects.toThrow(new RegExp(`unknown ${field} name \\[\\[\\[`))
    })
  }
})
