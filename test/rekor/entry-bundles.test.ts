import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, test } from 'vitest'
import { type Bundle, parseBundle } from '../../src/bundle/bundle.js'
import { fromHex } from '../../src/internal/bytes.js'
import {
  type VerifyTransparencyLogEntryOptions,
  verifyTransparencyLogEntry,
  verifyTransparencyLogInclusion,
} from '../../src/rekor/verify-entry.js'
import { parseTrustedRoot } from '../../src/trust/trusted-root.js'

const DIR = resolve(import.meta.dirname, '../vectors/bundles')

function load(name: string): { bundle: Bundle; options: VerifyTransparencyLogEntryOptions } {
  const d = join(DIR, name)
  const c = JSON.parse(readFileSync(join(d, 'case.json'), 'utf8'))
  const bundle = parseBundle(new Uint8Array(readFileSync(join(d, 'bundle.sigstore.json'))))
  const root = parseTrustedRoot(new Uint8Array(readFileSync(join(d, 'trusted_root.json'))))
  const vm = bundle.verificationMaterial
  const verifier =
    vm.type === 'certificate'
      ? { certificate: vm.certificate }
      : vm.type === 'x509CertificateChain'
        ? { certificate: vm.certificates[0]! }
        : { publicKey: readFileSync(join(d, 'key.pub'), 'utf8') }
  const [algorithm, hex] = String(c.artifactDigest ?? '').split(':')
  const artifact =
    c.artifact && existsSync(join(d, c.artifact))
      ? new Uint8Array(readFileSync(join(d, c.artifact)))
      : hex
        ? { algorithm: algorithm as 'sha256', digest: fromHex(hex) }
        : undefined
  return {
    bundle,
    options: {
      tlogs: root.tlogs,
      bundleVersion: bundle.version,
      content: bundle.content,
      verifier,
      ...(artifact === undefined ? {} : { artifact }),
    },
  }
}

// Cases whose bundle the log vouches for: every entry verifies (some fail elsewhere, e.g. certificate validity).
const PASS: [string, string[], boolean][] = [
  // [case, verifiedBy, has a SET-backed integrated time]
  ['conformance-happy-path-v0.1', ['set', 'proof'], true],
  ['conformance-happy-path-v0.3', ['set', 'proof'], true],
  ['conformance-happy-path-intoto-in-dsse-v3', ['set', 'proof'], true],
  ['conformance-managed-key-happy-path', ['set', 'proof'], true],
  ['conformance-bundle-with-sct-with-extensions', ['proof'], false],
  ['conformance-rekor2-happy-path', ['proof'], false],
  ['conformance-rekor2-dsse-happy-path', ['proof'], false],
  ['conformance-rekor2-checkpoint-cosigned', ['proof'], false],
  ['conformance-rekor2-checkpoint-multiple-cosigs', ['proof'], false],
  ['conformance-rekor2-checkpoint-two-sigs-from-origin', ['proof'], false],
  ['conformance-trust-root-tlog-validity-end-inclusive', ['set', 'proof'], true],
  ['conformance-integrated-time-in-future_fail', ['set', 'proof'], true], // fails on certificate validity, not here
  ['cosign-oci-attestation-new-bundle-format', ['set', 'proof'], true],
  ['sigstore-go-dsse-single-sig', ['set'], true],
  ['sigstore-go-example-bundle-provenance', ['set'], true],
  ['sigstore-go-example-bundle-publish-key', ['set'], true],
  ['sigstore-go-othername-san', ['set', 'proof'], true],
  ['sigstore-js-client-v0.1-dsse', ['set'], true],
  ['sigstore-js-client-v0.1-dsse-public-key', ['set'], true],
  ['sigstore-js-client-v0.1-message-signature', ['set'], true],
  ['sigstore-js-client-v0.2-message-signature', ['set', 'proof'], true],
  ['sigstore-js-client-v0.3-dsse', ['set', 'proof'], true],
  ['sigstore-js-client-v0.3-message-signature', ['set', 'proof'], true],
  ['sigstore-js-compat-bundleV01-dsse-with-proof', ['set', 'proof'], true],
  ['sigstore-js-compat-bundleV01-full-cert-chain', ['set'], true],
  ['sigstore-js-compat-bundleV01-intoto-no-proof', ['set'], true],
  ['sigstore-js-compat-bundleV01-intoto-with-proof', ['set', 'proof'], true],
  ['sigstore-js-compat-bundleV02-dsse', ['set', 'proof'], true],
  ['sigstore-js-compat-bundleV03-dsse', ['set', 'proof'], true],
  ['sigstore-js-compat-bundleV03-intoto', ['set', 'proof'], true],
  ['sigstore-js-verify-v0.3-rekor-v2-hashedrekord', ['proof'], false],
  ['sigstore-python-bundle-v0.1-staging', ['set', 'proof'], true],
  ['sigstore-python-bundle-v0.3-staging', ['set', 'proof'], true],
  ['sigstore-python-dsse-staging-rekor-v2', ['proof'], false],
  ['sigstore-python-github-actions-wheel-production', ['set', 'proof'], true],
]

