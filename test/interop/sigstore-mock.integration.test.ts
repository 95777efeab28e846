/**
 * Bundles signed by sigstore-js (the `sigstore` client) against a local mock Fulcio + Rekor v1 + TSA verify with
 * countersign's verifyBundle under the trusted root describing those services, and a tampered artifact fails.
 * sigstore-js's own verifier gives the same verdict on each bundle.
 */
import { createHash } from 'node:crypto'
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle'
import { TrustedRoot as TrustedRootMessage } from '@sigstore/protobuf-specs'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { attest, sign } from 'sigstore'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isCountersignError } from '../../src/errors.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/trusted-root.js'
import type { ArtifactInput } from '../../src/verifier/signature.js'
import { type BundlePolicy, verifyBundle } from '../../src/verifier/verify-bundle.js'
import { MOCK_IDENTITY, MOCK_OIDC_ISSUER, type SigstoreMock, startSigstoreMock } from '../support/sigstore-mock.js'

const artifact = Buffer.from('hello from sigstore-js\n')
const tampered = Buffer.from('hello from sigstore-js!\n')
const statement = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'artifact.txt', digest: { sha256: createHash('sha256').update(artifact).digest('hex') } }],
    predicateType: 'https://example.com/predicate/v1',
    predicate: {},
  }),
)
const policy: BundlePolicy = { identity: { subject: MOCK_IDENTITY, issuer: MOCK_OIDC_ISSUER } }

let mock: SigstoreMock
let root: TrustedRoot
let messageBundle: SerializedBundle
let intotoBundle: SerializedBundle
let dsseBundle: SerializedBundle

/** Now, truncated to the second, plus `ms` milliseconds. */
const clockWithMillis = (ms: number) => new Date(Math.floor(Date.now() / 1000) * 1000 + ms)

const encode = (b: SerializedBundle) => new TextEncoder().encode(JSON.stringify(b))

/** countersign's verdict: undefined when verified, else the error code. */
async function countersign(bundle: SerializedBundle, input: ArtifactInput | undefined, p: BundlePolicy = policy) {
  try {
    await verifyBundle(encode(bundle), input, { trustedRoot: root, policy: p })
    return undefined
  } catch (e) {
    if (!isCountersignError(e)) throw e
    return e.code
  }
}

/** sigstore-js's verdict with the same root and identity: undefined when verified, else its error code. */
function sigstoreJs(bundle: SerializedBundle, input: Buffer | undefined, trustedRootJSON = mock.trustedRootJSON) {
  const trust = toTrustMaterial(TrustedRootMessage.fromJSON(JSON.parse(trustedRootJSON)))
  try {
    new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 }).verify(
      toSignedEntity(bundleFromJSON(bundle), input),
      { subjectAlternativeName: MOCK_IDENTITY, extensions: { issuer: MOCK_OIDC_ISSUER } },
    )
    return undefined
  } catch (e) {
    return (e as { code?: string }).code ?? String(e)
  }
}

