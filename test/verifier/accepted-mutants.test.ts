/**
 * The mutants an adversarial run found accepted, one test each: the ones now rejected with the code sigstore-go's
 * verdict maps to, and the ones accepted by design with what shows they are harmless. The mutation sweep over every
 * field is test/verifier/mutation.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { parseBundle } from '../../src/bundle/bundle.js'
import { type BundleVerifierOptions, verifyBundle } from '../../src/verifier/verify-bundle.js'
import { countersignInputs, countersignRoot, loadCase } from '../support/bundle-cases.js'

// biome-ignore lint/suspicious/noExplicitAny: bundle JSON is edited in place
type Json = any

/** A mutation that sets (or deletes) the field at a dotted path. */
const set = (path: string, value: unknown) => (d: Json) => {
  const keys = path.split('.')
  const last = keys.pop()!
  keys.reduce((o, k) => o[k], d)[last] = value
}
const del = (path: string) => (d: Json) => {
  const keys = path.split('.')
  const last = keys.pop()!
  delete keys.reduce((o, k) => o[k], d)[last]
}

function runner(name: string) {
  const inputs = countersignInputs(loadCase(name))
  const root = countersignRoot(inputs)
  const original: Json = JSON.parse(new TextDecoder().decode(inputs.bundle))
  return (mutate: (doc: Json) => void, extra: BundleVerifierOptions = {}) => {
    const doc = structuredClone(original)
    mutate(doc)
    return verifyBundle(doc, inputs.artifact, { ...inputs.options, ...extra, trustedRoot: root, policy: inputs.policy })
  }
}

const MANAGED_KEY = 'conformance-managed-key-happy-path'
const chainOf = (name: string) =>
  JSON.parse(new TextDecoder().decode(countersignInputs(loadCase(name)).bundle)).verificationMaterial

describe(`${MANAGED_KEY}: mutants now rejected`, () => {
  const run = runner(MANAGED_KEY)

  it('a certificate chain beside the key (a second verificationMaterial alternative)', async () => {
    const chain = chainOf('sigstore-js-client-v0.1-message-signature').x509CertificateChain
    for (const first of [true, false]) {
      const mutate = (d: Json) => {
        const vm = d.verificationMaterial
        d.verificationMaterial = first ? { x509CertificateChain: chain, ...vm } : { ...vm, x509CertificateChain: chain }
      }
      await expect(run(mutate)).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' })
    }
  })

  it('a certificate beside the key', async () => {
    const { certificate } = chainOf('conformance-happy-path-v0.3')
    await expect(run(set('verificationMaterial.certificate', certificate))).rejects.toMatchObject({
      code: 'ERR_BUNDLE_INVALID',
    })
  })

  it('a truncated, unknown or unspecified messageDigest.algorithm', async () => {
    for (const algorithm of ['SHA2_25', 'SHA3_256', 'MD5', 'HASH_ALGORITHM_UNSPECIFIED', 'sha256']) {
      const mutate = set('messageSignature.messageDigest.algorithm', algorithm)
      await expect(run(mutate), algorithm).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_ALGORITHM' })
    }
  })

  it('another SHA-2 algorithm for the same digest bytes', async () => {
    await expect(run(set('messageSignature.messageDigest.algorithm', 'SHA2_512'))).rejects.toMatchObject({
      code: 'ERR_CLAIMS_INVALID',
    })
  })

  it('no messageDigest, or one without digest or algorithm', async () => {
    for (const mutate of [
      del('messageSignature.messageDigest'),
      del('messageSignature.messageDigest.digest'),
      del('messageSignature.messageDigest.algorithm'),
      set('messageSignature.messageDigest', {}),
    ]) {
      await expect(run(mutate)).rejects.toHaveProperty('code')
    }
  })
})

describe(`${MANAGED_KEY}: mutants accepted by design`, () => {
  const run = runner(MANAGED_KEY)

  it('a changed or missing publicKey.hint: the policy names the key', async () => {
    await expect(run(set('verificationMaterial.publicKey.hint', 'bm90IHRoZSBrZXk='))).resolves.toBeDefined()
    await expect(run(del('verificationMaterial.publicKey.hint'))).resolves.toBeDefined()
  })

  it('a corrupted RFC 3161 token is dropped, the SET time counts; requiring a signed timestamp rejects it', async () => {
    const corrupt = (d: Json) => {
      const t = d.verificationMaterial.timestampVerificationData.rfc3161Timestamps[0]
      const bytes = Buffer.from(t.signedTimestamp, 'base64')
      bytes[bytes.length - 10]! ^= 0x01
      t.signedTimestamp = bytes.toString('base64')
    }
    const result = await run(corrupt)
    expect(result.timestamps).toEqual([])
    expect(result.verifiedTimes).toHaveLength(1)
    await expect(run(corrupt, { signedTimestampThreshold: 1 })).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_INVALID',
    })
    // The unmodified bundle does carry a verified one.
    expect((await run(() => undefined, { signedTimestampThreshold: 1 })).timestamps).toHaveLength(1)
  })
})

describe('other mutants now rejected', () => {
  it('a v0.2 bundle with a certificate chain relabelled v0.3 (sigstore-go: v0.3 carries the leaf only)', async () => {
    const run = runner('sigstore-js-client-v0.2-message-signature')
    await expect(run(() => undefined)).resolves.toBeDefined()
    for (const mediaType of [
      'application/vnd.dev.sigstore.bundle.v0.3+json',
      'application/vnd.dev.sigstore.bundle+json;version=0.3',
    ]) {
      await expect(run(set('mediaType', mediaType))).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' })
    }
  })

  it('a DSSE bundle with a message signature beside the envelope (either order)', () => {
    const dsse: Json = JSON.parse(
      new TextDecoder().decode(countersignInputs(loadCase('conformance-happy-path-intoto-in-dsse-v3')).bundle),
    )
    const ms = JSON.parse(
      new TextDecoder().decode(countersignInputs(loadCase('conformance-happy-path-v0.3')).bundle),
    ).messageSignature
    expect(() => parseBundle({ ...dsse, messageSignature: ms })).toThrow(/both dsseEnvelope and messageSignature/)
    expect(() => parseBundle({ messageSignature: ms, ...dsse })).toThrow(/both dsseEnvelope and messageSignature/)
  })

  it('a digest-only message signature whose messageDigest names another algorithm', async () => {
    const run = runner('sigstore-go-othername-san')
    for (const algorithm of ['SHA2_384', 'SHA2_512']) {
      await expect(run(set('messageSignature.messageDigest.algorithm', algorithm))).rejects.toMatchObject({
        code: 'ERR_CLAIMS_INVALID',
      })
    }
  })

  it('an unsigned integrated time outside the certificate validity (sigstore-go pkg/verify/tlog.go)', async () => {
    const run = runner('sigstore-js-verify-v0.3-rekor-v2-hashedrekord')
    await expect(run(() => undefined)).resolves.toBeDefined()
    await expect(run(set('verificationMaterial.tlogEntries.0.integratedTime', '1'))).rejects.toMatchObject({
      code: 'ERR_CERT_EXPIRED',
      message: 'integrated time outside certificate validity',
    })
    // Absent (0) is what Rekor v2 entries carry: nothing to check.
    await expect(run(del('verificationMaterial.tlogEntries.0.integratedTime'))).resolves.toBeDefined()
  })
})
