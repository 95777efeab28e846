import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import * as pkijs from 'pkijs'
import { describe, expect, test } from 'vitest'
import { fromBase64 } from '../../src/internal/bytes.js'
import { parseTimestamp, verifyTimestamp, verifyTimestamps } from '../../src/timestamp/index.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/index.js'

const VECTORS = resolve(import.meta.dirname, '../vectors/timestamps')
const BUNDLES = join(VECTORS, 'bundles')
const STAGING_ROOT = join(VECTORS, 'sigstore-python-issue1482-token-without-certs/trusted_root.json')

// biome-ignore lint/suspicious/noExplicitAny: bundle JSON is read field by field
type BundleJSON = any
const readBundle = (name: string): BundleJSON =>
  JSON.parse(readFileSync(join(BUNDLES, name, 'bundle.sigstore.json'), 'utf8'))
const readRoot = (name: string): TrustedRoot => parseTrustedRoot(readFileSync(join(BUNDLES, name, 'trusted_root.json')))

/** What is timestamped in Sigstore: the signature bytes (message signature or first DSSE signature). */
function signatureBytes(bundle: BundleJSON): Uint8Array {
  return fromBase64(bundle.messageSignature?.signature ?? bundle.dsseEnvelope.signatures[0].sig)
}

function tokens(bundle: BundleJSON): Uint8Array[] {
  return bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.map(
    // rekor2-timestamp-with-incorrect-time wraps its base64 at 76 columns (made with base64(1)); Go's decoder, and
    // so sigstore-go, skips the newlines.
    (t: { signedTimestamp: string }) => fromBase64(t.signedTimestamp, { allowWhitespace: true }),
  )
}

/** The signing certificate's validity, read independently of the code under test. */
function leafValidity(bundle: BundleJSON): { notBefore: Date; notAfter: Date } {
  const vm = bundle.verificationMaterial
  const raw = vm.certificate?.rawBytes ?? vm.x509CertificateChain.certificates[0].rawBytes
  const cert = pkijs.Certificate.fromBER(new Uint8Array(fromBase64(raw)) as Uint8Array<ArrayBuffer>)
  return { notBefore: cert.notBefore.value, notAfter: cert.notAfter.value }
}

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: { code?: string; details?: { reason?: string } }) => `${e.code}:${e.details?.reason}`,
  )

describe('the sigstore-python issue 1482 token (no embedded certificates)', () => {
  const dir = join(VECTORS, 'sigstore-python-issue1482-token-without-certs')
  test('verifies with the staging TSA chain from the trusted root', async () => {
    const der = readFileSync(join(dir, 'timestamp.tsr'))
    const token = parseTimestamp(der)
    expect(token.status).toBe(0)
    expect(token.certificates).toEqual([])
    expect(token.policy).toBe('1.3.6.1.4.1.57264.2')
    expect(token.tsaName).toBe('O=sigstore.dev,CN=sigstore-tsa')
    const root = parseTrustedRoot(readFileSync(join(dir, 'trusted_root.json')))
    const v = await verifyTimestamp(der, readFileSync(join(dir, 'message')), { trustedRoot: root })
    expect(v.time.toISOString()).toBe('2025-07-25T19:53:04.000Z')
    expect(v.authority.uri).toBe('https://timestamp.sigstage.dev/api/v1/timestamp')
    expect(v.signingCertificate).toEqual(v.authority.certChain[0])
  })

  test('fails on any other message', async () => {
    const root = parseTrustedRoot(readFileSync(join(dir, 'trusted_root.json')))
    const message = new Uint8Array(readFileSync(join(dir, 'message')))
    message[0]! ^= 1
    expect(
      await reasonOf(verifyTimestamp(readFileSync(join(dir, 'timestamp.tsr')), message, { trustedRoot: root })),
    ).toBe('ERR_TIMESTAMP_INVALID:imprint-mismatch')
  })
})