describe('sigstore-js signs against the local mock Sigstore stack; countersign verifies', () => {
  beforeAll(async () => {
    // A frozen clock whose milliseconds (123) need three fraction digits: see the genTime test below.
    mock = await startSigstoreMock({ clock: clockWithMillis(123) })
    root = parseTrustedRoot(mock.trustedRootJSON)
    const options = {
      fulcioURL: mock.url,
      rekorURL: mock.url,
      tsaServerURL: mock.url,
      identityToken: mock.identityToken(),
    }
    messageBundle = await sign(artifact, options)
    // legacyCompatibility: sigstore-js logs the attestation as intoto 0.0.2, which the mock Rekor stores faithfully.
    intotoBundle = await attest(statement, 'application/vnd.in-toto+json', { ...options, legacyCompatibility: true })
    dsseBundle = await attest(statement, 'application/vnd.in-toto+json', options)
  })
  afterAll(async () => {
    await mock?.close()
  })

  it('talked to all three services over HTTP', () => {
    for (const path of ['/api/v2/signingCert', '/api/v1/log/entries', '/api/v1/timestamp']) {
      expect(mock.requests.filter((r) => r.startsWith(`POST ${path} 2`)).length, path).toBe(3)
    }
  })

  // sigstore 4.1.1 writes message signatures and legacy-compatible attestations as v0.2 bundles with an
  // x509CertificateChain, plain attestations as v0.3 with a single certificate: both shapes get exercised.
  it('produces v0.2 and v0.3 bundles with a Rekor v1 entry (promise + proof) and an RFC 3161 timestamp', () => {
    const v02 = 'application/vnd.dev.sigstore.bundle+json;version=0.2'
    const v03 = 'application/vnd.dev.sigstore.bundle.v0.3+json'
    for (const [b, mediaType] of [
      [messageBundle, v02],
      [intotoBundle, v02],
      [dsseBundle, v03],
    ] as const) {
      expect(b.mediaType).toBe(mediaType)
      const vm = b.verificationMaterial
      if (mediaType === v02) expect(vm.x509CertificateChain?.certificates).toHaveLength(1)
      else expect(vm.certificate?.rawBytes).toBeTruthy()
      const [entry] = vm.tlogEntries
      expect(entry?.inclusionPromise?.signedEntryTimestamp).toBeTruthy()
      expect(entry?.inclusionProof?.checkpoint.envelope).toContain('127.0.0.1')
      expect(vm.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1)
    }
    expect(messageBundle.messageSignature).toBeTruthy()
    expect(messageBundle.verificationMaterial.tlogEntries[0]?.kindVersion).toEqual({
      kind: 'hashedrekord',
      version: '0.0.1',
    })
    expect(intotoBundle.verificationMaterial.tlogEntries[0]?.kindVersion).toEqual({ kind: 'intoto', version: '0.0.2' })
    expect(dsseBundle.verificationMaterial.tlogEntries[0]?.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' })
  })

  it('message signature (hashedrekord): verifies with the artifact and with its digest', async () => {
    const result = await verifyBundle(encode(messageBundle), new Uint8Array(artifact), { trustedRoot: root, policy })
    expect(result.signer.type).toBe('certificate')
    expect(result.tlogEntries).toHaveLength(1)
    expect(result.timestamps).toHaveLength(1)
    expect(result.verifiedTimes).toHaveLength(2)
    const digest = `sha256:${createHash('sha256').update(artifact).digest('hex')}`
    // Without an artifact there is nothing the message signature could be checked against.
    expect(await countersign(messageBundle, undefined)).not.toBeUndefined()
    await expect(verifyBundle(encode(messageBundle), { digest }, { trustedRoot: root, policy })).resolves.toBeTruthy()
    expect(sigstoreJs(messageBundle, artifact)).toBeUndefined()
  })

  it('message signature: a tampered artifact fails in both verifiers', async () => {
    expect(await countersign(messageBundle, new Uint8Array(tampered))).toBe('ERR_TLOG_ENTRY_MISMATCH')
    // sigstore-js matches the log body against the bundle's messageDigest, so it notices at the signature.
    expect(sigstoreJs(messageBundle, tampered)).toBe('SIGNATURE_ERROR')
  })

  it('message signature: another identity or issuer is refused', async () => {
    const a = new Uint8Array(artifact)
    expect(
      await countersign(messageBundle, a, { identity: { subject: 'bob@example.com', issuer: MOCK_OIDC_ISSUER } }),
    ).toBe('ERR_POLICY_DENIED')
    expect(
      await countersign(messageBundle, a, {
        identity: { subject: MOCK_IDENTITY, issuer: 'https://accounts.google.com' },
      }),
    ).toBe('ERR_POLICY_DENIED')
  })

  it('message signature: another trusted root (public-good) is refused', async () => {
    const { publicGoodTrustedRoot } = await import('../../src/trust/public-good.js')
    await expect(
      verifyBundle(encode(messageBundle), new Uint8Array(artifact), { trustedRoot: publicGoodTrustedRoot(), policy }),
    ).rejects.toThrow()
  })

  it('in-toto attestation (intoto 0.0.2): verifies, subject digest matches the artifact', async () => {
    expect(await countersign(intotoBundle, new Uint8Array(artifact))).toBeUndefined()
    expect(sigstoreJs(intotoBundle, undefined)).toBeUndefined()
  })

  it('in-toto attestation: a tampered artifact is not a subject of the statement', async () => {
    expect(await countersign(intotoBundle, new Uint8Array(tampered))).toBe('ERR_CLAIMS_INVALID')
  })

  it('in-toto attestation: a tampered payload fails in both verifiers', async () => {
    const env = intotoBundle.dsseEnvelope
    if (!env) throw new Error('attest produced no DSSE envelope')
    const payload = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8'))
    payload.predicate = { tampered: true }
    const forged = {
      ...intotoBundle,
      dsseEnvelope: { ...env, payload: Buffer.from(JSON.stringify(payload)).toString('base64') },
    }
    expect(await countersign(forged, new Uint8Array(artifact))).not.toBeUndefined()
    expect(sigstoreJs(forged, undefined)).not.toBeUndefined()
  })

  // The recipe's caveat: the mock Rekor stores a dsse 0.0.1 proposal as-is, where real Rekor rewrites it to
  // {envelopeHash, payloadHash, signatures[]}. The logged body therefore does not describe the envelope the way a
  // verifier expects, and sigstore-js rejects its own bundle; countersign must reject it too (fail closed), not pass.
  it('dsse 0.0.1 through the mock Rekor: unfaithful log body, rejected by both verifiers', async () => {
    expect(sigstoreJs(dsseBundle, undefined)).toBe('TLOG_BODY_ERROR')
    expect(await countersign(dsseBundle, new Uint8Array(artifact))).toBe('ERR_TLOG_ENTRY_MISMATCH')
  })

  // RFC 3161 §2.4.2 and DER: genTime's fraction of a second carries no trailing zeros, so 120 ms is written ".12".
  // @sigstore/core 3.x parses only exactly three digits and throws "invalid time" on its own mock's timestamp;
  // countersign reads the DER as written.
  it('TSA genTime with a trimmed fraction (".12"): countersign verifies, sigstore-js 3.x cannot parse it', async () => {
    const other = await startSigstoreMock({ clock: clockWithMillis(120) })
    try {
      const bundle = await sign(artifact, {
        fulcioURL: other.url,
        rekorURL: other.url,
        tsaServerURL: other.url,
        identityToken: other.identityToken(),
      })
      const result = await verifyBundle(encode(bundle), new Uint8Array(artifact), {
        trustedRoot: parseTrustedRoot(other.trustedRootJSON),
        policy,
      })
      expect(result.timestamps.map((t) => t.time.getTime() % 1000)).toEqual([120])
      expect(sigstoreJs(bundle, artifact, other.trustedRootJSON)).toBe('Error: invalid time')
    } finally {
      await other.close()
    }
  })
})
