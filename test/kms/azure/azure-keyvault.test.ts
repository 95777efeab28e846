// The azurekms:// provider against an in-process Key Vault: real keys and signatures (EC raw r‖s → DER), bearer
// tokens this server issued, throttling, denial, missing keys, key creation and every credential source.
import { createPublicKey, verify as nodeVerify } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ecdsaDERToP1363, parsePublicKey, publicKeyToPEM } from '../../../src/keys/index.js'
import { verifySignature } from '../../../src/keys/verify.js'
import {
  createAzureClientCredentials,
  createAzureKMSProvider,
  createAzureManagedIdentityCredentials,
  parseAzureKMSURI,
} from '../../../src/kms/azure/index.js'
import { azureVaultResource } from '../../../src/kms/azure/provider.js'
import { azureKMSProviderFromEnvironment } from '../../../src/node/azure-credentials.js'
import { type AzureKeyVaultServer, startAzureKeyVaultServer } from '../../support/azure-keyvault-server.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'

let kv: AzureKeyVaultServer
const noSleep = { sleep: async () => {} }
const provoked = recordProvokedErrors()
const { rejected } = provoked
const VAULT = 'azurekms://countersign.vault.azure.net'

beforeAll(async () => {
  kv = await startAzureKeyVaultServer()
})
afterAll(async () => {
  provoked.expectNoSecrets(/eyJ0eXAiOiJKV1Qi|Bearer ey/, [kv.clientSecret, kv.federatedToken, kv.identityHeader])
  await kv?.close()
})

function provider(extra: Parameters<typeof createAzureKMSProvider>[0] = {}) {
  return createAzureKMSProvider({ endpoint: kv.url, accessToken: kv.issueToken(), ...noSleep, ...extra })
}

describe('azurekms:// references', () => {
  it('parses sigstore forms', () => {
    expect(parseAzureKMSURI('azurekms://v.vault.azure.net/key')).toEqual({
      vaultHost: 'v.vault.azure.net',
      vaultURL: 'https://v.vault.azure.net',
      keyName: 'key',
    })
    expect(parseAzureKMSURI('azurekms://v.vault.azure.net/key/0123abcd').version).toBe('0123abcd')
    expect(parseAzureKMSURI('azurekms://v.vault.azure.net/key/').version).toBeUndefined()
    expect(parseAzureKMSURI('azurekms://localhost:8443/key').vaultURL).toBe('https://localhost:8443')
  })

  it('rejects other shapes with ERR_INVALID_INPUT', () => {
    for (const bad of [
      'azurekms://v.vault.azure.net',
      'azurekms://v.vault.azure.net/key/ABC', // sigstore: versions are [a-z0-9]
      'azurekms://v.vault.azure.net/key/1/2',
      'azurekms://user@evil.example/key',
      'azurekms://v.vault.azure.net/..',
      'azurekms://v.vault.azure.net/key?x',
      'gcpkms://v.vault.azure.net/key',
    ]) {
      expect(() => parseAzureKMSURI(bad), bad).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    }
  })

  it('token audiences follow the vault cloud', () => {
    expect(azureVaultResource('a.vault.azure.net')).toBe('https://vault.azure.net')
    expect(azureVaultResource('a.vault.usgovcloudapi.net')).toBe('https://vault.usgovcloudapi.net')
    expect(azureVaultResource('a.vault.azure.cn')).toBe('https://vault.azure.cn')
    expect(azureVaultResource('h.managedhsm.azure.net')).toBe('https://managedhsm.azure.net')
  })
})