// Cases that pass because their TSA timestamp verifies: every token verifies (or, where noted, the first).
const VERIFIED: readonly [string, string][] = [
  ['conformance-managed-key-happy-path', '2025-12-18T17:04:39.000Z'],
  ['conformance-rekor2-happy-path', '2025-06-12T12:02:20.000Z'],
  ['conformance-rekor2-dsse-happy-path', '2026-05-13T19:23:33.000Z'],
  ['conformance-rekor2-timestamp-with-embedded-cert', '2025-08-06T18:51:36.000Z'],
  // The TSA chain has long expired, but it was valid at genTime.
  ['conformance-rekor2-timestamp-with-expired-cert-chain', '2025-08-07T15:32:26.000Z'],
  // genTime equals validFor.end: TimeRange is closed.
  ['conformance-trust-root-tsa-validity-end-inclusive', '2025-06-12T12:02:20.000Z'],
  ['conformance-bundle-with-sct-with-extensions', '2026-01-15T22:49:26.000Z'],
  ['sigstore-js-verify-v0.3-rekor-v2-hashedrekord', '2025-12-14T02:04:50.000Z'],
  ['sigstore-python-dsse-staging-rekor-v2', '2026-05-13T19:23:33.000Z'],
  ['sigstore-go-public-key-validity-unbounded-key', '2026-06-04T17:43:29.000Z'],
]

describe('bundle timestamps that verify', () => {
  test.each(VERIFIED)('%s', async (name, time) => {
    const bundle = readBundle(name)
    const [der] = tokens(bundle)
    const v = await verifyTimestamp(der!, signatureBytes(bundle), { trustedRoot: readRoot(name) })
    expect(v.time.toISOString()).toBe(time)
    const { verified, failures } = await verifyTimestamps(tokens(bundle), signatureBytes(bundle), {
      trustedRoot: readRoot(name),
    })
    expect([verified.length, failures.length]).toEqual([1, 0])
    if (bundle.verificationMaterial.certificate || bundle.verificationMaterial.x509CertificateChain) {
      const { notBefore, notAfter } = leafValidity(bundle)
      expect(v.time >= notBefore && v.time <= notAfter).toBe(true)
    }
  })

  test('the timestamp is bound to the signature bytes, not to any other field', async () => {
    const name = 'conformance-rekor2-happy-path'
    const bundle = readBundle(name)
    const other = signatureBytes(bundle).slice()
    other[other.length - 1]! ^= 0x80
    expect(await reasonOf(verifyTimestamp(tokens(bundle)[0]!, other, { trustedRoot: readRoot(name) }))).toBe(
      'ERR_TIMESTAMP_INVALID:imprint-mismatch',
    )
  })
})

