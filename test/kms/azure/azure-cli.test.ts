// The Azure CLI as the last source of the default chain: a fake `az` (a Node script with a shebang, first on PATH)
// records its argv and prints the JSON `az account get-access-token --output json` prints; the token it hands out
// signs a real Key Vault request. Also: `--tenant`, no shell between countersign and az, `expiresOn` in local time,
// refresh with an injected clock, and the failures (not found, not logged in, timeout, garbage) named in the chain's
// error without the token or a secret from az's stderr.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSecretSet } from '../../../src/http/redact.js'
import { verifySignature } from '../../../src/keys/verify.js'
import type { CredentialSourceReport } from '../../../src/kms/credential-chain.js'
import { createAzureCLITokenSource } from '../../../src/node/azure-cli-credentials.js'
import { azureKMSProviderFromEnvironment } from '../../../src/node/azure-credentials.js'
import { type AzureKeyVaultServer, startAzureKeyVaultServer } from '../../support/azure-keyvault-server.js'
import { recordProvokedErrors } from '../../support/provoked-errors.js'
import { errorText } from '../../support/secret-leaks.js'

const URI = 'azurekms://countersign.vault.azure.net/cli-signed'
const STDERR_SECRET = 'refresh-token-0a1b2c3d4e5f60718293a4b5'
const provoked = recordProvokedErrors()
let kv: AzureKeyVaultServer
let dir: string
let bin: string
let log: string
let token: string
let clock = Date.now()
const now = () => clock

// The fake az: argv to FAKE_AZ_LOG (one JSON line per run), then what FAKE_AZ_MODE asks for.
const FAKE_AZ = `#!${process.execPath}
const fs = require('node:fs')
fs.appendFileSync(process.env.FAKE_AZ_LOG, JSON.stringify(process.argv.slice(2)) + '\\n')
const mode = process.env.FAKE_AZ_MODE || 'ok'
const expires = Number(process.env.FAKE_AZ_EXPIRES)
const d = new Date(expires * 1000)
const p = (n, w = 2) => String(n).padStart(w, '0')
const local = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + ' ' + p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds()) + '.000000'
const doc = { accessToken: process.env.FAKE_AZ_TOKEN, expiresOn: local, expires_on: expires, subscription: 'sub', tenant: 't', tokenType: 'Bearer' }
if (mode === 'ok') console.log(JSON.stringify(doc, null, 2))
else if (mode === 'legacy') { delete doc.expires_on; console.log(JSON.stringify(doc)) }
else if (mode === 'login') { console.error("ERROR: Please run 'az login' to setup account."); process.exit(1) }
else if (mode === 'fail') { console.error('ERROR: AADSTS50173: grant revoked ' + process.env.FAKE_AZ_SECRET + ' ' + 'x'.repeat(100000)); process.exit(1) }
else if (mode === 'garbage') console.log('here is your token ' + process.env.FAKE_AZ_TOKEN + ' {')
else if (mode === 'hang') setTimeout(() => {}, 60000)
`

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'az-cli-'))
  bin = join(dir, 'bin')
  log = join(dir, 'argv.log')
  writeFileSync(log, '')
  mkdirSync(bin)
  writeFileSync(join(bin, 'az'), FAKE_AZ)
  chmodSync(join(bin, 'az'), 0o755)
  kv = await startAzureKeyVaultServer()
  kv.addKey('cli-signed')
  token = kv.issueToken()
})

afterAll(async () => {
  provoked.expectNoSecrets(/eyJ0eXAiOiJKV1Qi/, [token, STDERR_SECRET])
  await kv?.close()
  rmSync(dir, { recursive: true, force: true })
})

function env(mode: string, extra: Record<string, string> = {}) {
  return {
    PATH: bin,
    FAKE_AZ_LOG: log,
    FAKE_AZ_MODE: mode,
    FAKE_AZ_TOKEN: token,
    FAKE_AZ_SECRET: STDERR_SECRET,
    FAKE_AZ_EXPIRES: String(Math.floor(clock / 1000) + 3600),
    ...(process.env.TZ ? { TZ: process.env.TZ } : {}),
    // The instance metadata service comes before the CLI: make it absent, fast, and local.
    AZURE_POD_IDENTITY_AUTHORITY_HOST: 'http://127.0.0.1:1',
    ...extra,
  }
}

const runs = (): string[][] =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))

function provider(mode: string, extra: Record<string, string> = {}, more: Record<string, unknown> = {}) {
  const reports: CredentialSourceReport[] = []
  const p = azureKMSProviderFromEnvironment({
    endpoint: kv.url,
    env: env(mode, extra),
    now,
    onCredentialSource: (r) => reports.push(r),
    ...more,
  })
  return { p, reports }
}