describe('signing with Key Vault keys', () => {
  const cases = [
    [{ kty: 'EC', crv: 'P-256' }, 'ecdsa-p256-sha256', 'sha256', 'ES256'],
    [{ kty: 'EC', crv: 'P-384' }, 'ecdsa-p384-sha384', 'sha384', 'ES384'],
    [{ kty: 'EC', crv: 'P-521' }, 'ecdsa-p521-sha512', 'sha512', 'ES512'],
    [{ kty: 'RSA', size: 2048 }, 'rsa-pkcs1v15-sha256', 'sha256', 'RS256'],
    [{ kty: 'RSA', size: 3072 }, 'rsa-pkcs1v15-sha384', 'sha384', 'RS384'],
  ] as const
  for (const [spec, algorithm, hash, alg] of cases) {
    it(`${JSON.stringify(spec)}: ${alg}, DER for EC, verifies with the exported PEM`, async () => {
      const name = `k-${spec.kty}-${'crv' in spec ? spec.crv : spec.size}`.toLowerCase()
      kv.addKey(name, spec)
      const signer = await provider().createSigner(`${VAULT}/${name}`)
      expect(signer.algorithm).toBe(algorithm)
      const pem = publicKeyToPEM(await signer.publicKey())
      expect(createPublicKey(pem).export({ format: 'der', type: 'spki' })).toEqual(
        createPublicKey(kv.publicKeyPEM(name)).export({ format: 'der', type: 'spki' }),
      )
      const data = new TextEncoder().encode(`payload ${alg}`)
      const before = kv.signRequests.length
      const signature = await signer.sign(data)
      expect(kv.signRequests[before]!.alg).toBe(alg)
      if (spec.kty === 'EC')
        expect(() => ecdsaDERToP1363(signature, { 'P-256': 32, 'P-384': 48, 'P-521': 66 }[spec.crv])).not.toThrow()
      await expect(verifySignature(parsePublicKey(pem), data, signature, { hash })).resolves.toBe(true)
      expect(nodeVerify(hash, data, pem, signature)).toBe(true)
    })
  }

  it('an unpinned signer signs with the version it reported; a pinned one with that version', async () => {
    const first = kv.addKey('rotating')
    const signer = await provider().createSigner(`${VAULT}/rotating`)
    const second = kv.addVersion('rotating')
    const data = new Uint8Array([4, 2])
    const sig = await signer.sign(data)
    expect(kv.requests.at(-1)).toBe(`POST /keys/rotating/${first.version}/sign 200`)
    const oldKey = await provider().publicKey(`${VAULT}/rotating/${first.version}`)
    await expect(verifySignature(oldKey, data, sig)).resolves.toBe(true)
    const newKey = await provider().publicKey(`${VAULT}/rotating`)
    expect(newKey.spki).not.toEqual(oldKey.spki)
    const pinned = await provider().createSigner(`${VAULT}/rotating/${second.version}`)
    await expect(verifySignature(newKey, data, await pinned.sign(data))).resolves.toBe(true)
  })

  it('refuses keys sigstore cannot sign with (P-256K)', async () => {
    kv.addKey('k256', { kty: 'EC', crv: 'P-256K' })
    const e = await rejected(provider().createSigner(`${VAULT}/k256`))
    expect(e.code).toBe('ERR_UNSUPPORTED_ALGORITHM')
  })
})

