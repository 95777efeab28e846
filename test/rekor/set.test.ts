import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fromBase64, fromUtf8, toBase64 } from '../../src/internal/bytes.js'
import {
  type SignedEntryTimestampInput,
  signedEntryTimestampPayload,
  verifySignedEntryTimestamp,
} from '../../src/rekor/set.js'
import { publicGoodTrustedRoot } from '../../src/trust/public-good.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'

/** Table rows `[name, vector]` for test.each over JSON vectors. */
// biome-ignore lint/suspicious/noExplicitAny: vectors are JSON of several shapes
const rows = (vs: any[], key: string): [string, any][] => vs.map((v) => [String(v[key]), v])
const VECTORS = resolve(import.meta.dirname, '../vectors')
const read = (p: string) => JSON.parse(readFileSync(join(VECTORS, p), 'utf8'))

interface TlogEntryJSON {
  logIndex: string
  logId: { keyId: string }
  integratedTime: string
  inclusionPromise: { signedEntryTimestamp: string }
  canonicalizedBody: string
}

function setInput(e: TlogEntryJSON): SignedEntryTimestampInput {
  return {
    canonicalizedBody: fromBase64(e.canonicalizedBody),
    integratedTime: e.integratedTime,
    logId: fromBase64(e.logId.keyId),
    logIndex: e.logIndex,
    signedEntryTimestamp: fromBase64(e.inclusionPromise.signedEntryTimestamp),
  }
}

const firstEntry = (bundle: string): TlogEntryJSON => read(bundle).verificationMaterial.tlogEntries[0]
const SET_FAIL = { code: 'ERR_TLOG_INCLUSION_PROOF', details: { check: 'set' } }

describe.each([
  ['conformance-happy-path-v0.3', 'bundles/conformance-happy-path-v0.3/bundle.sigstore.json'],
  ['cosign OCI attestation bundle', 'bundles/cosign-oci-attestation/bundle.sigstore.json'],
])('SET of a real production entry: %s', (_name, path) => {
  const entry = setInput(firstEntry(path))
  const root = publicGoodTrustedRoot()

  test('verifies with the public-good Rekor key', async () => {
    const log = await verifySignedEntryTimestamp(entry, root.tlogs)
    expect(log.baseUrl).toBe('https://rekor.sigstore.dev')
  })

  test('the signed payload is RFC 8785 JSON with keys in order', () => {
    const json = fromUtf8(signedEntryTimestampPayload(entry))
    expect(json).toMatch(/^\{"body":"[A-Za-z0-9+/=]+","integratedTime":\d+,"logID":"[0-9a-f]{64}","logIndex":\d+\}$/)
    expect(JSON.parse(json).body).toBe(toBase64(entry.canonicalizedBody))
  })

  test('a one-byte change anywhere fails', async () => {
    const flip = (b: Uint8Array, i: number) => {
      const c = b.slice()
      c[i % c.length]! ^= 0x01
      return c
    }
    const mutants: SignedEntryTimestampInput[] = [
      { ...entry, canonicalizedBody: flip(entry.canonicalizedBody, 17) },
      { ...entry, canonicalizedBody: flip(entry.canonicalizedBody, entry.canonicalizedBody.length - 3) },
      { ...entry, signedEntryTimestamp: flip(entry.signedEntryTimestamp, 10) },
      { ...entry, signedEntryTimestamp: flip(entry.signedEntryTimestamp, entry.signedEntryTimestamp.length - 1) },
      { ...entry, integratedTime: BigInt(entry.integratedTime as string) + 1n },
      { ...entry, logIndex: BigInt(entry.logIndex as string) + 1n },
      { ...entry, logId: flip(entry.logId, 0) },
    ]
    for (const m of mutants) await expect(verifySignedEntryTimestamp(m, root.tlogs)).rejects.toMatchObject(SET_FAIL)
  })

  test('the key must be valid at the integrated time (end inclusive)', async () => {
    const json = JSON.parse(readFileSync(join(VECTORS, 'trusted-roots/production-trusted_root.json'), 'utf8'))
    const at = (seconds: number) => new Date(seconds * 1000).toISOString()
    const t = Number(entry.integratedTime)
    json.tlogs[0].publicKey.validFor.end = at(t)
    await expect(verifySignedEntryTimestamp(entry, parseTrustedRoot(json).tlogs)).resolves.toBeDefined()
    json.tlogs[0].publicKey.validFor.end = at(t - 1)
    await expect(verifySignedEntryTimestamp(entry, parseTrustedRoot(json).tlogs)).rejects.toMatchObject(SET_FAIL)
    json.tlogs[0].publicKey.validFor = { start: at(t + 1) }
    await expect(verifySignedEntryTimestamp(entry, parseTrustedRoot(json).tlogs)).rejects.toMatchObject(SET_FAIL)
  })

  test('no trusted log, wrong key or hostile integers are refused', async () => {
    await expect(verifySignedEntryTimestamp(entry, [])).rejects.toMatchObject(SET_FAIL)
    const staging = parseTrustedRoot(readFileSync(join(VECTORS, 'trusted-roots/staging-trusted_root.json')))
    await expect(verifySignedEntryTimestamp(entry, staging.tlogs)).rejects.toMatchObject(SET_FAIL)
    for (const bad of ['-1', '1e3', '01', 'abc', '9007199254740993', 2 ** 53, 1.5, -1]) {
      await expect(verifySignedEntryTimestamp({ ...entry, logIndex: bad }, root.tlogs)).rejects.toMatchObject(SET_FAIL)
      await expect(verifySignedEntryTimestamp({ ...entry, integratedTime: bad }, root.tlogs)).rejects.toMatchObject(
        SET_FAIL,
      )
    }
  })
})

describe('SETs of the Rekor v1 bundle entries in the checkpoint vectors', () => {
  const vectors = read('checkpoints/bundle-tlog-entries/vectors.json').filter(
    (v: { bundleExpect: string; entry: { inclusionPromise?: unknown } }) =>
      v.bundleExpect === 'pass' && v.entry.inclusionPromise,
  )
  test('there are some', () => expect(vectors.length).toBeGreaterThanOrEqual(3))
  test.each(rows(vectors, 'case'))('%s', async (_name, v) => {
    const root = parseTrustedRoot(
      typeof v.trustedRoot === 'string' ? readFileSync(join(VECTORS, 'trusted-roots', v.trustedRoot)) : v.trustedRoot,
    )
    await expect(verifySignedEntryTimestamp(setInput(v.entry), root.tlogs)).resolves.toBeDefined()
  })
})
