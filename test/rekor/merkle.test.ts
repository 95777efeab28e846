import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { fromBase64, fromHex, utf8 } from '../../src/internal/bytes.js'
import {
  merkleLeafHash,
  merkleNodeHash,
  rootFromInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from '../../src/rekor/merkle.js'

/** Table rows `[name, vector]` for test.each over JSON vectors. */
// biome-ignore lint/suspicious/noExplicitAny: vectors are JSON of several shapes
const rows = (vs: any[], key: string): [string, any][] => vs.map((v) => [String(v[key]), v])
const VECTORS = resolve(import.meta.dirname, '../vectors/merkle')
const TD = join(VECTORS, 'transparency-dev-merkle-rfc6962')

function jsonFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? jsonFiles(p) : p.endsWith('.json') ? [p] : []
  })
}

const b64 = (s: string) => (s === '' ? new Uint8Array(0) : fromBase64(s))
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'))

describe('transparency-dev/merkle inclusion vectors', () => {
  const files = jsonFiles(join(TD, 'inclusion'))
  test('the folder holds all 98 files', () => expect(files).toHaveLength(98))
  test.each(files.map((f) => [relative(TD, f), f]))('%s', (_name, file) => {
    const v = read(file)
    const run = () =>
      verifyInclusionProof({
        index: v.leafIdx,
        treeSize: v.treeSize,
        leafHash: b64(v.leafHash),
        proof: (v.proof ?? []).map(b64),
        rootHash: b64(v.root),
      })
    if (v.wantErr) expect(run).toThrow(expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' }))
    else expect(run).not.toThrow()
  })
})

describe('transparency-dev/merkle consistency vectors', () => {
  const files = jsonFiles(join(TD, 'consistency'))
  test('the folder holds all 98 files', () => expect(files).toHaveLength(98))
  test.each(files.map((f) => [relative(TD, f), f]))('%s', (_name, file) => {
    const v = read(file)
    const run = () =>
      verifyConsistencyProof({
        size1: v.size1,
        size2: v.size2,
        root1: b64(v.root1),
        root2: b64(v.root2),
        proof: (v.proof ?? []).map(b64),
      })
    if (v.wantErr) expect(run).toThrow(expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' }))
    else expect(run).not.toThrow()
  })
})

interface InclusionVector {
  desc: string
  canonicalizedBody?: unknown
  canonicalizedBodyUtf8?: string
  leafHashHex?: string
  logIndex: unknown
  treeSize: number
  rootHashHex: string
  hashesHex: string[]
  expect: 'pass' | 'fail'
}

describe.each(['rekor-verify-inclusion', 'sigstore-js-verify-merkle-inclusion'])('%s', (dir) => {
  const vectors: InclusionVector[] = read(join(VECTORS, dir, 'vectors.json'))
  test.each(vectors.map((v) => [v.desc, v] as const))('%s', (_desc, v) => {
    const run = () => {
      const leaf =
        v.canonicalizedBodyUtf8 !== undefined
          ? utf8(v.canonicalizedBodyUtf8)
          : fromBase64(v.canonicalizedBody as string)
      const leafHash = merkleLeafHash(leaf)
      if (v.leafHashHex !== undefined) expect(leafHash).toEqual(fromHex(v.leafHashHex))
      verifyInclusionProof({
        index: v.logIndex as number,
        treeSize: v.treeSize,
        leafHash,
        proof: v.hashesHex.map(fromHex),
        rootHash: fromHex(v.rootHashHex),
      })
    }
    if (v.expect === 'pass') expect(run).not.toThrow()
    else if (typeof v.canonicalizedBody === 'number')
      expect(run).toThrow(TypeError) // not even a body
    else expect(run).toThrow(expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' }))
  })
})

describe('rekor-verify-consistency', () => {
  const vectors = read(join(VECTORS, 'rekor-verify-consistency', 'vectors.json'))
  test.each(rows(vectors, 'desc'))('%s', (_desc, v) => {
    const run = () =>
      verifyConsistencyProof({
        size1: v.size1,
        size2: v.size2,
        root1: fromHex(v.root1Hex),
        root2: fromHex(v.root2Hex),
        proof: v.proofHex.map(fromHex),
      })
    if (v.expect === 'pass') expect(run).not.toThrow()
    else expect(run).toThrow(expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' }))
  })
})

describe('Merkle proofs on a tree built here', () => {
  // Reference MTH (RFC 6962 §2.1) computed recursively, to check every index of every size up to 33.
  const leaves = Array.from({ length: 33 }, (_, i) => merkleLeafHash(utf8(`leaf ${i}`)))
  const largestPow2Below = (n: number) => 2 ** Math.floor(Math.log2(n - 1))
  function mth(hs: Uint8Array[]): Uint8Array {
    if (hs.length === 1) return hs[0]!
    const k = largestPow2Below(hs.length)
    return merkleNodeHash(mth(hs.slice(0, k)), mth(hs.slice(k)))
  }
  function path(m: number, hs: Uint8Array[]): Uint8Array[] {
    if (hs.length === 1) return []
    const k = largestPow2Below(hs.length)
    return m < k ? [...path(m, hs.slice(0, k)), mth(hs.slice(k))] : [...path(m - k, hs.slice(k)), mth(hs.slice(0, k))]
  }
  function subproof(m: number, hs: Uint8Array[], b: boolean): Uint8Array[] {
    const n = hs.length
    if (m === n) return b ? [] : [mth(hs)]
    const k = largestPow2Below(n)
    return m <= k
      ? [...subproof(m, hs.slice(0, k), b), mth(hs.slice(k))]
      : [...subproof(m - k, hs.slice(k), false), mth(hs.slice(0, k))]
  }

  test('every inclusion proof verifies, and any flipped bit or wrong index fails', () => {
    for (let n = 1; n <= leaves.length; n++) {
      const tree = leaves.slice(0, n)
      const root = mth(tree)
      for (let i = 0; i < n; i++) {
        const proof = path(i, tree)
        expect(rootFromInclusionProof({ index: i, treeSize: n, leafHash: tree[i]!, proof })).toEqual(root)
        if (proof.length > 0) {
          const bad = proof.map((h) => h.slice())
          bad[i % bad.length]![i % 32]! ^= 1
          expect(() =>
            verifyInclusionProof({ index: i, treeSize: n, leafHash: tree[i]!, proof: bad, rootHash: root }),
          ).toThrow()
        }
        if (n > 1) {
          const j = (i + 1) % n
          expect(() =>
            verifyInclusionProof({ index: j, treeSize: n, leafHash: tree[i]!, proof, rootHash: root }),
          ).toThrow()
        }
      }
    }
  })

  test('every consistency proof verifies', () => {
    for (let n = 2; n <= leaves.length; n++) {
      for (let m = 1; m < n; m++) {
        const proof = subproof(m, leaves.slice(0, n), true)
        const root1 = mth(leaves.slice(0, m))
        const root2 = mth(leaves.slice(0, n))
        expect(() => verifyConsistencyProof({ size1: m, size2: n, root1, root2, proof })).not.toThrow()
        expect(() => verifyConsistencyProof({ size1: m, size2: n, root1: root2, root2: root1, proof })).toThrow()
      }
    }
  })

  test('hostile sizes and indexes are refused, not crashed on', () => {
    const leafHash = leaves[0]!
    for (const index of [-1, 1.5, Number.NaN, '01', '-1', '18446744073709551616', 'x'] as const) {
      expect(() => rootFromInclusionProof({ index, treeSize: 2, leafHash, proof: [leaves[1]!] })).toThrow(
        expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' }),
      )
    }
    const big = (1n << 64n) - 1n
    expect(() => rootFromInclusionProof({ index: big - 1n, treeSize: big, leafHash, proof: [] })).toThrow(
      expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' }),
    )
    expect(() =>
      rootFromInclusionProof({ index: 0, treeSize: 2, leafHash, proof: Array.from({ length: 65 }, () => leafHash) }),
    ).toThrow(expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' }))
  })
})