describe('Azure CLI credential', () => {
  it('is tried last, runs az without a shell, and its token signs a Key Vault request', async () => {
    const before = runs().length
    const { p, reports } = provider('ok')
    const signer = await p.createSigner(URI)
    const data = new TextEncoder().encode('signed with the Azure CLI token')
    await expect(verifySignature(await signer.publicKey(), data, await signer.sign(data))).resolves.toBe(true)
    expect(runs().slice(before)).toEqual([
      ['account', 'get-access-token', '--output', 'json', '--resource', 'https://vault.azure.net'],
    ])
    expect(reports).toEqual([{ provider: 'azure', source: 'azure cli' }])
  })

  it('passes --tenant when asked; a subscription with a space arrives as one argument', async () => {
    const before = runs().length
    const { p, reports } = provider('ok', {}, { tenantId: kv.tenantId })
    await p.publicKey(URI)
    expect(runs().at(-1)).toEqual([
      'account',
      'get-access-token',
      '--output',
      'json',
      '--resource',
      'https://vault.azure.net',
      '--tenant',
      kv.tenantId,
    ])
    expect(reports[0]).toEqual({ provider: 'azure', source: 'azure cli', detail: `tenant ${kv.tenantId}` })
    const cli = createAzureCLITokenSource({ env: env('ok'), subscription: 'My Sub; rm -rf x' })
    expect((await provoked.rejected(cli({ resource: 'https://vault.azure.net' }))).message).toBe(
      'invalid subscription for az',
    )
    const spaced = createAzureCLITokenSource({ env: env('ok'), subscription: 'My Subscription' })
    await spaced({ resource: 'https://vault.azure.net' })
    expect(runs().at(-1)!.slice(-2)).toEqual(['--subscription', 'My Subscription'])
    const hostile = await provoked.rejected(cli({ resource: 'https://vault.azure.net$(touch pwned)' }))
    expect(hostile.details).toMatchObject({ reason: 'no-credentials' })
    expect(runs().length).toBe(before + 2)
  })

  it('AZURE_TOKEN_CREDENTIALS=dev goes straight to the CLI (no metadata probe)', async () => {
    const { p, reports } = provider('ok', { AZURE_TOKEN_CREDENTIALS: 'dev', AZURE_POD_IDENTITY_AUTHORITY_HOST: kv.url })
    const before = kv.requests.length
    await p.publicKey(URI)
    expect(kv.requests.slice(before).filter((r) => r.includes('/metadata/'))).toEqual([])
    expect(reports.map((r) => r.source)).toEqual(['azure cli'])
  })

  it('reads expires_on (epoch seconds), else expiresOn as local time', async () => {
    const saved = process.env.TZ
    process.env.TZ = 'America/New_York'
    try {
      const expires = Math.floor(clock / 1000) + 1234
      for (const mode of ['ok', 'legacy']) {
        const cli = createAzureCLITokenSource({
          env: env(mode, { FAKE_AZ_EXPIRES: String(expires), TZ: 'America/New_York' }),
        })
        await expect(cli({ resource: 'https://vault.azure.net' })).resolves.toEqual({
          token,
          expiresAt: expires * 1000,
        })
      }
    } finally {
      if (saved === undefined) delete process.env.TZ
      else process.env.TZ = saved
    }
  })

  it('runs az again five minutes before the token expires (injected clock); the token joins the secrets', async () => {
    const secrets = createSecretSet()
    const { p } = provider('ok', {}, { secrets })
    const signer = await p.createSigner(URI)
    const before = runs().length
    clock += 54 * 60_000
    await signer.sign(new Uint8Array([1]))
    expect(runs().length).toBe(before)
    clock += 2 * 60_000
    await signer.sign(new Uint8Array([2]))
    expect(runs().length).toBe(before + 1)
    expect(secrets.redact(`token ${token}`)).toBe('token [REDACTED]')
  })
})

describe('Azure CLI failures', () => {
  const chainError = async (mode: string, extra: Record<string, string> = {}, more: Record<string, unknown> = {}) => {
    const e = await provoked.rejected(provider(mode, extra, more).p.publicKey(URI))
    expect(e.code).toBe('ERR_KMS')
    expect(e.message).toMatch(
      /^no Azure credentials found; tried in order: 1\. environment: AZURE_TENANT_ID not set; 2\. workload identity: AZURE_TENANT_ID not set; 3\. managed identity: no instance metadata service answered at http:\/\/127\.0\.0\.1:1 within 1 s; 4\. azure cli: /,
    )
    return e.message.slice(e.message.indexOf('4. azure cli: ') + '4. azure cli: '.length)
  }

  it('az not on PATH', async () => {
    expect(await chainError('ok', { PATH: join(dir, 'nowhere') })).toBe('Azure CLI (az) not found on PATH')
  })

  it("not logged in: run 'az login'", async () => {
    expect(await chainError('login')).toBe("Azure CLI is not logged in: run 'az login'")
  })

  it('another failure: the first line of stderr, redacted and clipped', async () => {
    const secrets = createSecretSet([STDERR_SECRET])
    const reason = await chainError('fail', {}, { secrets })
    expect(reason).toMatch(/^az account get-access-token failed: ERROR: AADSTS50173: grant revoked \[REDACTED\] x+…$/)
    expect(reason.length).toBeLessThan(260)
  })

  it('a timeout', async () => {
    expect(await chainError('hang', {}, { azureCLITimeoutMs: 500 })).toBe('az did not answer within 0.5 s')
  })

  it('an abort stops az and is ERR_ABORTED, not a missing source', async () => {
    const cli = createAzureCLITokenSource({ env: env('hang') })
    const signal = AbortSignal.timeout(200)
    const e = await provoked.rejected(cli({ resource: 'https://vault.azure.net', signal }))
    expect(e.code).toBe('ERR_ABORTED')
  })

  it('output that is not the JSON expected never quotes it (it holds the token)', async () => {
    const reason = await chainError('garbage')
    expect(reason).toBe('az printed no JSON')
    const e = await provoked.rejected(provider('garbage').p.publicKey(URI))
    expect(errorText(e)).not.toContain(token)
  })
})
