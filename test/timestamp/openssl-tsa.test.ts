// A real TSA: OpenSSL's `ts` command issues the timestamps, and `openssl ts -verify` is the independent check that
// our verdict (positive and negative) agrees with OpenSSL's.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { decodePEM } from '../../src/internal/pem.js'
import { parseTimestamp, verifyTimestamp, verifyTimestamps } from '../../src/timestamp/index.js'
import { parseTrustedRoot, type TrustedRoot } from '../../src/trust/index.js'
import { makeOpenSSLTSACertificates, writeOpenSSLTSAConfig } from '../support/openssl-tsa.js'

let dir: string
const path = (name: string) => join(dir, name)
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
const derOf = (pemFile: string) => decodePEM(readFileSync(path(pemFile), 'utf8')).bytes

/** A CA (P-384) and a TSA leaf issued by it; `leafKey` chooses the leaf key. */
const makeTSA = (name: string, leafKey: string[]) =>
  makeOpenSSLTSACertificates(dir, name, { leafKey, commonName: 'test TSA', rootCommonName: `${name} root` })

/** Ask the OpenSSL TSA `name` to timestamp `data`; returns the DER TimeStampResp. */
function timestamp(name: string, data: Uint8Array, options: { hash?: string; embedCert?: boolean } = {}): Uint8Array {
  writeFileSync(path('data.bin'), data)
  openssl(
    'ts',
    '-query',
    '-data',
    'data.bin',
    `-${options.hash ?? 'sha256'}`,
    ...(options.embedCert === false ? [] : ['-cert']),
    '-out',
    'req.tsq',
  )
  openssl(
    'ts',
    '-reply',
    '-queryfile',
    'req.tsq',
    '-inkey',
    `${name}.key`,
    '-signer',
    `${name}.crt`,
    '-config',
    'tsa.cnf',
    '-out',
    'resp.tsr',
  )
  return new Uint8Array(readFileSync(path('resp.tsr')))
}

/** `openssl ts -verify` of a response over `data`, trusting CA `ca` (with the TSA leaf as untrusted help). */
function opensslAccepts(response: Uint8Array, data: Uint8Array, ca: string, leaf: string): boolean {
  writeFileSync(path('check.tsr'), response)
  writeFileSync(path('check.bin'), data)
  const r = spawnSync(
    'openssl',
    ['ts', '-verify', '-data', 'check.bin', '-in', 'check.tsr', '-CAfile', `${ca}-ca.crt`, '-untrusted', `${leaf}.crt`],
    { cwd: dir, encoding: 'utf8' },
  )
  return r.status === 0 && r.stdout.includes('Verification: OK')
}

/** A trusted root JSON object with one timestamp authority: TSA leaf + CA, valid from `start`. */
function rootWith(name: string, validFor: { start: string; end?: string }): TrustedRoot {
  const b64 = (der: Uint8Array) => Buffer.from(der).toString('base64')
  return parseTrustedRoot({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    timestampAuthorities: [
      {
        subject: { organization: 'countersign-test', commonName: 'test TSA' },
        uri: 'http://tsa.invalid/',
        certChain: {
          certificates: [{ rawBytes: b64(derOf(`${name}.crt`)) }, { rawBytes: b64(derOf(`${name}-ca.crt`)) }],
        },
        validFor,
      },
    ],
  })
}

const signature = new TextEncoder().encode('the signature bytes a Sigstore bundle would carry')
const hourAgo = () => new Date(Date.now() - 3_600_000).toISOString()
let root: TrustedRoot

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-tsa-'))
  writeOpenSSLTSAConfig(dir)
  makeTSA('ec', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])
  makeTSA('rsa', ['rsa:2048'])
  makeTSA('rogue', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'])
  root = rootWith('ec', { start: hourAgo() })
}, 60_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('an OpenSSL TSA in the trusted root', () => {
  test('its response (with the signer certificate embedded) verifies, as OpenSSL agrees', async () => {
    const before = Date.now()
    const response = timestamp('ec', signature)
    expect(opensslAccepts(response, signature, 'ec', 'ec')).toBe(true)
    const token = parseTimestamp(response)
    expect(token.status).toBe(0)
    expect(token.certificates).toHaveLength(1)
    expect(token.nonce).toBeTypeOf('bigint')
    expect(token.accuracy).toEqual({ seconds: 1, millis: 0, micros: 0 })
    expect(token.tsaName).toBe('O=countersign-test,CN=test TSA')
    const v = await verifyTimestamp(response, signature, { trustedRoot: root })
    // genTime has second precision.
    expect(v.time.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000)
    expect(v.time.getTime()).toBeLessThanOrEqual(Date.now())
    expect(v.authority).toBe(root.timestampAuthorities[0])
    expect(v.signingCertificate).toEqual(derOf('ec.crt'))
  })

  test('without embedded certificates the chain comes from the trusted root', async () => {
    const response = timestamp('ec', signature, { embedCert: false })
    expect(parseTimestamp(response).certificates).toEqual([])
    await expect(verifyTimestamp(response, signature, { trustedRoot: root })).resolves.toMatchObject({
      authority: root.timestampAuthorities[0],
    })
  })

  test.each(['sha384', 'sha512'])('%s message imprints verify', async (hash) => {
    const response = timestamp('ec', signature, { hash })
    expect(parseTimestamp(response).messageImprint.hash).toHaveLength(hash === 'sha384' ? 48 : 64)
    await expect(verifyTimestamp(response, signature, { trustedRoot: root })).resolves.toBeDefined()
  })

  test('a bare TimeStampToken (what bundles store) verifies like the response', async () => {
    writeFileSync(path('resp.tsr'), timestamp('ec', signature))
    openssl('ts', '-reply', '-in', 'resp.tsr', '-token_out', '-out', 'token.der')
    const token = parseTimestamp(new Uint8Array(readFileSync(path('token.der'))))
    expect(token.status).toBeUndefined()
    await expect(verifyTimestamp(token, signature, { trustedRoot: root })).resolves.toBeDefined()
  })

  test('an RSA TSA (OpenSSL signs with signatureAlgorithm rsaEncryption) verifies', async () => {
    const response = timestamp('rsa', signature)
    expect(parseTimestamp(response).signer.signatureAlgorithm).toBe('1.2.840.113549.1.1.1')
    const rsaRoot = rootWith('rsa', { start: hourAgo() })
    await expect(verifyTimestamp(response, signature, { trustedRoot: rsaRoot })).resolves.toBeDefined()
  })

  test('verifying many tokens reuses the parsed chain (one root, repeated calls agree)', async () => {
    const responses = [timestamp('ec', signature), timestamp('ec', signature, { embedCert: false })]
    const { verified, failures } = await verifyTimestamps(responses, signature, { trustedRoot: root, threshold: 2 })
    expect([verified.length, failures.length]).toEqual([2, 0])
    for (let i = 0; i < 20; i++) await verifyTimestamp(responses[i % 2]!, signature, { trustedRoot: root })
  })
})

