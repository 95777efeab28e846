/**
 * RFC 6962 / RFC 9162 Merkle tree hashing and proof verification (inclusion and consistency), as transparency logs
 * (Rekor v1 and v2, CT) use them.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { equalBytes } from '../internal/bytes.js'
import { sha256Parts } from '../internal/sha2.js'

const HASH_SIZE = 32
// Proofs are at most 64 hashes for a 2^64 tree; anything longer is refused before hashing.
const MAX_PROOF = 64
const UINT64_MAX = (1n << 64n) - 1n
const LEAF_PREFIX = /* @__PURE__ */ Uint8Array.of(0)
const NODE_PREFIX = /* @__PURE__ */ Uint8Array.of(1)

/**
 * RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ leaf).
 *
 * @param leaf - The logged bytes (for Rekor, the decoded `canonicalizedBody`).
 * @returns The 32-byte leaf hash.
 * @example
 * ```ts
 * import { merkleLeafHash } from 'countersign/rekor'
 * const leafHash = merkleLeafHash(canonicalizedBody)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function merkleLeafHash(leaf: Uint8Array): Uint8Array {
  if (!(leaf instanceof Uint8Array)) throw new TypeError('leaf must be a Uint8Array')
  return sha256Parts([LEAF_PREFIX, leaf])
}

/**
 * RFC 6962 §2.1 interior node hash: SHA-256(0x01 ‖ left ‖ right).
 *
 * @param left - Left child hash.
 * @param right - Right child hash.
 * @returns The 32-byte node hash.
 * @example
 * ```ts
 * import { merkleNodeHash } from 'countersign/rekor'
 * const parent = merkleNodeHash(leftHash, rightHash)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (!(left instanceof Uint8Array) || !(right instanceof Uint8Array)) throw new TypeError('hashes must be Uint8Array')
  // One call over the three parts: no hash object and no 65-byte concatenation per node.
  return sha256Parts([NODE_PREFIX, left, right])
}

function proofError(reason: string): never {
  throw new CountersignError('ERR_TLOG_INCLUSION_PROOF', `Merkle proof: ${reason}`, { details: { reason } })
}

/** Tree sizes and indexes come from bundles (attacker-controlled int64 strings): accept only exact integers. */
function toUint64(value: bigint | number | string, name: string): bigint {
  let v: bigint
  if (typeof value === 'bigint') v = value
  else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) proofError(`${name} is not an integer`)
    v = BigInt(value)
  } else if (typeof value === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(value)) v = BigInt(value)
  else proofError(`${name} is not an integer`)
  if (v < 0n || v > UINT64_MAX) proofError(`${name} is out of range`)
  return v
}