describe('entries the log vouches for', () => {
  test.each(PASS)('%s', async (name, verifiedBy, timed) => {
    const { bundle, options } = load(name)
    expect(bundle.tlogEntries.length).toBeGreaterThan(0)
    for (const entry of bundle.tlogEntries) {
      const r = await verifyTransparencyLogEntry(entry, options)
      expect(r.verifiedBy).toEqual(verifiedBy)
      expect(r.integratedTime !== undefined).toBe(timed)
      if (timed) expect(r.integratedTime!.getTime()).toBe(Number(r.entry.integratedTime) * 1000)
      expect(options.tlogs).toContain(r.log)
      if (verifiedBy.includes('proof')) expect(r.checkpoint?.treeSize).toBe(r.entry.inclusionProof?.treeSize)
    }
  })
})

const MISMATCH = { code: 'ERR_TLOG_ENTRY_MISMATCH', details: { check: 'body' } }
const tlog = (check: string) => ({ code: 'ERR_TLOG_INCLUSION_PROOF', details: { check } })

const FAIL: [string, object, RegExp][] = [
  ['conformance-bundle-from-wrong-instance_fail', tlog('log'), /no trusted transparency log/],
  ['conformance-checkpoint-bad-keyhint_fail', tlog('checkpoint'), /no signature from a trusted log key/],
  ['conformance-invalid-checkpoint-signature_fail', tlog('checkpoint'), /invalid signature/],
  ['conformance-inclusion-proof-corrupted-hash_fail', tlog('proof'), /computed root does not match/],
  ['conformance-intoto-missing-inclusion-proof_fail', tlog('proof'), /v0\.2 bundle entry needs an inclusion proof/],
  // An old proof without its checkpoint: refused before the proof is even computed.
  ['conformance-invalid-inclusion-proof_fail', tlog('checkpoint'), /no checkpoint/],
  ['sigstore-python-cpython-3.12.5-v0.1-proof-without-checkpoint_fail', tlog('checkpoint'), /no checkpoint/],
  ['sigstore-python-v0.2-inclusion-proof-without-checkpoint_fail', tlog('checkpoint'), /no checkpoint/],
  ['conformance-rekor2-checkpoint-missing-log-signature_fail', tlog('checkpoint'), /missing signature lines/],
  ['conformance-rekor2-checkpoint-missing-origin_fail', tlog('checkpoint'), /too few lines/],
  ['conformance-rekor2-checkpoint-missing-root-hash_fail', tlog('checkpoint'), /too few lines/],
  ['conformance-rekor2-checkpoint-no-matching-signature_fail', tlog('checkpoint'), /no signature from a trusted/],
  ['conformance-rekor2-no-inclusion-proof_fail', tlog('proof'), /needs an inclusion proof/],
  ['conformance-dsse-invalid-sig_fail', MISMATCH, /signature differs/],
  ['conformance-dsse-mismatch-envelope_fail', MISMATCH, /signature differs/],
  ['conformance-rekor2-dsse-invalid-sig_fail', MISMATCH, /signature differs/],
  ['conformance-rekor2-dsse-mismatch-sig_fail', MISMATCH, /signature differs/],
  ['conformance-signature-mismatch_fail', MISMATCH, /signature differs/],
  ['conformance-wrong-hashedrekord-artifact_fail', MISMATCH, /differs/],
  ['conformance-wrong-hashedrekord-cert-and-sig_fail', MISMATCH, /differs/],
  ['conformance-wrong-material_fail', MISMATCH, /digest differs from the artifact/],
  ['sigstore-js-client-v0.1-message-signature-wrong-artifact_fail', MISMATCH, /digest differs from the artifact/],
]

describe('entries that must be refused, for the stated reason', () => {
  test.each(FAIL)('%s', async (name, error, message) => {
    const { bundle, options } = load(name)
    const p = verifyTransparencyLogEntry(bundle.tlogEntries[0], options)
    await expect(p).rejects.toMatchObject(error)
    await expect(p).rejects.toThrow(message)
  })

  test('integrated time in the future (conformance-integrated-time-in-future_fail at a time before it)', async () => {
    const { bundle, options } = load('conformance-integrated-time-in-future_fail')
    const integrated = Number((bundle.tlogEntries[0] as { integratedTime: string }).integratedTime)
    const before = new Date((integrated - 61) * 1000)
    await expect(verifyTransparencyLogEntry(bundle.tlogEntries[0], { ...options, now: before })).rejects.toMatchObject(
      tlog('integratedTime'),
    )
    // Within the default one-minute skew it passes; with no skew allowed it does not.
    const close = new Date((integrated - 30) * 1000)
    await expect(verifyTransparencyLogEntry(bundle.tlogEntries[0], { ...options, now: close })).resolves.toBeDefined()
    await expect(
      verifyTransparencyLogEntry(bundle.tlogEntries[0], { ...options, now: close, clockSkewSeconds: 0 }),
    ).rejects.toMatchObject(tlog('integratedTime'))
  })
})

