// Verification throughput: countersign's verifySignature (Web Crypto) against @noble/curves (pure JS), measured
// in the same run, plus a whole legacy image verification with many signatures in a memory layout.
// Run: npx tsx bench/verify-signatures.ts
import { p256 } from '@noble/curves/nist.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { signImage } from '../src/image/sign.js'
import { verifyImage } from '../src/image/verify.js'
import { generateKeyPair, parsePublicKey, signData, verifySignature } from '../src/keys/index.js'
import { createLayoutStore, createMemoryFileSystem } from '../src/oci/index.js'
import { createKeySigner } from '../src/signers/index.js'

async function rate(label: string, n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < Math.min(50, n); i++) await fn()
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await fn()
  const perSec = n / ((performance.now() - t0) / 1000)
  console.log(`${label.padEnd(44)} ${perSec.toFixed(0).padStart(8)} /s`)
  return perSec
}

const key = await generateKeyPair()
const message = new TextEncoder().encode('{"critical":{"identity":{"docker-reference":"x"}}}')
const sig = await signData(key, message)
const pub = parsePublicKey(key.publicKey.spki)
const raw = p256.getPublicKey(new Uint8Array(key.pkcs8.slice(36, 68)))

// Both sides must actually accept the signature, or the comparison means nothing.
if (!(await verifySignature(pub, message, sig))) throw new Error('countersign rejected the signature')
if (!p256.verify(sig, sha256(message), raw, { format: 'der', lowS: false, prehash: false })) {
  throw new Error('noble rejected the signature')
}
const ours = await rate('countersign verifySignature (P-256, DER)', 5000, () => verifySignature(pub, message, sig))
const noble = await rate('@noble/curves p256.verify (DER, lowS off)', 500, () =>
  p256.verify(sig, sha256(message), raw, { format: 'der', lowS: false, prehash: false }),
)
console.log(`ratio countersign / noble: ${(ours / noble).toFixed(1)}x`)

// Whole-image verification: 50 signatures by different keys on one image, verified with the last key.
const store = createLayoutStore(createMemoryFileSystem())
const repo = { registry: 'localhost', repository: 'bench' }
const enc = new TextEncoder()
const cfg = await store.pushBlob(repo, enc.encode('{}'), 'application/vnd.oci.image.config.v1+json')
const manifest = enc.encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: cfg.mediaType, digest: cfg.digest, size: cfg.size },
    layers: [],
  }),
)
const img = await store.pushManifest({ ...repo, tag: 'v1' }, manifest, 'application/vnd.oci.image.manifest.v1+json')
const ref = { ...repo, digest: img.digest }
let last = key
for (let i = 0; i < 50; i++) {
  last = await generateKeyPair()
  await signImage(ref, createKeySigner(last), { store, tlogUpload: false })
}
await rate('verifyImage, 50 signatures (memory layout)', 50, () =>
  verifyImage(ref, { store, keys: [last.publicKey], insecureIgnoreTlog: true }),
)