describe('Key Vault failures', () => {
  beforeAll(() => {
    kv.addKey('faults')
  })

  it('throttling (429 + Retry-After) is retried; past the budget it is ERR_KMS 429', async () => {
    const signer = await provider().createSigner(`${VAULT}/faults`)
    const before = kv.requests.length
    kv.fault({ status: 429, times: 2, path: '/sign' })
    await expect(signer.sign(new Uint8Array([1]))).resolves.toBeInstanceOf(Uint8Array)
    expect(kv.requests.slice(before).filter((r) => r.endsWith(' 429'))).toHaveLength(2)
    kv.fault({ status: 429, times: 10, path: '/sign' })
    const e = await rejected(
      provider({ retry: { attempts: 1 } })
        .createSigner(`${VAULT}/faults`)
        .then((s) => s.sign(new Uint8Array([2]))),
    )
    expect(e.details).toMatchObject({ provider: 'azurekms', status: 429 })
    kv.fault({ status: 429, times: 0, path: '/sign' })
  })

  it('403 Forbidden and 404 KeyNotFound are ERR_KMS with the status and Key Vault code', async () => {
    kv.addKey('forbidden')
    kv.deny('forbidden')
    const denied = await rejected(provider().publicKey(`${VAULT}/forbidden`))
    expect(denied.details).toMatchObject({ provider: 'azurekms', status: 403, reason: 'Forbidden' })
    const missing = await rejected(provider().publicKey(`${VAULT}/absent`))
    expect(missing.details).toMatchObject({ provider: 'azurekms', status: 404, reason: 'KeyNotFound' })
    const badToken = await rejected(
      createAzureKMSProvider({ endpoint: kv.url, accessToken: 'nope' }).publicKey(`${VAULT}/faults`),
    )
    expect(badToken.details).toMatchObject({ status: 401, reason: 'Unauthorized' })
  })

  it('sign answers with a wrong length, a bad signature or another version are refused', async () => {
    const signer = await provider().createSigner(`${VAULT}/faults`)
    try {
      for (const kind of ['short', 'flip', 'other-kid'] as const) {
        kv.corrupt(kind)
        const e = await rejected(signer.sign(new Uint8Array([3])))
        expect(e.details, kind).toMatchObject({ provider: 'azurekms', reason: 'bad-response' })
      }
    } finally {
      kv.corrupt(undefined)
    }
  })

  it('hostile key bundles are coded errors', async () => {
    const jwk = kv.addKey('hostile').publicJWK
    const kid = 'https://countersign.vault.azure.net/keys/hostile/0123'
    for (const [what, body] of [
      ['no key', { attributes: {} }],
      ['foreign kid', { key: { ...jwk, kid: 'https://x/keys/other/0123' } }],
      ['off-curve point', { key: { ...jwk, kid, y: jwk.x } }],
      ['oct key', { key: { kty: 'oct', kid } }],
      ['not json', 'nope'],
    ] as const) {
      const p = createAzureKMSProvider({
        accessToken: 't',
        fetch: (async () => new Response(typeof body === 'string' ? body : JSON.stringify(body))) as typeof fetch,
      })
      const e = await rejected(p.publicKey(`${VAULT}/hostile`))
      expect(['ERR_KMS', 'ERR_UNSUPPORTED_ALGORITHM'], what).toContain(e.code)
    }
  })
})

describe('key creation', () => {
  it('creates an EC P-256 key tagged for sigstore when missing, reuses it when present', async () => {
    const p = provider()
    const created = await p.createKey(`${VAULT}/generated`)
    expect(created.algorithm).toBe('ecdsa-p256')
    expect(kv.requests).toContain('POST /keys/generated/create 200')
    const creates = kv.requests.filter((r) => r.startsWith('POST /keys/generated/create')).length
    const again = await p.createKey(`${VAULT}/generated`)
    expect(again.spki).toEqual(created.spki)
    expect(kv.requests.filter((r) => r.startsWith('POST /keys/generated/create')).length).toBe(creates)
    const rsa = await p.createKey(`${VAULT}/generated-rsa`, { algorithm: 'rsa-pkcs1v15-sha256' })
    expect(rsa).toMatchObject({ algorithm: 'rsa', rsaBits: 2048 })
    expect((await rejected(p.createKey(`${VAULT}/x`, { algorithm: 'ed25519' }))).code).toBe('ERR_UNSUPPORTED_ALGORITHM')
    // A 403 on the existence check is not "missing": nothing is created.
    kv.deny('guarded')
    expect((await rejected(p.createKey(`${VAULT}/guarded`))).details).toMatchObject({ status: 403 })
  })
})

