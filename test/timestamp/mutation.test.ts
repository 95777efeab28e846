import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fromBase64 } from '../../src/internal/bytes.js'
import { parseTimestamp, verifyTimestamp } from '../../src/timestamp/index.js'
import { parseTrustedRoot } from '../../src/trust/index.js'

const VECTORS = resolve(import.meta.dirname, '../vectors/timestamps')

/** xorshift32: a seeded, reproducible non-zero byte mask per position. */
function masks(seed: number, count: number): number[] {
  let x = seed
  const out: number[] = []
  for (let i = 0; i < count; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out.push(((x >>> 0) % 255) + 1)
  }
  return out
}

async function survivors(der: Uint8Array, data: Uint8Array, root: ReturnType<typeof parseTrustedRoot>, seed: number) {
  const alive: number[] = []
  const mask = masks(seed, der.length)
  for (let i = 0; i < der.length; i++) {
    const mutant = der.slice()
    mutant[i]! ^= mask[i]!
    try {
      await verifyTimestamp(mutant, data, { trustedRoot: root })
      alive.push(i)
    } catch (error) {
      // Every rejection is a coded timestamp failure with a reason, never a crash.
      expect(error).toMatchObject({ code: 'ERR_TIMESTAMP_INVALID', details: { reason: expect.any(String) } })
    }
  }
  return alive
}

describe('every single-byte mutant is rejected', () => {
  test('the issue-1482 TimeStampResp (except the PKIStatus byte: granted and grantedWithMods are equivalent)', async () => {
    const dir = join(VECTORS, 'sigstore-python-issue1482-token-without-certs')
    const der = new Uint8Array(readFileSync(join(dir, 'timestamp.tsr')))
    const root = parseTrustedRoot(readFileSync(join(dir, 'trusted_root.json')))
    const message = readFileSync(join(dir, 'message'))
    // Offset 8 is the PKIStatus INTEGER value (SEQ{SEQ{INTEGER 0}} …); only values 0 and 1 are granted.
    expect([...der.subarray(4, 9)]).toEqual([0x30, 0x03, 0x02, 0x01, 0x00])
    const alive = await survivors(der, message, root, 0x5eed)
    expect(alive.filter((i) => i !== 8)).toEqual([])
  })

  test('a bare token with an embedded certificate (rekor2-happy-path)', async () => {
    const dir = join(VECTORS, 'bundles/conformance-rekor2-happy-path')
    const bundle = JSON.parse(readFileSync(join(dir, 'bundle.sigstore.json'), 'utf8'))
    const der = fromBase64(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp)
    const root = parseTrustedRoot(readFileSync(join(dir, 'trusted_root.json')))
    const signature = fromBase64(bundle.messageSignature.signature)
    await expect(verifyTimestamp(der, signature, { trustedRoot: root })).resolves.toBeDefined()
    expect(await survivors(der, signature, root, 0xc0ffee)).toEqual([])
  }, 30_000)
})

describe('malformed input', () => {
  const dir = join(VECTORS, 'sigstore-python-issue1482-token-without-certs')
  const der = new Uint8Array(readFileSync(join(dir, 'timestamp.tsr')))
  const malformed = expect.objectContaining({
    code: 'ERR_TIMESTAMP_INVALID',
    details: expect.objectContaining({ reason: 'malformed' }),
  })

  test.each([
    ['empty', new Uint8Array()],
    ['garbage', new TextEncoder().encode('not a timestamp')],
    ['truncated', der.subarray(0, der.length - 1)],
    ['trailing data', new Uint8Array([...der, 0])],
    ['an empty SEQUENCE', new Uint8Array([0x30, 0x00])],
    ['indefinite length (BER)', new Uint8Array([0x30, 0x80, 0x00, 0x00])],
  ])('%s', (_, bytes) => {
    expect(() => parseTimestamp(bytes)).toThrow(malformed)
  })

  test('a caller buffer is neither kept nor modified', () => {
    const copy = der.slice()
    const token = parseTimestamp(copy)
    copy.fill(0)
    expect(token.genTime.toISOString()).toBe('2025-07-25T19:53:04.000Z')
    expect(token.signer.signedAttributesDER[0]).toBe(0x31)
    const again = new Uint8Array(readFileSync(join(dir, 'timestamp.tsr')))
    parseTimestamp(again)
    expect(again).toEqual(der)
  })

  test('wrong argument types are programmer errors', async () => {
    expect(() => parseTimestamp('MII' as unknown as Uint8Array)).toThrow(TypeError)
    await expect(verifyTimestamp(der, 'x' as unknown as Uint8Array, {} as never)).rejects.toThrow(TypeError)
  })
})