describe('timestamp-specific failures', () => {
  test.each([
    ['conformance-rekor2-timestamp-outside-trust-root-tsa-validity_fail', 'outside-authority-validity'],
    ['conformance-rekor2-timestamp-outside-tsa-cert-validity_fail', 'outside-certificate-validity'],
    ['conformance-rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail', 'untrusted'],
    // Issued by the staging TSA; the case's root lists only sigstore-python's local test TSA.
    ['sigstore-python-tsa-late-timestamp_fail', 'untrusted'],
    ['sigstore-python-tsa-no-timestamp-authorities_fail', 'no-authorities'],
  ])('%s: %s', async (name, reason) => {
    const bundle = readBundle(name)
    const root = readRoot(name)
    expect(await reasonOf(verifyTimestamp(tokens(bundle)[0]!, signatureBytes(bundle), { trustedRoot: root }))).toBe(
      `ERR_TIMESTAMP_INVALID:${reason}`,
    )
    expect(await reasonOf(verifyTimestamps(tokens(bundle), signatureBytes(bundle), { trustedRoot: root }))).toBe(
      'ERR_TIMESTAMP_INVALID:threshold',
    )
  })

  test('the embedded FreeTSA certificate is not a trust anchor', async () => {
    const name = 'conformance-rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail'
    const token = parseTimestamp(tokens(readBundle(name))[0]!)
    expect(token.certificates.length).toBeGreaterThan(0)
  })

  // The token is genuine; the bundle fails because genTime is outside the Fulcio leaf's validity, which the
  // bundle verifier checks with the time returned here.
  test.each([
    'conformance-rekor2-timestamp-with-incorrect-time_fail',
    'conformance-intoto-tsa-timestamp-outside-cert-validity_fail',
  ])('%s: the verified time is after the signing certificate expired', async (name) => {
    const bundle = readBundle(name)
    const v = await verifyTimestamp(tokens(bundle)[0]!, signatureBytes(bundle), { trustedRoot: readRoot(name) })
    expect(v.time > leafValidity(bundle).notAfter).toBe(true)
  })

  test('sigstore-python late timestamp: verifies against the staging root but after the leaf expired', async () => {
    const bundle = readBundle('sigstore-python-tsa-late-timestamp_fail')
    const staging = parseTrustedRoot(readFileSync(STAGING_ROOT))
    const v = await verifyTimestamp(tokens(bundle)[0]!, signatureBytes(bundle), { trustedRoot: staging })
    expect(v.time.toISOString()).toBe('2025-05-12T19:00:27.000Z')
    expect(v.time > leafValidity(bundle).notAfter).toBe(true)
  })

  test('sigstore-python outside-trust-root-validity: the TSA window closes before genTime', async () => {
    // The case's root has validFor.end < start, which parseTrustedRoot rejects outright; apply the same end date
    // to the otherwise identical local-TSA root to check the timestamp rule itself.
    const name = 'sigstore-python-tsa-outside-trust-root-validity_fail'
    const bad = JSON.parse(readFileSync(join(BUNDLES, name, 'trusted_root.json'), 'utf8'))
    expect(() => parseTrustedRoot(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    const tsa = bad.timestampAuthorities[0]
    tsa.validFor = { start: '2024-01-01T00:00:00Z', end: tsa.validFor.end }
    const bundle = readBundle(name)
    expect(
      await reasonOf(
        verifyTimestamp(tokens(bundle)[0]!, signatureBytes(bundle), { trustedRoot: parseTrustedRoot(bad) }),
      ),
    ).toBe('ERR_TIMESTAMP_INVALID:outside-authority-validity')
  })

  test('sigstore-python local TSA: the first token verifies, the second (SHA-512 imprint of other data) does not', async () => {
    const name = 'sigstore-python-tsa-timestamp-local-tsa'
    const bundle = readBundle(name)
    const { verified, failures } = await verifyTimestamps(tokens(bundle), signatureBytes(bundle), {
      trustedRoot: readRoot(name),
    })
    expect(verified.map((v) => v.time.toISOString())).toEqual(['2024-10-31T10:23:39.000Z'])
    expect(failures.map((f) => [f.index, f.error.details?.reason])).toEqual([[1, 'imprint-mismatch']])
    expect(parseTimestamp(tokens(bundle)[1]!).messageImprint.hashAlgorithm).toBe('2.16.840.1.101.3.4.2.3')
    // Requiring both (threshold 2) fails and lists why.
    await expect(
      verifyTimestamps(tokens(bundle), signatureBytes(bundle), { trustedRoot: readRoot(name), threshold: 2 }),
    ).rejects.toMatchObject({
      code: 'ERR_TIMESTAMP_INVALID',
      details: { reason: 'threshold', verified: 1, threshold: 2, failures: [{ index: 1, reason: 'imprint-mismatch' }] },
    })
  })

  test('a timestamp authority whose certificate does not parse does not keep the others from verifying', async () => {
    const name = 'conformance-rekor2-happy-path'
    const json = JSON.parse(readFileSync(join(BUNDLES, name, 'trusted_root.json'), 'utf8'))
    const broken = { ...json.timestampAuthorities[0], certChain: { certificates: [{ rawBytes: 'MAA=' }] } }
    const bundle = readBundle(name)
    const [token] = tokens(bundle)
    const alone = parseTrustedRoot({ ...json, timestampAuthorities: [broken] })
    expect(await reasonOf(verifyTimestamp(token!, signatureBytes(bundle), { trustedRoot: alone }))).toBe(
      'ERR_TIMESTAMP_INVALID:malformed',
    )
    const both = parseTrustedRoot({ ...json, timestampAuthorities: [broken, ...json.timestampAuthorities] })
    await expect(verifyTimestamp(token!, signatureBytes(bundle), { trustedRoot: both })).resolves.toMatchObject({
      authority: both.timestampAuthorities[1],
    })
  })

  test('sigstore-python duplicate timestamps are refused', async () => {
    const name = 'sigstore-python-tsa-duplicate-timestamps_fail'
    const bundle = readBundle(name)
    expect(
      await reasonOf(verifyTimestamps(tokens(bundle), signatureBytes(bundle), { trustedRoot: readRoot(name) })),
    ).toBe('ERR_TIMESTAMP_INVALID:duplicate')
  })

  test('sigstore-python too many timestamps (33 > 32) are refused before any is verified', async () => {
    const name = 'sigstore-python-tsa-too-many-timestamps_fail'
    const bundle = readBundle(name)
    expect(tokens(bundle)).toHaveLength(33)
    expect(
      await reasonOf(verifyTimestamps(tokens(bundle), signatureBytes(bundle), { trustedRoot: readRoot(name) })),
    ).toBe('ERR_TIMESTAMP_INVALID:too-many')
  })
})