describe('Azure credentials', () => {
  const uri = `${VAULT}/creds`
  beforeAll(() => {
    kv.addKey('creds')
  })
  const base = () => ({ AZURE_AUTHORITY_HOST: kv.url, AZURE_TENANT_ID: kv.tenantId, AZURE_CLIENT_ID: kv.clientId })

  it('client secret from the environment; one token for several calls; scope is the vault resource', async () => {
    const before = kv.tokenRequests.length
    const p = createAzureKMSProvider({ endpoint: kv.url, env: { ...base(), AZURE_CLIENT_SECRET: kv.clientSecret } })
    const signer = await p.createSigner(uri)
    await signer.sign(new Uint8Array([1]))
    await signer.sign(new Uint8Array([2]))
    expect(kv.tokenRequests.length).toBe(before + 1)
    expect(new URLSearchParams(kv.tokenRequests.at(-1)).get('scope')).toBe('https://vault.azure.net/.default')
  })

  it('a wrong secret is ERR_KMS 401 invalid_client without the secret in the error', async () => {
    const wrong = 'wrong~secret~value'
    const p = createAzureKMSProvider({ endpoint: kv.url, env: { ...base(), AZURE_CLIENT_SECRET: wrong }, ...noSleep })
    const e = await rejected(p.publicKey(uri))
    expect(e.details).toMatchObject({ provider: 'azurekms', status: 401, reason: 'invalid_client' })
    expect(JSON.stringify({ m: e.message, d: e.details })).not.toContain(wrong)
    const tenant = await rejected(
      createAzureClientCredentials({
        tenantId: 'other-tenant',
        clientId: kv.clientId,
        clientSecret: kv.clientSecret,
        authorityHost: kv.url,
      })({}),
    )
    expect(tenant.details).toMatchObject({ status: 400 })
  })

  it('workload identity: the federated token file (Node) as client_assertion', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'az-wi-'))
    try {
      const file = join(dir, 'token')
      writeFileSync(file, `${kv.federatedToken}\n`)
      const before = kv.tokenRequests.length
      const p = azureKMSProviderFromEnvironment({
        endpoint: kv.url,
        env: { ...base(), AZURE_FEDERATED_TOKEN_FILE: file },
      })
      await expect(p.publicKey(uri)).resolves.toMatchObject({ algorithm: 'ecdsa-p256' })
      const form = new URLSearchParams(kv.tokenRequests[before])
      expect(form.get('client_assertion')).toBe(kv.federatedToken)
      expect(form.get('client_secret')).toBeNull()
      const missing = azureKMSProviderFromEnvironment({
        endpoint: kv.url,
        env: { ...base(), AZURE_FEDERATED_TOKEN_FILE: join(dir, 'absent') },
      })
      expect((await rejected(missing.publicKey(uri))).code).toBe('ERR_INVALID_INPUT')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('managed identity: IMDS (Metadata: true, user-assigned client_id) and App Service IDENTITY_ENDPOINT', async () => {
    const imds = createAzureKMSProvider({
      endpoint: kv.url,
      env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: kv.url, AZURE_CLIENT_ID: kv.clientId },
    })
    await expect(imds.publicKey(uri)).resolves.toBeDefined()
    const imdsQuery = new URLSearchParams(kv.tokenRequests.at(-1)!.replace(/^imds \?/, ''))
    expect(imdsQuery.get('resource')).toBe('https://vault.azure.net')
    expect(imdsQuery.get('client_id')).toBe(kv.clientId)
    const appService = createAzureKMSProvider({
      endpoint: kv.url,
      env: { IDENTITY_ENDPOINT: `${kv.url}/msi/token`, IDENTITY_HEADER: kv.identityHeader },
    })
    await expect(appService.publicKey(uri)).resolves.toBeDefined()
    expect(kv.tokenRequests.at(-1)).toMatch(/^appservice /)
    // Not on Azure: the metadata service does not answer → ERR_KMS "no credentials".
    const nowhere = createAzureManagedIdentityCredentials({
      env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:1' },
      ...noSleep,
    })
    expect((await rejected(nowhere({}))).details).toMatchObject({ reason: 'no-credentials' })
  })
})
