// The client certificate credential (AZURE_CLIENT_CERTIFICATE_PATH) end to end: certificates and keys made by the
// real openssl (PEM in either order, PKCS#12 as OpenSSL 3 writes it by default, with -legacy, with 3DES, encrypted
// PKCS#8), a client assertion the Entra stand-in verifies on its own (PS256 with the certificate's public key,
// x5t#S256, aud, iss/sub, nbf/exp, jti), the token it issues used for a real Key Vault sign request, refresh with
// an injected clock, and failures that name the file but never the password, the assertion or a token.
import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAzureClientCertificateCredentials } from '../../../src/kms/azure/index.js'
import type { CredentialSourceReport } from '../../../src/kms/credential-chain.js'
import { loadAzureClientCertificate } from '../../../src/node/azure-client-certificate.js'
import { azureKMSProviderFromEnvironment } from '../../../src/node/azure-credentials.js'
import { signAndVerify as signAndVerifyWith, startAzureStandIns } from '../../support/azure-chain.js'
import type { AzureKeyVaultServer } from '../../support/azure-keyvault-server.js'
import type { AzureTokenEndpoint } from '../../support/azure-token-endpoint.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'
import { errorText, leakedSecrets } from '../../support/secret-leaks.js'

const URI = 'azurekms://countersign.vault.azure.net/cert-signed'
const PASSWORD = 'p12-Pässwort-7f3c9a'
const provoked = recordProvokedErrors()
let kv: AzureKeyVaultServer
let te: AzureTokenEndpoint
let dir: string
let clock = Date.now()
const now = () => clock
const f = (name: string) => join(dir, name)
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
/** `NAME.pem`, a two-day self-signed certificate for CN=NAME, and its unencrypted key `NAME.key`. */
const selfSigned = (name: string, ...newKey: string[]) =>
  openssl(
    'req',
    '-x509',
    '-newkey',
    ...newKey,
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
  )

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'az-cert-'))
  ;({ kv, te } = await startAzureStandIns('cert-signed', { now }))
  // A CA and a leaf it signs (the app's certificate), plus an unrelated self-signed certificate and an EC one.
  selfSigned('ca', 'rsa:2048')
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=app')
  openssl(
    'x509',
    '-req',
    '-in',
    'leaf.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'leaf.pem',
    '-days',
    '2',
  )
  selfSigned('other', 'rsa:2048')
  selfSigned('ec', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256')
  const leaf = readFileSync(f('leaf.pem'), 'utf8')
  const key = readFileSync(f('leaf.key'), 'utf8')
  writeFileSync(f('cert-first.pem'), leaf + key)
  writeFileSync(f('key-first.pem'), key + readFileSync(f('ca.pem'), 'utf8') + leaf)
  writeFileSync(f('other.both.pem'), readFileSync(f('other.pem'), 'utf8') + readFileSync(f('other.key'), 'utf8'))
  writeFileSync(f('ec.both.pem'), readFileSync(f('ec.pem'), 'utf8') + readFileSync(f('ec.key'), 'utf8'))
  const p12 = (out: string, ...extra: string[]) =>
    openssl(
      'pkcs12',
      '-export',
      '-in',
      'leaf.pem',
      '-inkey',
      'leaf.key',
      '-certfile',
      'ca.pem',
      '-passout',
      `pass:${PASSWORD}`,
      '-out',
      out,
      ...extra,
    )
  p12('default.p12')
  p12('legacy.p12', '-legacy')
  p12('des3.p12', '-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1')
  openssl(
    'pkcs8',
    '-topk8',
    '-in',
    'leaf.key',
    '-v2',
    'aes-256-cbc',
    '-passout',
    `pass:${PASSWORD}`,
    '-out',
    'leaf.enc.key',
  )
  writeFileSync(f('encrypted.pem'), leaf + readFileSync(f('leaf.enc.key'), 'utf8'))
  openssl('rsa', '-in', 'leaf.key', '-aes256', '-traditional', '-passout', `pass:${PASSWORD}`, '-out', 'leaf.dek.key')
  writeFileSync(f('dek.pem'), leaf + readFileSync(f('leaf.dek.key'), 'utf8'))
  te.certificatePEM = leaf
})