describe('bundle versions and evidence', () => {
  test('a v0.1 entry without an inclusion promise is refused even with a proof', async () => {
    const { bundle, options } = load('conformance-happy-path-v0.1')
    const { inclusionPromise: _, ...entry } = bundle.tlogEntries[0] as Record<string, unknown>
    await expect(verifyTransparencyLogEntry(entry, options)).rejects.toMatchObject(tlog('set'))
  })

  test('a v0.3 entry with only a SET is refused', async () => {
    const { bundle, options } = load('conformance-happy-path-v0.3')
    const { inclusionProof: _, ...entry } = bundle.tlogEntries[0] as Record<string, unknown>
    await expect(verifyTransparencyLogEntry(entry, options)).rejects.toMatchObject(tlog('proof'))
  })

  test('a forged SET is refused', async () => {
    const { bundle, options } = load('conformance-happy-path-v0.3')
    const e = bundle.tlogEntries[0] as { inclusionPromise: { signedEntryTimestamp: string } }
    const sig = e.inclusionPromise.signedEntryTimestamp
    const forged = { ...e, inclusionPromise: { signedEntryTimestamp: `${sig.slice(0, 20)}A${sig.slice(21)}` } }
    await expect(verifyTransparencyLogEntry(forged, options)).rejects.toMatchObject(tlog('set'))
  })

  test('a changed integrated time breaks the SET', async () => {
    const { bundle, options } = load('conformance-happy-path-v0.3')
    const e = bundle.tlogEntries[0] as { integratedTime: string }
    const moved = { ...e, integratedTime: String(Number(e.integratedTime) - 3600) }
    await expect(verifyTransparencyLogEntry(moved, options)).rejects.toMatchObject(tlog('set'))
  })

  test('a proof for another leaf index is refused', async () => {
    const { bundle, options } = load('conformance-happy-path-v0.3')
    const e = bundle.tlogEntries[0] as { inclusionProof: { logIndex: string } }
    const moved = {
      ...e,
      inclusionProof: { ...e.inclusionProof, logIndex: String(BigInt(e.inclusionProof.logIndex) + 1n) },
    }
    await expect(verifyTransparencyLogEntry(moved, options)).rejects.toMatchObject(tlog('proof'))
  })

  test('without the Rekor v2 log in the root, a Rekor v2 entry has no trusted log', async () => {
    const { bundle, options } = load('conformance-rekor2-happy-path')
    const entry = bundle.tlogEntries[0]
    await expect(verifyTransparencyLogEntry(entry, { ...options, tlogs: [] })).rejects.toMatchObject(tlog('log'))
  })
})

describe('verifyTransparencyLogInclusion: the same checks without the body', () => {
  test.each(PASS)('%s is included', async (name, verifiedBy) => {
    const { bundle, options } = load(name)
    for (const entry of bundle.tlogEntries) {
      expect((await verifyTransparencyLogInclusion(entry, options)).verifiedBy).toEqual(verifiedBy)
    }
  })
  test.each(FAIL)('%s', async (name, error, message) => {
    const { bundle, options } = load(name)
    const p = verifyTransparencyLogInclusion(bundle.tlogEntries[0], options)
    // An entry that logs something else is still in the log; every other failure is an inclusion failure.
    if (error === MISMATCH) await expect(p).resolves.toMatchObject({ entry: expect.anything() })
    else await expect(p).rejects.toMatchObject({ ...error, message: expect.stringMatching(message) })
  })
})

// Issue 18: a Rekor v2 entry's top-level logIndex is not what the proof proves unless the two agree (one tree, no
// shards). Before, a bundle claiming index 999999999 verified and the result reported that index.
describe('Rekor v2 entry index', () => {
  const cases = ['conformance-rekor2-happy-path', 'conformance-rekor2-dsse-happy-path']
  test.each(cases)('%s: a top-level logIndex other than the proof’s is refused', async (name) => {
    const d = join(DIR, name)
    const raw = JSON.parse(readFileSync(join(d, 'bundle.sigstore.json'), 'utf8'))
    const entry = raw.verificationMaterial.tlogEntries[0]
    expect(entry.logIndex).toBe(entry.inclusionProof.logIndex)
    const { options } = load(name)
    const r = await verifyTransparencyLogEntry(entry, options)
    expect(r.entry.logIndex).toBe(BigInt(entry.inclusionProof.logIndex))
    for (const forged of ['999999999', String(BigInt(entry.logIndex) + 1n), '0']) {
      if (forged === entry.logIndex) continue
      await expect(verifyTransparencyLogEntry({ ...entry, logIndex: forged }, options)).rejects.toMatchObject({
        ...tlog('proof'),
        message: expect.stringMatching(/logIndex differs from the inclusion proof/),
      })
    }
  })

  test('Rekor v1 keeps its shard-local proof index (the two differ legitimately)', async () => {
    const { bundle, options } = load('conformance-happy-path-v0.3')
    const r = await verifyTransparencyLogEntry(bundle.tlogEntries[0], options)
    expect(r.entry.logIndex).not.toBe(r.entry.inclusionProof!.logIndex)
  })
})