function checkHash(h: unknown, name: string): asserts h is Uint8Array {
  if (!(h instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`)
  if (h.length !== HASH_SIZE) proofError(`${name} is not a ${HASH_SIZE}-byte hash`)
}

function checkProof(proof: readonly Uint8Array[]): void {
  if (!Array.isArray(proof)) throw new TypeError('proof must be an array of Uint8Array')
  if (proof.length > MAX_PROOF) proofError('proof has too many hashes')
  for (let i = 0; i < proof.length; i++) checkHash(proof[i], `proof[${i}]`)
}

/**
 * Inputs of {@link verifyInclusionProof}.
 *
 * Exported from `countersign/rekor`.
 */
export interface InclusionProofInput {
  /** Index of the leaf in the tree (for Rekor v1, `inclusionProof.logIndex`, the shard-local index). */
  readonly index: bigint | number | string
  readonly treeSize: bigint | number | string
  /** RFC 6962 leaf hash ({@link merkleLeafHash}), not the leaf itself. */
  readonly leafHash: Uint8Array
  /** Audit path, leaf to root. */
  readonly proof: readonly Uint8Array[]
  readonly rootHash: Uint8Array
}

/**
 * The root an inclusion proof leads to: the RFC 9162 §2.1.3.2 algorithm, with its bounds checks (`index < treeSize`,
 * exactly as many hashes as the path needs, 32-byte hashes).
 *
 * @param input - Index, size, leaf hash and proof (`rootHash` is ignored).
 * @returns The computed root hash.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF when the proof is malformed for this index and size.
 * @example
 * ```ts
 * import { rootFromInclusionProof } from 'countersign/rekor'
 * const root = rootFromInclusionProof({ index: 3, treeSize: 8, leafHash, proof, rootHash: new Uint8Array(32) })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function rootFromInclusionProof(input: Omit<InclusionProofInput, 'rootHash'>): Uint8Array {
  const index = toUint64(input.index, 'index')
  const size = toUint64(input.treeSize, 'treeSize')
  checkHash(input.leafHash, 'leafHash')
  checkProof(input.proof)
  if (index >= size) proofError('index is not below the tree size')
  // RFC 9162 §2.1.3.2 steps 2–5.
  let fn = index
  let sn = size - 1n
  let r = input.leafHash
  for (const p of input.proof) {
    if (sn === 0n) proofError('proof has too many hashes')
    if ((fn & 1n) === 1n || fn === sn) {
      r = merkleNodeHash(p, r)
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n
        sn >>= 1n
      }
    } else {
      r = merkleNodeHash(r, p)
    }
    fn >>= 1n
    sn >>= 1n
  }
  if (sn !== 0n) proofError('proof has too few hashes')
  return r
}

/**
 * Verify an RFC 6962 inclusion proof ({@link rootFromInclusionProof} and compare with `rootHash`).
 *
 * @param input - Index, size, leaf hash, proof and expected root.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF when the proof is malformed or leads to another root.
 * @example
 * ```ts
 * import { merkleLeafHash, verifyInclusionProof } from 'countersign/rekor'
 * verifyInclusionProof({ index, treeSize, leafHash: merkleLeafHash(body), proof: hashes, rootHash })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function verifyInclusionProof(input: InclusionProofInput): void {
  checkHash(input.rootHash, 'rootHash')
  const computed = rootFromInclusionProof(input)
  if (!equalBytes(computed, input.rootHash)) proofError('computed root does not match the expected root')
}

/**
 * Inputs of {@link verifyConsistencyProof}.
 *
 * Exported from `countersign/rekor`.
 */
export interface ConsistencyProofInput {
  readonly size1: bigint | number | string
  readonly size2: bigint | number | string
  readonly root1: Uint8Array
  readonly root2: Uint8Array
  readonly proof: readonly Uint8Array[]
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length
}

function popCount(x: bigint): number {
  let n = 0
  for (let v = x; v > 0n; v >>= 1n) n += Number(v & 1n)
  return n
}

function trailingZeros(x: bigint): number {
  let n = 0
  for (let v = x; v > 0n && (v & 1n) === 0n; v >>= 1n) n++
  return n
}

/**
 * Verify an RFC 6962 / RFC 9162 §2.1.4 consistency proof that a tree of `size2` leaves with root `root2` extends the
 * tree of `size1` leaves with root `root1` (the transparency-dev/merkle algorithm; equal sizes need an empty proof and
 * equal roots; an empty first tree is refused, since consistency with it proves nothing).
 *
 * @param input - Both sizes and roots and the proof.
 * @throws {CountersignError} ERR_TLOG_INCLUSION_PROOF when the proof does not show consistency.
 * @example
 * ```ts
 * import { verifyConsistencyProof } from 'countersign/rekor'
 * verifyConsistencyProof({ size1: 7, size2: 8, root1, root2, proof })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function verifyConsistencyProof(input: ConsistencyProofInput): void {
  const size1 = toUint64(input.size1, 'size1')
  const size2 = toUint64(input.size2, 'size2')
  if (!(input.root1 instanceof Uint8Array) || !(input.root2 instanceof Uint8Array)) {
    throw new TypeError('root1 and root2 must be Uint8Array')
  }
  checkProof(input.proof)
  const proof = input.proof
  if (size2 < size1) proofError('size2 is smaller than size1')
  // Consistency with the empty tree proves nothing; transparency-dev/merkle refuses it, and so do we.
  if (size1 === 0n) proofError('size1 is 0')
  if (size1 === size2) {
    // Same tree: the proof is empty and the roots are the same bytes (no hashing, so no length rule applies).
    if (proof.length > 0) proofError('proof must be empty for equal sizes')
    if (!equalBytes(input.root1, input.root2)) proofError('roots differ for equal sizes')
    return
  }
  checkHash(input.root1, 'root1')
  checkHash(input.root2, 'root2')
  if (proof.length === 0) proofError('proof is empty')
  // Decompose the inclusion path of leaf size1-1 in the size2 tree; the part below the largest complete subtree
  // containing it is implied by the old root.
  const index = size1 - 1n
  let inner = bitLength(index ^ (size2 - 1n))
  const border = popCount(index >> BigInt(inner))
  const shift = trailingZeros(size1)
  inner -= shift
  let seed: Uint8Array
  let rest: readonly Uint8Array[]
  if (size1 === 1n << BigInt(shift)) {
    seed = input.root1
    rest = proof
  } else {
    seed = proof[0]!
    rest = proof.slice(1)
  }
  if (rest.length !== inner + border) proofError('proof has the wrong number of hashes')
  const mask = index >> BigInt(shift)
  let hash1 = seed
  let hash2 = seed
  for (let i = 0; i < inner; i++) {
    const h = rest[i]!
    if (((mask >> BigInt(i)) & 1n) === 1n) {
      hash1 = merkleNodeHash(h, hash1)
      hash2 = merkleNodeHash(h, hash2)
    } else {
      hash2 = merkleNodeHash(hash2, h)
    }
  }
  for (let i = inner; i < rest.length; i++) {
    hash1 = merkleNodeHash(rest[i]!, hash1)
    hash2 = merkleNodeHash(rest[i]!, hash2)
  }
  if (!equalBytes(hash1, input.root1)) proofError('proof does not lead to root1')
  if (!equalBytes(hash2, input.root2)) proofError('proof does not lead to root2')
}