afterAll(async () => {
  provoked.expectNoSecrets(/eyJ0eXAiOiJKV1Qi/, [PASSWORD, ...te.issued, ...te.assertions.map((a) => a.jwt)])
  await te?.close()
  await kv?.close()
  rmSync(dir, { recursive: true, force: true })
})

function env(path: string, extra: Record<string, string> = {}) {
  return {
    AZURE_TENANT_ID: kv.tenantId,
    AZURE_CLIENT_ID: kv.clientId,
    AZURE_CLIENT_CERTIFICATE_PATH: path,
    AZURE_AUTHORITY_HOST: te.url,
    // Nothing else may answer: the instance metadata service would be next in the chain.
    AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:1',
    PATH: dir,
    ...extra,
  }
}

function provider(path: string, extra: Record<string, string> = {}, reports: CredentialSourceReport[] = []) {
  return azureKMSProviderFromEnvironment({
    endpoint: kv.url,
    env: env(path, extra),
    now,
    sleep: async () => {},
    onCredentialSource: (r) => reports.push(r),
  })
}

const signAndVerify = (p: ReturnType<typeof provider>) =>
  signAndVerifyWith(p, URI, 'signed with a certificate credential')

describe('client certificate files', () => {
  const cases = [
    ['PEM, certificate then key', 'cert-first.pem', undefined],
    ['PEM, key then CA then certificate', 'key-first.pem', undefined],
    ['PKCS#12 as OpenSSL 3 writes it (PBES2, AES-256-CBC, HMAC-SHA-256)', 'default.p12', PASSWORD],
    ['PKCS#12 -legacy (RC2-40 certificates, 3DES key, HMAC-SHA-1)', 'legacy.p12', PASSWORD],
    ['PKCS#12 with 3DES for both bags', 'des3.p12', PASSWORD],
    ['PEM with an encrypted PKCS#8 key', 'encrypted.pem', PASSWORD],
  ] as const
  for (const [what, file, password] of cases) {
    it(`${what}: resolves, the stand-in verifies the assertion, Key Vault signs`, async () => {
      const reports: CredentialSourceReport[] = []
      const before = te.assertions.length
      const extra: Record<string, string> = password ? { AZURE_CLIENT_CERTIFICATE_PASSWORD: password } : {}
      await signAndVerify(provider(f(file), extra, reports))
      expect(te.assertions.length).toBe(before + 1)
      expect(reports).toEqual([
        { provider: 'azure', source: 'environment', detail: `client certificate ${f(file)}, client ID ${kv.clientId}` },
      ])
      const material = await loadAzureClientCertificate(f(file), password)
      expect(Buffer.from(material.certificates[0]!)).toEqual(new X509Certificate(readFileSync(f('leaf.pem'))).raw)
    })
  }

  it('the assertion: PS256, x5t#S256 of the certificate, claims as MSAL for Go writes them', async () => {
    await signAndVerify(provider(f('cert-first.pem')))
    const { header, claims } = te.assertions.at(-1)!
    const leaf = new X509Certificate(readFileSync(f('leaf.pem')))
    expect(header).toEqual({
      alg: 'PS256',
      typ: 'JWT',
      'x5t#S256': createHash('sha256').update(leaf.raw).digest('base64'),
    })
    expect(claims).toMatchObject({
      aud: `${te.url}/${kv.tenantId}/oauth2/v2.0/token`,
      iss: kv.clientId,
      sub: kv.clientId,
      nbf: Math.floor(clock / 1000),
      exp: Math.floor(clock / 1000) + 600,
    })
    expect(claims.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })

  it('AZURE_CLIENT_SEND_CERTIFICATE_CHAIN=true sends x5c: the certificate first, then its chain', async () => {
    await signAndVerify(provider(f('key-first.pem'), { AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: 'true' }))
    const der = (file: string) => new X509Certificate(readFileSync(f(file))).raw.toString('base64')
    expect(te.assertions.at(-1)!.header.x5c).toEqual([der('leaf.pem'), der('ca.pem')])
  })

  it('refreshes five minutes before expiry with a new assertion (injected clock)', async () => {
    te.lifetime = 3600
    const p = provider(f('default.p12'), { AZURE_CLIENT_CERTIFICATE_PASSWORD: PASSWORD })
    const signer = await p.createSigner(URI)
    const before = te.assertions.length
    await signer.sign(new Uint8Array([1]))
    clock += 54 * 60_000
    await signer.sign(new Uint8Array([2]))
    expect(te.assertions.length).toBe(before) // the token from createSigner still serves
    clock += 2 * 60_000 // 56 minutes: inside the five-minute margin
    await signer.sign(new Uint8Array([3]))
    expect(te.assertions.length).toBe(before + 1)
    const [a, b] = te.assertions.slice(-2)
    expect(b!.claims.jti).not.toBe(a!.claims.jti)
    expect(b!.claims.nbf).toBe(Math.floor(clock / 1000))
  })

  it('portable use: the material passed directly', async () => {
    const material = await loadAzureClientCertificate(f('cert-first.pem'), undefined)
    const credentials = createAzureClientCertificateCredentials({
      tenantId: kv.tenantId,
      clientId: kv.clientId,
      certificate: material,
      authorityHost: te.url,
      now,
    })
    const got = await credentials({})
    expect(te.issued).toContain(got.token)
    expect(got.expiresAt).toBe(clock + te.lifetime * 1000)
  })
})

describe('client certificate failures', () => {
  it('a wrong PKCS#12 password is passed over; the chain error names the file, never the password', async () => {
    const e = await provoked.rejected(
      provider(f('default.p12'), { AZURE_CLIENT_CERTIFICATE_PASSWORD: 'not-the-password-123' }).publicKey(URI),
    )
    expect(e.code).toBe('ERR_KMS')
    expect(e.message).toMatch(
      /^no Azure credentials found; tried in order: 1\. environment: cannot use AZURE_CLIENT_CERTIFICATE_PATH: /,
    )
    expect(e.message).toContain(`${f('default.p12')}: PKCS#12: integrity check failed: wrong password`)
    expect(e.message).toMatch(
      /2\. workload identity: AZURE_FEDERATED_TOKEN_FILE not set; 3\. managed identity: no instance metadata service answered/,
    )
    expect(e.message).toContain('4. azure cli: Azure CLI (az) not found on PATH')
    expect(errorText(e)).not.toContain('not-the-password-123')
  })

  it('files that cannot work say why', async () => {
    for (const [file, password, why] of [
      ['default.p12', undefined, 'integrity check failed'],
      ['encrypted.pem', undefined, 'the private key is encrypted; set AZURE_CLIENT_CERTIFICATE_PASSWORD'],
      ['encrypted.pem', 'wrong-password', 'cannot decrypt the private key'],
      ['dek.pem', PASSWORD, 'legacy PEM encryption (DEK-Info) is not supported'],
      ['ec.both.pem', undefined, 'the private key must be an RSA key'],
      ['leaf.pem', undefined, 'no private key found'],
      ['leaf.key', undefined, 'no certificate found'],
      ['absent.pem', undefined, 'cannot read the file (ENOENT)'],
    ] as const) {
      const e = await provoked.rejected(loadAzureClientCertificate(f(file), password))
      expect(e.code, file).toBe('ERR_INVALID_INPUT')
      expect(e.message, file).toContain(why)
    }
    writeFileSync(f('mismatch.pem'), readFileSync(f('leaf.pem'), 'utf8') + readFileSync(f('other.key'), 'utf8'))
    const mismatch = await provoked.rejected(loadAzureClientCertificate(f('mismatch.pem'), undefined))
    expect(mismatch.message).toContain("the private key doesn't match any certificate")
  })

  it('a certificate Entra does not trust ends the chain with ERR_KMS 401 (not passed over)', async () => {
    const e = await provoked.rejected(provider(f('other.both.pem')).publicKey(URI))
    expect(e.details).toMatchObject({ provider: 'azurekms', status: 401, reason: 'invalid_client' })
    expect(e.message).toContain('not registered')
  })

  it('a token endpoint reflecting the request gets neither the assertion nor the password back', async () => {
    te.echoCredentials = true
    try {
      const e = await provoked.rejected(
        provider(f('default.p12'), { AZURE_CLIENT_CERTIFICATE_PASSWORD: PASSWORD }).publicKey(URI),
      )
      expect(e.details).toMatchObject({ status: 401 })
      const jwt = te.assertions.at(-1)!.jwt
      expect(leakedSecrets(errorText(e), { jwt, PASSWORD })).toEqual({})
    } finally {
      te.echoCredentials = false
    }
  })
})
