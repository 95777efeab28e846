import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { isRekorV2Entry, parseTransparencyLogEntry } from '../../src/rekor/entry.js'

const VECTORS = resolve(import.meta.dirname, '../vectors/bundles')
const entryOf = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(resolve(VECTORS, name, 'bundle.sigstore.json'), 'utf8')).verificationMaterial.tlogEntries[0]

const V1 = entryOf('conformance-happy-path-v0.3')
const V2 = entryOf('conformance-rekor2-happy-path')
const bad = (field: string) => ({ code: 'ERR_BUNDLE_INVALID', details: { check: 'entry', field } })
function thrown(f: () => unknown): unknown {
  try {
    f()
  } catch (e) {
    return e
  }
  throw new Error('did not throw')
}

describe('parseTransparencyLogEntry', () => {
  test('reads a Rekor v1 entry with int64 strings as bigints and bytes decoded', () => {
    const e = parseTransparencyLogEntry(V1)
    expect(e.logIndex).toBe(BigInt(V1.logIndex as string))
    expect(e.logId.length).toBe(32)
    expect(e.kindVersion).toEqual({ kind: 'hashedrekord', version: '0.0.1' })
    expect(e.integratedTime).toBe(1710869186n)
    expect(e.inclusionPromise?.signedEntryTimestamp.length).toBeGreaterThan(60)
    expect(e.inclusionProof?.checkpoint).toMatch(/^rekor\.sigstore\.dev - \d+\n/)
    expect(e.inclusionProof?.hashes.every((h) => h.length === 32)).toBe(true)
    expect(new TextDecoder().decode(e.canonicalizedBody)).toMatch(/^\{"apiVersion":"0\.0\.1"/)
    expect(Object.isFrozen(e)).toBe(true)
    expect(isRekorV2Entry(e)).toBe(false)
  })

  test('reads a Rekor v2 entry: no integrated time, no promise', () => {
    const e = parseTransparencyLogEntry(V2)
    expect(e.integratedTime).toBe(0n)
    expect(e.inclusionPromise).toBeUndefined()
    expect(isRekorV2Entry(e)).toBe(true)
  })

  test('accepts exact JSON numbers and missing defaults (protobuf JSON)', () => {
    const e = parseTransparencyLogEntry({ ...V1, logIndex: 5, integratedTime: undefined })
    expect(e.logIndex).toBe(5n)
    expect(e.integratedTime).toBe(0n)
  })

  test.each([
    ['not an object', null, 'entry'],
    ['array', [], 'entry'],
    ['missing logId', { ...V1, logId: undefined }, 'logId'],
    ['empty keyId', { ...V1, logId: { keyId: '' } }, 'logId.keyId'],
    ['bad base64 keyId', { ...V1, logId: { keyId: '!!!!' } }, 'logId.keyId'],
    ['missing kindVersion', { ...V1, kindVersion: undefined }, 'kindVersion'],
    ['empty kind', { ...V1, kindVersion: { kind: '', version: '0.0.1' } }, 'kindVersion.kind'],
    ['numeric version', { ...V1, kindVersion: { kind: 'hashedrekord', version: 1 } }, 'kindVersion.version'],
    ['huge logIndex', { ...V1, logIndex: '9223372036854775808' }, 'logIndex'],
    ['20-digit logIndex', { ...V1, logIndex: '99999999999999999999' }, 'logIndex'],
    ['negative logIndex', { ...V1, logIndex: '-1' }, 'logIndex'],
    ['leading zero', { ...V1, logIndex: '01' }, 'logIndex'],
    ['float', { ...V1, integratedTime: 1.5 }, 'integratedTime'],
    ['unsafe number', { ...V1, integratedTime: 2 ** 60 }, 'integratedTime'],
    ['exponent string', { ...V1, integratedTime: '1e9' }, 'integratedTime'],
    ['object time', { ...V1, integratedTime: {} }, 'integratedTime'],
    ['missing body', { ...V1, canonicalizedBody: undefined }, 'canonicalizedBody'],
    ['bad body base64', { ...V1, canonicalizedBody: 'a' }, 'canonicalizedBody'],
    ['promise not an object', { ...V1, inclusionPromise: 'x' }, 'inclusionPromise'],
    ['empty SET', { ...V1, inclusionPromise: {} }, 'inclusionPromise.signedEntryTimestamp'],
    ['proof not an object', { ...V1, inclusionProof: [] }, 'inclusionProof'],
  ])('%s → coded error', (_, value, field) => {
    expect(thrown(() => parseTransparencyLogEntry(value))).toMatchObject(bad(field))
  })

  const proof = V1.inclusionProof as Record<string, unknown>
  test.each([
    ['hashes not a list', { ...proof, hashes: 'x' }, 'inclusionProof.hashes'],
    ['too many hashes', { ...proof, hashes: Array(65).fill(proof.rootHash) }, 'inclusionProof.hashes'],
    ['bad hash base64', { ...proof, hashes: ['%%%%'] }, 'inclusionProof.hashes[0]'],
    ['missing root hash', { ...proof, rootHash: undefined }, 'inclusionProof.rootHash'],
    ['missing tree size', { ...proof, treeSize: undefined }, 'inclusionProof.treeSize'],
    ['huge tree size', { ...proof, treeSize: '18446744073709551616' }, 'inclusionProof.treeSize'],
    ['checkpoint not an object', { ...proof, checkpoint: 'x' }, 'inclusionProof.checkpoint'],
    ['envelope not a string', { ...proof, checkpoint: { envelope: 5 } }, 'inclusionProof.checkpoint.envelope'],
  ])('inclusion proof: %s → coded error', (_, value, field) => {
    expect(thrown(() => parseTransparencyLogEntry({ ...V1, inclusionProof: value }))).toMatchObject(bad(field))
  })

  test('an empty checkpoint envelope reads as no checkpoint (verification then refuses it)', () => {
    const e = parseTransparencyLogEntry({ ...V1, inclusionProof: { ...proof, checkpoint: { envelope: '' } } })
    expect(e.inclusionProof).toBeDefined()
    expect(e.inclusionProof?.checkpoint).toBeUndefined()
  })
})