describe('negative controls, each confirmed by openssl ts -verify', () => {
  const reasonOf = (p: Promise<unknown>) =>
    p.then(
      () => 'verified',
      (e: { code?: string; details?: { reason?: string } }) => `${e.code}:${e.details?.reason}`,
    )

  test('tampered data: message imprint mismatch', async () => {
    const response = timestamp('ec', signature)
    const tampered = signature.slice()
    tampered[3]! ^= 1
    expect(opensslAccepts(response, tampered, 'ec', 'ec')).toBe(false)
    expect(await reasonOf(verifyTimestamp(response, tampered, { trustedRoot: root }))).toBe(
      'ERR_TIMESTAMP_INVALID:imprint-mismatch',
    )
  })

  test.each([true, false])(
    'a TSA missing from the trusted root (embedded cert: %s) is untrusted',
    async (embedCert) => {
      const response = timestamp('rogue', signature, { embedCert })
      if (embedCert) expect(opensslAccepts(response, signature, 'ec', 'rogue')).toBe(false)
      expect(opensslAccepts(timestamp('rogue', signature), signature, 'rogue', 'rogue')).toBe(true)
      expect(await reasonOf(verifyTimestamp(response, signature, { trustedRoot: root }))).toBe(
        'ERR_TIMESTAMP_INVALID:untrusted',
      )
    },
  )

  test("a root listing the TSA's leaf under another CA fails the chain check", async () => {
    // The leaf matches the SignerInfo, but the CA listed after it did not issue it.
    const response = timestamp('rogue', signature)
    const mixed = parseTrustedRoot({
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      timestampAuthorities: [
        {
          uri: 'http://tsa.invalid/',
          certChain: {
            certificates: [
              { rawBytes: Buffer.from(derOf('rogue.crt')).toString('base64') },
              { rawBytes: Buffer.from(derOf('ec-ca.crt')).toString('base64') },
            ],
          },
          validFor: { start: hourAgo() },
        },
      ],
    })
    expect(opensslAccepts(response, signature, 'ec', 'rogue')).toBe(false)
    expect(await reasonOf(verifyTimestamp(response, signature, { trustedRoot: mixed }))).toBe(
      'ERR_TIMESTAMP_INVALID:chain',
    )
    // The chain is x509's chain verifier's verdict (purpose timeStamping); its error is the cause.
    await expect(verifyTimestamp(response, signature, { trustedRoot: mixed })).rejects.toMatchObject({
      message:
        'timestamp: TSA certificate chain does not verify: leaf certificate was not issued by CA http://tsa.invalid/',
      cause: { code: 'ERR_CERT_CHAIN_INVALID', details: { reason: 'untrusted-issuer' } },
    })
  })

  test('a tampered signature fails', async () => {
    const response = timestamp('ec', signature)
    const broken = response.slice()
    // The CMS signature is the last element of the response: flip a byte inside it.
    broken[broken.length - 5]! ^= 1
    expect(opensslAccepts(broken, signature, 'ec', 'ec')).toBe(false)
    expect(await reasonOf(verifyTimestamp(broken, signature, { trustedRoot: root }))).toBe(
      'ERR_TIMESTAMP_INVALID:signature',
    )
  })

  test('genTime after the trusted-root window closes: outside authority validity', async () => {
    const response = timestamp('ec', signature)
    const closed = rootWith('ec', { start: hourAgo(), end: new Date(Date.now() - 60_000).toISOString() })
    expect(await reasonOf(verifyTimestamp(response, signature, { trustedRoot: closed }))).toBe(
      'ERR_TIMESTAMP_INVALID:outside-authority-validity',
    )
  })

  test('a refused request (unsupported digest) is a status failure', () => {
    writeFileSync(path('data.bin'), signature)
    openssl('ts', '-query', '-data', 'data.bin', '-sha1', '-cert', '-out', 'req.tsq')
    openssl(
      'ts',
      '-reply',
      '-queryfile',
      'req.tsq',
      '-inkey',
      'ec.key',
      '-signer',
      'ec.crt',
      '-config',
      'tsa.cnf',
      '-out',
      'resp.tsr',
    )
    expect(() => parseTimestamp(new Uint8Array(readFileSync(path('resp.tsr'))))).toThrow(
      expect.objectContaining({
        code: 'ERR_TIMESTAMP_INVALID',
        details: expect.objectContaining({ reason: 'status', status: 2 }),
      }),
    )
  })
})
