/**
 * signedEntryTimestampPayload writes its RFC 8785 JSON by hand (it is on the per-bundle path); it must equal what the
 * `canonicalize` package (the RFC 8785 implementation Rekor clients use) produces for the same object.
 */
import canonicalize from 'canonicalize'
import { describe, expect, it } from 'vitest'
import { fromUtf8, toBase64, toHex } from '../../src/internal/bytes.js'
import { signedEntryTimestampPayload } from '../../src/rekor/set.js'
import { mulberry32 } from '../support/prng.js'

/** mulberry32 (test/support/prng.ts), so the cases reproduce. */
const prng = mulberry32

describe('signedEntryTimestampPayload is RFC 8785 canonical JSON', () => {
  const rand = prng(8785)
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256))
  const integers = [0, 1, 9, 10, 1_700_000_000, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]
  for (let i = 0; i < 40; i++) {
    const body = bytes(Math.floor(rand() * 300))
    const logId = bytes(32)
    const integratedTime = integers[i % integers.length]!
    const logIndex = integers[(i * 3 + 1) % integers.length]!
    it(`case ${i}: body ${body.length} bytes, time ${integratedTime}, index ${logIndex}`, () => {
      const want = canonicalize({ body: toBase64(body), integratedTime, logID: toHex(logId), logIndex })
      for (const form of [integratedTime, String(integratedTime), BigInt(integratedTime)]) {
        const got = signedEntryTimestampPayload({
          canonicalizedBody: body,
          integratedTime: form,
          logId,
          logIndex: String(logIndex),
          signedEntryTimestamp: new Uint8Array(70),
        })
        expect(fromUtf8(got)).toBe(want)
      }
    })
  }
})
