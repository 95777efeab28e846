// Issue 14 (fuzzing): a bundle may carry at most 32 transparency-log entries and 32 RFC 3161 timestamps, as in
// sigstore-go (pkg/limits): each one is verified, and 5,000 copies of one entry (34 MB, under the 128 MiB size
// limit) took 3.2 s. A DSSE envelope may carry at most 32 signatures: every signature was tried with every key, and
// 50,000 copies of one signature with 3 keys took 39 s.
import { describe, expect, it } from 'vitest'
import { parseDSSEEnvelope } from '../../src/dsse/envelope.js'
import { verifyDSSE } from '../../src/dsse/verify.js'
import { CountersignError } from '../../src/errors.js'
import { generateKeyPair } from '../../src/keys/generate.js'
import { createVerifier } from '../../src/verifier/verifier.js'
import { countersignInputs, countersignRoot, loadCase } from '../support/bundle-cases.js'

async function rejection(p: Promise<unknown>): Promise<CountersignError> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(CountersignError)
    return e as CountersignError
  }
  throw new Error('expected a rejection')
}

describe('bundle entry limits', () => {
  const inputs = countersignInputs(loadCase('conformance-happy-path-v0.3'))
  const verifier = createVerifier(countersignRoot(inputs), inputs.options)
  const original = JSON.parse(new TextDecoder().decode(inputs.bundle))

  function withEntries(n: number) {
    const b = structuredClone(original)
    const [entry] = b.verificationMaterial.tlogEntries
    b.verificationMaterial.tlogEntries = Array.from({ length: n }, (_, i) => ({
      ...entry,
      logIndex: String(Number(entry.logIndex) + i),
    }))
    return b
  }

  it('the case verifies as it is', async () => {
    await expect(verifier.verify(original, inputs.artifact, inputs.policy)).resolves.toBeDefined()
  })

  it('refuses more than 32 transparency-log entries before verifying any, at once', async () => {
    const start = performance.now()
    const e = await rejection(verifier.verify(withEntries(5000), inputs.artifact, inputs.policy))
    expect(e.code).toBe('ERR_BUNDLE_INVALID')
    expect(e.details).toMatchObject({ reason: 'too-many-entries' })
    expect(e.message).toContain('more than 32 transparency log entries')
    expect(performance.now() - start).toBeLessThan(1000)
  })

  it('32 entries are read and verified (each changed one fails on its own merits)', async () => {
    const e = await rejection(verifier.verify(withEntries(32), inputs.artifact, inputs.policy))
    expect(e.details?.reason).not.toBe('too-many-entries')
  })

  it('refuses more than 32 RFC 3161 timestamps before verifying any (verifyTimestamps, the conformance code)', async () => {
    const b = structuredClone(original)
    b.verificationMaterial.timestampVerificationData = {
      rfc3161Timestamps: Array.from({ length: 33 }, () => ({ signedTimestamp: 'AAAA' })),
    }
    const e = await rejection(verifier.verify(b, inputs.artifact, inputs.policy))
    expect(e.code).toBe('ERR_TIMESTAMP_INVALID')
    expect(e.message).toContain('33 timestamps exceed the limit of 32')
  })
})

describe('DSSE signature limit', () => {
  const envelope = (n: number) => ({
    payloadType: 'application/vnd.in-toto+json',
    payload: 'e30=',
    signatures: Array.from({ length: n }, () => ({ sig: 'AAAA' })),
  })

  it('parseDSSEEnvelope refuses more than 32 signatures', () => {
    expect(parseDSSEEnvelope(envelope(32)).signatures).toHaveLength(32)
    try {
      parseDSSEEnvelope(envelope(50_000))
      expect.unreachable()
    } catch (e) {
      expect(e).toMatchObject({ code: 'ERR_DSSE_INVALID', details: { reason: 'too-many-signatures' } })
    }
  })

  it('verifyDSSE refuses an envelope built by hand with more, before trying any key', async () => {
    const { publicKey } = await generateKeyPair()
    const many = {
      payloadType: 'x',
      payload: new Uint8Array(2),
      signatures: Array(10_000).fill({ sig: new Uint8Array(64) }),
    }
    const start = performance.now()
    const e = await rejection(verifyDSSE(many, [publicKey, publicKey, publicKey]))
    expect(e.code).toBe('ERR_DSSE_INVALID')
    expect(performance.now() - start).toBeLessThan(1000)
    expect(await verifyDSSE({ ...many, signatures: many.signatures.slice(0, 32) }, [publicKey])).toBe(-1)
  })
})
