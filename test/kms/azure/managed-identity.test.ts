// Managed identity in the default chain, against stand-ins on 127.0.0.1: App Service (X-IDENTITY-HEADER checked),
// Azure Arc (the 401 challenge naming a key file, whose content comes back as Basic; the path, suffix and size
// checks azidentity makes), and the instance metadata service (probe first; system- or user-assigned). Each token
// signs a real Key Vault request; expiry and refresh with an injected clock; the chain's error when nothing applies;
// AZURE_TOKEN_CREDENTIALS; and no identity header, Arc key or token in any error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAzureManagedIdentityCredentials } from '../../../src/kms/azure/index.js'
import type { CredentialSourceReport } from '../../../src/kms/credential-chain.js'
import { createAzureArcKeyReader } from '../../../src/node/azure-arc-key.js'
import { azureKMSProviderFromEnvironment } from '../../../src/node/azure-credentials.js'
import { signAndVerify as signAndVerifyWith, startAzureStandIns } from '../../support/azure-chain.js'
import type { AzureKeyVaultServer } from '../../support/azure-keyvault-server.js'
import type { AzureTokenEndpoint } from '../../support/azure-token-endpoint.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'
import { errorText, leakedSecrets } from '../../support/secret-leaks.js'

const URI = 'azurekms://countersign.vault.azure.net/mi-signed'
const USER_ASSIGNED = '5b1f2c3d-0000-4000-8000-00000000beef'
const provoked = recordProvokedErrors()
let kv: AzureKeyVaultServer
let te: AzureTokenEndpoint
let arcDir: string
let clock = Date.now()
const now = () => clock

beforeAll(async () => {
  arcDir = mkdtempSync(join(tmpdir(), 'az-arc-'))
  ;({ kv, te } = await startAzureStandIns('mi-signed', { arcKeyDirectory: arcDir, now }))
  te.userAssigned.add(USER_ASSIGNED)
})

afterAll(async () => {
  provoked.expectNoSecrets(/eyJ0eXAiOiJKV1Qi/, [te.identityHeader, ...te.arcKeys, ...te.issued])
  await te?.close()
  await kv?.close()
  rmSync(arcDir, { recursive: true, force: true })
})

