// A trusted root may name a timestamp authority by one self-signed certificate, the token's signing certificate: it
// is then its own trust anchor (sigstore-go's TSA verifier runs Go's x509 verification with the leaf among the
// roots). Real `openssl ts` tokens; `openssl ts -verify` with that certificate as the only CA agrees on the positive
// case. The shortcut must not weaken anything else: another certificate's token, even one with the same name and
// serial, and a certificate unfit for timestamping are still refused.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { decodePEM } from '../../src/internal/pem.js'
import { parseTimestamp, verifyTimestamp, verifyTimestamps } from '../../src/timestamp/index.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/index.js'
import { makeSelfSignedOpenSSLTSACertificate, writeOpenSSLTSAConfig } from '../support/openssl-tsa.js'

let dir: string
const path = (name: string) => join(dir, name)
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
const derOf = (name: string) => decodePEM(readFileSync(path(`${name}.crt`), 'utf8')).bytes

/** Ask `openssl ts -reply` to timestamp `data` with certificate `name` (and its key); returns the TimeStampResp. */
function timestamp(name: string, data: Uint8Array, embedCert: boolean, key = `${name}.key`): Uint8Array {
  writeFileSync(path('data.bin'), data)
  openssl('ts', '-query', '-data', 'data.bin', '-sha256', ...(embedCert ? ['-cert'] : []), '-out', 'req.tsq')
  openssl(
    'ts',
    '-reply',
    '-queryfile',
    'req.tsq',
    '-inkey',
    key,
    '-signer',
    `${name}.crt`,
    '-config',
    'tsa.cnf',
    '-out',
    'resp.tsr',
  )
  return new Uint8Array(readFileSync(path('resp.tsr')))
}

/**
 * `openssl ts -verify` of a response over `data` with certificate `name` as the only trust anchor (and, for tokens
 * without embedded certificates, the candidate signer: OpenSSL looks the signer up among untrusted certificates).
 */
function opensslAccepts(response: Uint8Array, data: Uint8Array, name: string): boolean {
  writeFileSync(path('check.tsr'), response)
  writeFileSync(path('check.bin'), data)
  const r = spawnSync(
    'openssl',
    ['ts', '-verify', '-data', 'check.bin', '-in', 'check.tsr', '-CAfile', `${name}.crt`, '-untrusted', `${name}.crt`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  )
  return r.status === 0 && r.stdout.includes('Verification: OK')
}

/** A trusted root with one timestamp authority whose certChain is just certificate `name`. */
function singleCertificateRoot(name: string): TrustedRoot {
  return parseTrustedRoot({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    timestampAuthorities: [
      {
        subject: { organization: 'countersign-test', commonName: 'single TSA' },
        uri: 'http://tsa.invalid/',
        certChain: { certificates: [{ rawBytes: Buffer.from(derOf(name)).toString('base64') }] },
        validFor: { start: new Date(Date.now() - 3_600_000).toISOString() },
      },
    ],
  })
}

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'verified',
    (e: { code?: string; details?: { reason?: string } }) => `${e.code}:${e.details?.reason}`,
  )

const signature = new TextEncoder().encode('the signature bytes a Sigstore bundle would carry')
const SERIAL = '0x5e1f5167ed'
let root: TrustedRoot

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-single-tsa-'))
  writeOpenSSLTSAConfig(dir)
  makeSelfSignedOpenSSLTSACertificate(dir, 'single', { commonName: 'single TSA', serial: SERIAL })
  // Another self-signed TSA, with its own name.
  makeSelfSignedOpenSSLTSACertificate(dir, 'other', { commonName: 'other TSA' })
  // Another key claiming the trusted certificate's name and serial: the SignerInfo's issuer + serial match.
  makeSelfSignedOpenSSLTSACertificate(dir, 'impostor', { commonName: 'single TSA', serial: SERIAL })
  root = singleCertificateRoot('single')
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('a timestamp authority named by its one self-signed certificate', () => {
  test.each([true, false])('its token verifies (embedded certificate: %s), as OpenSSL agrees', async (embedCert) => {
    const response = timestamp('single', signature, embedCert)
    expect(parseTimestamp(response).certificates).toHaveLength(embedCert ? 1 : 0)
    expect(opensslAccepts(response, signature, 'single')).toBe(true)
    const v = await verifyTimestamp(response, signature, { trustedRoot: root })
    expect(v.authority).toBe(root.timestampAuthorities[0])
    expect(v.signingCertificate).toEqual(derOf('single'))
    // The bundle verifier's entry point (threshold over a bundle's tokens) agrees.
    const { verified, failures } = await verifyTimestamps([response], signature, { trustedRoot: root, threshold: 1 })
    expect([verified.length, failures.length]).toEqual([1, 0])
  })

  test.each([true, false])(
    "another self-signed TSA's token is untrusted (embedded certificate: %s)",
    async (embedCert) => {
      const response = timestamp('other', signature, embedCert)
      expect(opensslAccepts(response, signature, 'single')).toBe(false)
      expect(opensslAccepts(response, signature, 'other')).toBe(true)
      expect(await reasonOf(verifyTimestamp(response, signature, { trustedRoot: root }))).toBe(
        'ERR_TIMESTAMP_INVALID:untrusted',
      )
    },
  )

  test("a token from another key under the trusted certificate's name and serial is refused", async () => {
    // Not embedded, the token names the trusted certificate by issuer + serial; the anchor shortcut applies, and the
    // signingCertificate attribute (the impostor's hash) is what refuses it before the signature would.
    const response = timestamp('impostor', signature, false)
    expect(opensslAccepts(response, signature, 'single')).toBe(false)
    expect(opensslAccepts(response, signature, 'impostor')).toBe(true)
    expect(await reasonOf(verifyTimestamp(response, signature, { trustedRoot: root }))).toBe(
      'ERR_TIMESTAMP_INVALID:signing-certificate-mismatch',
    )
    // Embedded, the impostor is a certificate outside the root's chain that the SignerInfo does not need.
    expect(
      await reasonOf(verifyTimestamp(timestamp('impostor', signature, true), signature, { trustedRoot: root })),
    ).toBe('ERR_TIMESTAMP_INVALID:untrusted')
  })

  // openssl ts -reply signs only with a certificate fit for timestamping, so each unfit certificate is a twin of
  // `single` (same key, name and serial) and the token, without embedded certificates, names it.
  test.each([
    ['no extended key usage', []],
    ['codeSigning instead of timeStamping', ['extendedKeyUsage = critical, codeSigning']],
    ['timeStamping not critical', ['extendedKeyUsage = timeStamping']],
    ['timeStamping with codeSigning', ['extendedKeyUsage = critical, timeStamping, codeSigning']],
  ])('a self-signed certificate with %s is refused by the EKU rule', async (label, eku) => {
    const name = `unfit-${label.replaceAll(' ', '-')}`
    makeSelfSignedOpenSSLTSACertificate(dir, name, {
      commonName: 'single TSA',
      serial: SERIAL,
      keyFile: 'single.key',
      extensions: ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', ...eku],
    })
    expect(() => timestamp(name, signature, false, 'single.key')).toThrow()
    const response = timestamp('single', signature, false)
    expect(await reasonOf(verifyTimestamp(response, signature, { trustedRoot: singleCertificateRoot(name) }))).toBe(
      'ERR_TIMESTAMP_INVALID:eku',
    )
  })
})
