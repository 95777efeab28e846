/**
 * Mutation: seeded single-bit flips across the signature, payload, certificate, log entry body, SET, inclusion
 * proof, checkpoint, RFC 3161 timestamp and artifact of several valid bundles. Every mutant must be rejected.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { fromBase64, toBase64 } from '../../src/internal/bytes.js'
import { parsePublicKey } from '../../src/keys/index.js'
import type { SignatureBackend } from '../../src/keys/verify.js'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'
import { type BundlePolicy, verifyBundle } from '../../src/verifier/verify-bundle.js'

const dir = new URL('../vectors/bundles/', import.meta.url)
const CASES = [
  'conformance-happy-path-v0.3',
  'conformance-happy-path-v0.1',
  'conformance-happy-path-intoto-in-dsse-v3',
  'conformance-rekor2-happy-path',
  'conformance-managed-key-happy-path',
  'sigstore-js-client-v0.3-message-signature',
]
const MUTANTS_PER_FIELD = 80

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

// biome-ignore lint/suspicious/noExplicitAny: bundle JSON is walked by path
type Json = any
/** Paths of base64 (or text) fields that verification depends on. */
function targets(b: Json): { path: (string | number)[]; text?: boolean }[] {
  const out: { path: (string | number)[]; text?: boolean }[] = []
  const has = (path: (string | number)[]) => path.reduce((o, k) => (o == null ? undefined : o[k]), b) !== undefined
  const add = (path: (string | number)[], text = false) => {
    if (has(path)) out.push({ path, ...(text ? { text } : {}) })
  }
  add(['messageSignature', 'signature'])
  add(['dsseEnvelope', 'signatures', 0, 'sig'])
  add(['dsseEnvelope', 'payload'])
  add(['verificationMaterial', 'certificate', 'rawBytes'])
  add(['verificationMaterial', 'x509CertificateChain', 'certificates', 0, 'rawBytes'])
  const e = ['verificationMaterial', 'tlogEntries', 0]
  add([...e, 'canonicalizedBody'])
  add([...e, 'inclusionPromise', 'signedEntryTimestamp'])
  add([...e, 'inclusionProof', 'rootHash'])
  add([...e, 'inclusionProof', 'hashes', 0])
  add([...e, 'inclusionProof', 'checkpoint', 'envelope'], true)
  add(['verificationMaterial', 'timestampVerificationData', 'rfc3161Timestamps', 0, 'signedTimestamp'])
  return out
}

/**
 * Byte positions of a checkpoint that its signature covers or that select the key: the note body and each signature
 * line's base64 (key hint + signature). The signer *name* on a Rekor v1 signature line is not signed and not
 * matched (v1 checkpoints are matched by key hint, shared/README verdict policy), so flipping it is no mutation.
 */
function checkpointSignedPositions(text: string): number[] {
  const bytes = new TextEncoder().encode(text)
  const split = text.lastIndexOf('\n\n')
  const bodyEnd = new TextEncoder().encode(text.slice(0, split + 1)).length
  const out = [...Array(bodyEnd).keys()]
  let offset = bodyEnd + 1
  for (const line of text.slice(split + 2).split('\n')) {
    const lineBytes = new TextEncoder().encode(line).length
    const b64Start = new TextEncoder().encode(line.slice(0, line.lastIndexOf(' ') + 1)).length
    // The last base64 character's low bits may be padding that decoders ignore; keep to the full characters.
    for (let i = b64Start; i < lineBytes - 1; i++) out.push(offset + i)
    offset += lineBytes + 1
  }
  return out.filter((p) => p < bytes.length)
}

function setPath(o: Json, path: (string | number)[], value: unknown) {
  let x = o
  for (const k of path.slice(0, -1)) x = x[k]
  x[path.at(-1)!] = value
}
const getPath = (o: Json, path: (string | number)[]) => path.reduce((x, k) => x[k], o)

// Both signature backends must reject every mutant (they share all checks but the curve arithmetic).
const BACKENDS: readonly [string, SignatureBackend | undefined][] = [
  ['Web Crypto', undefined],
  ['nodeSignatureBackend', nodeSignatureBackend],
]

describe.each(BACKENDS)('mutants of valid bundles are all rejected (%s)', (_, signatureBackend) => {
  for (const name of CASES) {
    const file = (f: string) => readFileSync(new URL(`${name}/${f}`, dir))
    const c = JSON.parse(file('case.json').toString('utf8'))
    const root = parseTrustedRoot(file('trusted_root.json'))
    const policy: BundlePolicy = c.key
      ? { key: parsePublicKey(file(c.key).toString('utf8')) }
      : { identity: { subject: c.identity, issuer: c.issuer } }
    const artifact = c.artifact ? new Uint8Array(file(c.artifact)) : { digest: c.artifactDigest as string }
    const original: Json = JSON.parse(file('bundle.sigstore.json').toString('utf8'))

    it(`${name}: the unmodified bundle verifies`, async () => {
      await expect(
        verifyBundle(original, artifact, { trustedRoot: root, policy, signatureBackend }),
      ).resolves.toBeDefined()
    })

    for (const t of targets(original)) {
      it(`${name}: ${MUTANTS_PER_FIELD} bit flips in ${t.path.join('.')}`, async () => {
        const rand = prng(0xc0ffee ^ t.path.join('.').length ^ name.length)
        const value = getPath(original, t.path) as string
        const bytes = t.text ? new TextEncoder().encode(value) : fromBase64(value)
        const positions = t.text ? checkpointSignedPositions(value) : [...bytes.keys()]
        // A timestamp that fails is dropped when other times exist (shared/README verdict policy); require it here.
        const extra = t.path.includes('rfc3161Timestamps') ? { signedTimestampThreshold: 1 } : {}
        const survivors: string[] = []
        for (let i = 0; i < MUTANTS_PER_FIELD; i++) {
          const pos = positions[Math.floor(rand() * positions.length)]!
          const bit = 1 << Math.floor(rand() * 8)
          const mutated = bytes.slice()
          mutated[pos]! ^= bit
          const doc = structuredClone(original)
          setPath(doc, t.path, t.text ? new TextDecoder().decode(mutated) : toBase64(mutated))
          const ok = await verifyBundle(doc, artifact, { trustedRoot: root, policy, signatureBackend, ...extra }).then(
            () => true,
            () => false,
          )
          if (ok) survivors.push(`byte ${pos} bit ${bit}`)
        }
        expect(survivors).toEqual([])
      })
    }

    it(`${name}: ${MUTANTS_PER_FIELD} bit flips in the artifact`, async () => {
      if (!(artifact instanceof Uint8Array)) return
      const rand = prng(0xa57)
      for (let i = 0; i < MUTANTS_PER_FIELD; i++) {
        const m = artifact.slice()
        m[Math.floor(rand() * m.length)]! ^= 1 << Math.floor(rand() * 8)
        await expect(verifyBundle(original, m, { trustedRoot: root, policy, signatureBackend })).rejects.toHaveProperty(
          'code',
        )
      }
    })
  }
})
