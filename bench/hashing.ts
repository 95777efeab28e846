// SHA-256 throughput of each implementation the SDK can hash with, in one run: Node's native hash (node:crypto,
// OpenSSL, through `nodeHasher`), Web Crypto (`crypto.subtle.digest`, whole buffer: it has no streaming form), the
// portable streaming hasher the registry client defaults to (@noble/hashes), and the SDK's own synchronous JS SHA-256
// (src/internal/sha2.ts, the verification path's small-input hash). Large input: 256 MiB fed in 1 MiB chunks (one
// buffer for the whole-buffer forms). Small input: a Rekor Merkle node (0x01 ‖ 32 ‖ 32 bytes), per call.
// Prints MB/s, the portable/native ratio (the goal: ≥ 0.5, or the portable path never used where native
// exists), and ns per small hash.
// Run: npx tsx bench/hashing.ts   (HASH_MIB=64 for a quicker run; ROUNDS=3 keeps the best of 3)
import { createHash, randomFillSync } from 'node:crypto'
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js'
import { sha256, sha256Parts } from '../src/internal/sha2.js'
import { nodeHasher } from '../src/node/hasher.js'
import { nobleHasher } from '../src/oci/blob-download.js'

const MiB = 1024 * 1024
const TOTAL_MIB = Number(process.env.HASH_MIB ?? 256)
const ROUNDS = Number(process.env.ROUNDS ?? 1)
const CHUNK = MiB

const whole = new Uint8Array(TOTAL_MIB * MiB)
for (let o = 0; o < whole.length; o += 64 * MiB) randomFillSync(whole, o, Math.min(64 * MiB, whole.length - o))
const chunks = Array.from({ length: TOTAL_MIB }, (_, i) => whole.subarray(i * CHUNK, (i + 1) * CHUNK))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const expected = createHash('sha256').update(whole).digest('hex')

/** Best MB/s over ROUNDS runs of `fn`, which must return the SHA-256 of the whole input. */
async function rate(label: string, fn: () => Promise<Uint8Array> | Uint8Array): Promise<number> {
  let best = 0
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now()
    const digest = await fn()
    const seconds = (performance.now() - t0) / 1000
    if (hex(digest) !== expected) throw new Error(`${label}: wrong digest`)
    best = Math.max(best, whole.length / 1e6 / seconds)
  }
  console.log(`${label.padEnd(58)} ${best.toFixed(0).padStart(6)} MB/s`)
  return best
}

console.log(`SHA-256 of ${TOTAL_MIB} MiB, node ${process.version}, best of ${ROUNDS}\n`)
const native = await rate('native: nodeHasher (node:crypto), 1 MiB chunks', () => {
  const h = nodeHasher('sha256')
  for (const c of chunks) h.update(c)
  return h.digest()
})
const webcrypto = await rate(
  'Web Crypto: crypto.subtle.digest, whole buffer',
  async () => new Uint8Array(await crypto.subtle.digest('SHA-256', whole)),
)
const noble = await rate('portable: nobleHasher (@noble/hashes), 1 MiB chunks', () => {
  const h = nobleHasher('sha256')
  for (const c of chunks) h.update(c)
  return h.digest()
})
const internal = await rate('portable: internal sha256Parts (src/internal/sha2.ts)', () => sha256Parts(chunks))

console.log(
  `\nratio Web Crypto/native ${(webcrypto / native).toFixed(2)}, noble/native ${(noble / native).toFixed(2)}, internal/native ${(internal / native).toFixed(2)}`,
)

// Small inputs: a Merkle interior node, as rekor/merkle.ts hashes it (prefix, left, right).
const N = 200_000
const left = whole.subarray(0, 32)
const right = whole.subarray(32, 64)
const prefix = Uint8Array.of(1)
const node = new Uint8Array(65)
node.set(prefix)
node.set(left, 1)
node.set(right, 33)
const want = createHash('sha256').update(node).digest('hex')
async function perCall(label: string, fn: () => Promise<Uint8Array> | Uint8Array, n = N): Promise<void> {
  if (hex(await fn()) !== want) throw new Error(`${label}: wrong digest`)
  for (let i = 0; i < 1000; i++) await fn()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await fn()
  const ns = ((performance.now() - t0) * 1e6) / n
  console.log(`${label.padEnd(58)} ${ns.toFixed(0).padStart(6)} ns/hash`)
}
console.log('\nMerkle node (65 bytes):')
await perCall('internal sha256Parts([0x01, left, right]) (verifier today)', () => sha256Parts([prefix, left, right]))
await perCall('internal sha256(node)', () => sha256(node))
await perCall('node:crypto createHash().update().digest()', () => {
  const h = createHash('sha256')
  h.update(prefix)
  h.update(left)
  h.update(right)
  return h.digest()
})
await perCall('@noble/hashes sha256(node)', () => nobleSha256(node))
await perCall(
  'Web Crypto crypto.subtle.digest(node), awaited one by one',
  async () => new Uint8Array(await crypto.subtle.digest('SHA-256', node)),
  20_000,
)
