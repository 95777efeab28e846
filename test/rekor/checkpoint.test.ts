import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { describe, expect, test } from 'vitest'
import { fromBase64, fromHex, toBase64, toHex } from '../../src/internal/bytes.js'
import { generateKeyPair, parsePublicKey, signData } from '../../src/keys/index.js'
import {
  checkpointVerifierForLog,
  ed25519NoteVerifier,
  formatCheckpoint,
  type NoteVerifier,
  parseCheckpoint,
  parseNoteVerifierKey,
  parseSignedNote,
  rekorV1NoteVerifier,
  verifyCheckpoint,
  verifySignedNote,
} from '../../src/rekor/checkpoint.js'
import { merkleLeafHash, verifyInclusionProof } from '../../src/rekor/merkle.js'
import { parseTrustedRoot, selectTransparencyLogs } from '../../src/trust/trusted-root.js'

/** Table rows `[name, vector]` for test.each over JSON vectors. */
// biome-ignore lint/suspicious/noExplicitAny: vectors are JSON of several shapes
const rows = (vs: any[], key: string): [string, any][] => vs.map((v) => [String(v[key]), v])
const VECTORS = resolve(import.meta.dirname, '../vectors')
const read = (p: string) => JSON.parse(readFileSync(join(VECTORS, p), 'utf8'))
const CODE = expect.objectContaining({ code: 'ERR_TLOG_INCLUSION_PROOF' })