const NO_IMDS = { AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:1' }
const appService = () => ({ IDENTITY_ENDPOINT: `${te.url}/msi/token`, IDENTITY_HEADER: te.identityHeader })
const arc = () => ({ IDENTITY_ENDPOINT: `${te.url}/arc/token`, IMDS_ENDPOINT: te.url })

function provider(env: Record<string, string>, more: Record<string, unknown> = {}) {
  const reports: CredentialSourceReport[] = []
  const p = azureKMSProviderFromEnvironment({
    endpoint: kv.url,
    env: { PATH: join(arcDir, 'no-az'), ...env },
    azureArcKeyDirectory: arcDir,
    now,
    sleep: async () => {},
    onCredentialSource: (r) => reports.push(r),
    ...more,
  })
  return { p, reports }
}

const signAndVerify = (p: ReturnType<typeof provider>['p']) => signAndVerifyWith(p, URI, 'managed identity')

describe('App Service / Functions (IDENTITY_ENDPOINT + IDENTITY_HEADER)', () => {
  it('sends X-IDENTITY-HEADER with api-version 2019-08-01; the token signs; reported once', async () => {
    const before = te.requests.length
    const { p, reports } = provider(appService())
    await signAndVerify(p)
    await p.publicKey(URI)
    expect(te.requests.slice(before)).toEqual(['GET /msi/token noauth'])
    expect(reports).toEqual([{ provider: 'azure', source: 'managed identity', detail: 'App Service' }])
  })

  it('a user-assigned identity (AZURE_CLIENT_ID) is asked for by client_id', async () => {
    const { p, reports } = provider({ ...appService(), AZURE_CLIENT_ID: USER_ASSIGNED })
    await signAndVerify(p)
    expect(reports[0]!.detail).toBe(`App Service, client ID ${USER_ASSIGNED}`)
  })

  it('a wrong header ends the chain with ERR_KMS 400 and does not echo the header', async () => {
    te.echoCredentials = true
    try {
      const e = await provoked.rejected(provider(appService()).p.publicKey(URI))
      expect(e.details).toMatchObject({ provider: 'azurekms', status: 400 })
      expect(leakedSecrets(errorText(e), { header: te.identityHeader })).toEqual({})
    } finally {
      te.echoCredentials = false
    }
  })

  it('refreshes five minutes before expires_on (injected clock)', async () => {
    te.lifetime = 3600
    const { p } = provider(appService())
    const signer = await p.createSigner(URI)
    const count = () => te.requests.filter((r) => r.startsWith('GET /msi/token')).length
    const before = count()
    clock += 54 * 60_000
    await signer.sign(new Uint8Array([1]))
    expect(count()).toBe(before)
    clock += 2 * 60_000
    await signer.sign(new Uint8Array([2]))
    expect(count()).toBe(before + 1)
  })
})

describe('Azure Arc (IDENTITY_ENDPOINT + IMDS_ENDPOINT)', () => {
  it('answers the 401 challenge with the key file it names; the token signs', async () => {
    const before = te.requests.length
    const { p, reports } = provider(arc())
    await signAndVerify(p)
    expect(te.requests.slice(before)).toEqual(['GET /arc/token noauth metadata', 'GET /arc/token auth metadata'])
    expect(reports).toEqual([{ provider: 'azure', source: 'managed identity', detail: 'Azure Arc' }])
  })

  it('refuses key files outside the agent directory, with another suffix, or too large (nothing is sent)', async () => {
    writeFileSync(join(tmpdir(), 'az-arc-outside.key'), 'outside')
    writeFileSync(join(arcDir, 'big.key'), 'k'.repeat(4097))
    const hostile: [(file: string) => string, RegExp][] = [
      [() => join(tmpdir(), 'az-arc-outside.key'), /unexpected key file path/],
      [(file) => `${arcDir}/sub/../${file.slice(arcDir.length + 1)}`, /unexpected key file path/],
      [(file) => file.replace(/\.key$/, '.txt'), /unexpected key file path/],
      [() => join(arcDir, 'big.key'), /key file is too large \(4097 bytes\)/],
      [() => join(arcDir, 'absent.key'), /cannot stat/],
    ]
    try {
      for (const [realm, why] of hostile) {
        te.arcRealm = realm
        const before = te.requests.length
        const e = await provoked.rejected(provider(arc()).p.publicKey(URI))
        expect(e.message, String(why)).toMatch(why)
        expect(te.requests.slice(before)).toEqual(['GET /arc/token noauth metadata'])
      }
    } finally {
      te.arcRealm = undefined
    }
  })

  it('a user-assigned identity is passed over, as azidentity does (the Arc API takes none)', async () => {
    const e = await provoked.rejected(provider({ ...arc(), AZURE_CLIENT_ID: USER_ASSIGNED }).p.publicKey(URI))
    expect(e.message).toContain(
      '3. managed identity: Azure Arc does not support a user-assigned identity (AZURE_CLIENT_ID is set)',
    )
  })

  it('the Arc key is kept out of errors when the endpoint reflects it', async () => {
    te.echoCredentials = true
    try {
      const read = createAzureArcKeyReader({ directory: arcDir })
      const e = await provoked.rejected(
        createAzureManagedIdentityCredentials({ env: arc(), readArcKey: read, sleep: async () => {} })({}),
      )
      expect(e.code).toBe('ERR_KMS')
      expect(leakedSecrets(errorText(e), { key: te.arcKeys.at(-1)! })).toEqual({})
    } finally {
      te.echoCredentials = false
    }
  })
})

describe('instance metadata service', () => {
  const imds = () => ({ AZURE_POD_IDENTITY_AUTHORITY_HOST: te.url })

  it('probes without Metadata, then asks with it; system-assigned; the token signs', async () => {
    const before = te.requests.length
    const { p, reports } = provider(imds())
    await signAndVerify(p)
    expect(te.requests.slice(before)).toEqual([
      'GET /metadata/identity/oauth2/token noauth',
      'GET /metadata/identity/oauth2/token noauth metadata',
    ])
    expect(reports).toEqual([{ provider: 'azure', source: 'managed identity', detail: 'IMDS' }])
  })

  it('user-assigned: the client ID is asked for; one not assigned here ends the chain', async () => {
    await signAndVerify(provider({ ...imds(), AZURE_CLIENT_ID: USER_ASSIGNED }).p)
    const e = await provoked.rejected(provider({ ...imds(), AZURE_CLIENT_ID: 'not-assigned' }).p.publicKey(URI))
    expect(e.message).toBe("managed identity: client ID not-assigned isn't assigned to this resource")
  })

  it('no system-assigned identity: passed over, and the chain says so', async () => {
    te.systemIdentity = false
    try {
      const e = await provoked.rejected(provider(imds()).p.publicKey(URI))
      expect(e.message).toContain('3. managed identity: IMDS has no system-assigned identity for this resource')
    } finally {
      te.systemIdentity = true
    }
  })
})

describe('the chain', () => {
  it('with no source: every source in order, with why it was passed over', async () => {
    const e = await provoked.rejected(provider(NO_IMDS).p.publicKey(URI))
    expect(e.code).toBe('ERR_KMS')
    expect(e.message).toBe(
      'no Azure credentials found; tried in order: 1. environment: AZURE_TENANT_ID not set; ' +
        '2. workload identity: AZURE_TENANT_ID not set; ' +
        '3. managed identity: no instance metadata service answered at http://127.0.0.1:1 within 1 s; ' +
        '4. azure cli: Azure CLI (az) not found on PATH',
    )
  })

  it('environment before managed identity: a client secret wins over App Service', async () => {
    const { p, reports } = provider({
      ...appService(),
      AZURE_TENANT_ID: kv.tenantId,
      AZURE_CLIENT_ID: kv.clientId,
      AZURE_CLIENT_SECRET: kv.clientSecret,
      AZURE_AUTHORITY_HOST: kv.url,
    })
    await signAndVerify(p)
    expect(reports.map((r) => r.source)).toEqual(['environment'])
  })

  it('AZURE_TOKEN_CREDENTIALS narrows the chain; a bad value is ERR_INVALID_INPUT', async () => {
    const prod = await provoked.rejected(provider({ ...NO_IMDS, AZURE_TOKEN_CREDENTIALS: 'prod' }).p.publicKey(URI))
    expect(prod.message).not.toContain('azure cli')
    const one = provider({ ...appService(), AZURE_TOKEN_CREDENTIALS: 'ManagedIdentityCredential' })
    await signAndVerify(one.p)
    const only = await provoked.rejected(
      provider({ ...appService(), AZURE_TOKEN_CREDENTIALS: 'AzureCLICredential' }).p.publicKey(URI),
    )
    expect(only.message).toBe(
      'no Azure credentials found; tried in order: 1. azure cli: Azure CLI (az) not found on PATH',
    )
    const bad = await provoked.rejected(provider({ AZURE_TOKEN_CREDENTIALS: 'Everything' }).p.publicKey(URI))
    expect(bad.code).toBe('ERR_INVALID_INPUT')
  })
})