describe('C2SP signed-note examples', () => {
  const vectors = read('checkpoints/c2sp-signed-note-examples/vectors.json')
  test.each(rows(vectors, 'desc'))('%s', async (_desc, v) => {
    if (v.verifierKey) {
      const verifier = parseNoteVerifierKey(v.verifierKey)
      if (v.keyId) expect(toHex(verifier.keyHint)).toBe(v.keyId)
      if (v.signedText) expect(parseSignedNote(v.signedNote).text).toBe(v.signedText)
      const run = verifySignedNote(v.signedNote, [verifier])
      if (v.expect === 'pass') await expect(run).resolves.toEqual([verifier])
      else await expect(run).rejects.toMatchObject({ code: 'ERR_TLOG_INCLUSION_PROOF' })
      return
    }
    // Parse-only examples: the log's key is not published.
    const note = parseSignedNote(v.signedNote)
    const cp = parseCheckpoint(note.text)
    expect(cp.origin).toBe(v.parsed.origin)
    expect(cp.treeSize).toBe(BigInt(v.parsed.size))
    expect(toBase64(cp.rootHash)).toBe(v.parsed.rootHashB64)
    expect(note.signatures.map((s) => s.name)).toEqual(v.parsed.signatureNames)
    // Unknown signers (the log itself here, a witness) are ignored, so with no known key nothing verifies.
    const stranger = ed25519NoteVerifier(
      'example.com/other',
      (await generateKeyPair({ algorithm: 'ed25519' })).publicKey,
    )
    await expect(verifySignedNote(note, [stranger])).rejects.toMatchObject({ code: 'ERR_TLOG_INCLUSION_PROOF' })
  })

  test('a verifier key whose ID does not match its name and key is refused', () => {
    expect(() => parseNoteVerifierKey('example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
  })
})

describe('Rekor checkpoint parsing (rekor pkg/util)', () => {
  const vectors = read('checkpoints/rekor-checkpoint-parse/vectors.json')
  test.each(rows(vectors, 'desc'))('%s', (_desc, v) => {
    if (v.direction?.startsWith('marshal')) {
      const f = v.fields
      const body = formatCheckpoint({
        origin: f.origin,
        treeSize: BigInt(f.size),
        rootHash: fromBase64(f.rootHashB64),
        extensions: f.otherContent,
      })
      expect(body).toBe(v.checkpointBody)
      return
    }
    const run = () =>
      v.signedNote ? parseCheckpoint(parseSignedNote(v.signedNote).text) : parseCheckpoint(v.checkpointBody)
    if (v.expect === 'fail') return expect(run).toThrow(CODE)
    const cp = run()
    if (v.parsed) {
      expect(cp.origin).toBe(v.parsed.origin)
      expect(cp.treeSize).toBe(BigInt(v.parsed.size))
      expect(toBase64(cp.rootHash)).toBe(v.parsed.rootHashB64)
      expect(cp.extensions).toEqual(v.parsed.otherContent)
    }
  })
})

describe('sigstore-python checkpoint parsing', () => {
  const vectors = read('checkpoints/sigstore-python-checkpoint-parse/vectors.json')
  test.each(rows(vectors, 'desc'))('%s', (_desc, v) => {
    if (v.expect === 'fail') return expect(() => parseCheckpoint(v.checkpointBody)).toThrow(CODE)
    const cp = parseCheckpoint(v.checkpointBody)
    expect(cp.origin).toBe(v.parsed.origin)
    expect(cp.treeSize).toBe(BigInt(v.parsed.size))
    expect(toHex(cp.rootHash)).toBe(v.parsed.rootHashHex)
    expect(cp.extensions).toEqual(v.parsed.otherContent)
  })
})

describe('sigstore-js checkpoint verification', () => {
  // The vectors' rule: key found by hint, signature name equal to the log host (compared literally), root hash equal
  // to the inclusion proof's. That is a named verifier here.
  const vectors = read('checkpoints/sigstore-js-verify-checkpoint/vectors.json')
  test.each(rows(vectors, 'desc'))('%s', async (_desc, v) => {
    const key = parsePublicKey(fromBase64(v.logPublicKeySpkiB64))
    const verifier: NoteVerifier = { ...rekorV1NoteVerifier(key), name: new URL(v.logBaseUrl).host }
    const run = verifyCheckpoint(v.envelope, [verifier], { rootHash: fromBase64(v.inclusionProofRootHashB64) })
    if (v.expect === 'fail') return expect(run).rejects.toMatchObject({ code: 'ERR_TLOG_INCLUSION_PROOF' })
    const cp = await run
    expect(cp.treeSize).toBe(BigInt(v.expectedLogSize))
    // The same note also verifies by key hint alone (how trusted-root Rekor v1 logs are matched).
    await expect(verifyCheckpoint(v.envelope, [rekorV1NoteVerifier(key)])).resolves.toEqual(cp)
  })

  test('a signature from a matching key that does not verify rejects the note', async () => {
    const v = vectors[0]
    const key = parsePublicKey(fromBase64(v.logPublicKeySpkiB64))
    const tampered = v.envelope.replace('21428036', '21428037')
    await expect(verifyCheckpoint(tampered, [rekorV1NoteVerifier(key)])).rejects.toMatchObject({
      code: 'ERR_TLOG_INCLUSION_PROOF',
      details: { check: 'checkpoint', reason: 'invalid signature' },
    })
    await expect(verifyCheckpoint(v.envelope, [rekorV1NoteVerifier(key)], { treeSize: 5 })).rejects.toMatchObject({
      code: 'ERR_TLOG_INCLUSION_PROOF',
    })
    await expect(
      verifyCheckpoint(v.envelope, [rekorV1NoteVerifier(key)], { origin: 'elsewhere' }),
    ).rejects.toMatchObject({
      code: 'ERR_TLOG_INCLUSION_PROOF',
    })
  })
})

describe('signed notes made here', () => {
  test('Ed25519 and ECDSA notes round-trip; strict syntax', async () => {
    const ed = await generateKeyPair({ algorithm: 'ed25519' })
    const ec = await generateKeyPair()
    const text = formatCheckpoint({ origin: 'log.example', treeSize: 7n, rootHash: new Uint8Array(32), extensions: [] })
    const edV = ed25519NoteVerifier('log.example', ed.publicKey)
    const ecV = rekorV1NoteVerifier(ec.publicKey)
    const line = (name: string, hint: Uint8Array, sig: Uint8Array) => {
      const raw = new Uint8Array(hint.length + sig.length)
      raw.set(hint)
      raw.set(sig, hint.length)
      return `\u2014 ${name} ${toBase64(raw)}\n`
    }
    const edSig = await signData(ed, new TextEncoder().encode(text), { algorithm: 'ed25519' })
    const ecSig = await signData(ec, new TextEncoder().encode(text))
    const note = `${text}\n${line('log.example', edV.keyHint, edSig)}${line('whatever', ecV.keyHint, ecSig)}`
    await expect(verifySignedNote(note, [edV, ecV])).resolves.toEqual([edV, ecV])
    // C2SP keys are bound to their name; v1 keys are not.
    await expect(verifySignedNote(note.replace('\u2014 log.example', '\u2014 log.other'), [edV])).rejects.toMatchObject(
      { code: 'ERR_TLOG_INCLUSION_PROOF' },
    )
    for (const bad of [
      note.replace('\n\n', '\n'), // no blank line
      note.slice(0, -1), // no final newline
      `${note}\n`, // blank line inside the signature block
      note.replace('\u2014 log.example', '- log.example'),
      note.replace('\u2014 log.example ', '\u2014 log+example '),
      note.replace('\u2014 log.example ', '\u2014  '),
    ]) {
      await expect(verifySignedNote(bad, [edV, ecV])).rejects.toMatchObject({ code: 'ERR_TLOG_INCLUSION_PROOF' })
    }
    expect(() => parseSignedNote(`${text}\n${'\u2014 a AAAAAAA=\n'.repeat(101)}`)).toThrow(CODE)
  })
})

interface BundleTlogVector {
  case: string
  bundleExpect: 'pass' | 'fail'
  trustedRoot: string | object
  entry: {
    logId: { keyId: string }
    canonicalizedBody: string
    inclusionProof: {
      logIndex: string
      rootHash: string
      treeSize: string
      hashes?: string[]
      checkpoint: { envelope: string }
    }
  }
}

describe('checkpoints and inclusion proofs of real bundles (Rekor v1 and v2)', () => {
  const vectors: BundleTlogVector[] = read('checkpoints/bundle-tlog-entries/vectors.json')
  test.each(vectors.map((v) => [v.case, v] as const))('%s', async (_name, v) => {
    const root = parseTrustedRoot(
      typeof v.trustedRoot === 'string' ? readFileSync(join(VECTORS, 'trusted-roots', v.trustedRoot)) : v.trustedRoot,
    )
    const proof = v.entry.inclusionProof
    const check = async () => {
      // The checkpoint must be signed by the log that holds the entry.
      const logs = selectTransparencyLogs(root.tlogs, fromBase64(v.entry.logId.keyId))
      await verifyCheckpoint(proof.checkpoint.envelope, logs.map(checkpointVerifierForLog), {
        rootHash: fromBase64(proof.rootHash),
        treeSize: proof.treeSize,
      })
      verifyInclusionProof({
        index: proof.logIndex,
        treeSize: proof.treeSize,
        leafHash: merkleLeafHash(fromBase64(v.entry.canonicalizedBody)),
        proof: (proof.hashes ?? []).map((h) => fromBase64(h)),
        rootHash: fromBase64(proof.rootHash),
      })
    }
    // Every bundle here fails (if at all) because of its checkpoint or proof.
    if (v.bundleExpect === 'pass') await expect(check()).resolves.toBeUndefined()
    else await expect(check()).rejects.toMatchObject({ code: 'ERR_TLOG_INCLUSION_PROOF' })
  })

  test('a Rekor v2 log is matched by name and C2SP key ID, a v1 log by SPKI hint', () => {
    const root = parseTrustedRoot(readFileSync(join(VECTORS, 'trusted-roots/production-trusted_root.json')))
    const [v1, v2] = root.tlogs.map(checkpointVerifierForLog)
    expect(v1!.name).toBeUndefined()
    expect(v1!.keyHint).toEqual(sha256(root.tlogs[0]!.publicKey.rawBytes).slice(0, 4))
    expect(v2!.name).toBe('log2025-1.rekor.sigstore.dev')
    expect(toHex(v2!.keyHint)).toBe('cf119915')
    expect(ed25519NoteVerifier('log2025-1.rekor.sigstore.dev', v2!.key).keyHint).toEqual(fromHex('cf119915'))
  })
})
