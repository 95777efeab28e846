// countersign/node's Vault provider: token from env, then AppRole from env, then ~/.vault-token; TLS variables.
// The other sources (JWT, Kubernetes, token helper, renewal) are tested in test/kms/hashivault/*-auth, token-helper, renewal.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hashiVaultKMSProviderFromEnvironment } from '../../src/node/vault-credentials.js'
import { startVaultServer, type VaultServer } from '../support/vault-server.js'

const TOKEN = 'hvs.CAESINodeAdapterToken000000000'
const FILE_TOKEN = 'hvs.CAESIFromVaultTokenFile000000'
const SECRET_ID = 'node-adapter-secret-id-0000'
let vault: VaultServer
let home: string

beforeAll(async () => {
  vault = await startVaultServer({
    tokens: [TOKEN, FILE_TOKEN],
    appRole: { roleId: 'ci', secretId: SECRET_ID },
  })
  vault.createKey('k', 'ecdsa-p256')
  home = mkdtempSync(join(tmpdir(), 'countersign-vault-home-'))
})
afterAll(async () => {
  await vault?.close()
  rmSync(home, { recursive: true, force: true })
})

const lastToken = () => vault.requests.at(-1)!.token

describe('hashiVaultKMSProviderFromEnvironment', () => {
  it('VAULT_TOKEN first', async () => {
    writeFileSync(join(home, '.vault-token'), `${FILE_TOKEN}\n`)
    const p = hashiVaultKMSProviderFromEnvironment({
      env: { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN },
      homeDir: home,
    })
    await p.publicKey('hashivault://k')
    expect(lastToken()).toBe(TOKEN)
  })

  it('then AppRole from VAULT_ROLE_ID / VAULT_SECRET_ID', async () => {
    const p = hashiVaultKMSProviderFromEnvironment({
      env: { VAULT_ADDR: vault.url, VAULT_ROLE_ID: 'ci', VAULT_SECRET_ID: SECRET_ID },
      homeDir: home,
    })
    await p.publicKey('hashivault://k')
    expect(lastToken()).toBe(vault.issuedTokens.at(-1))
  })

  it('then ~/.vault-token (trimmed)', async () => {
    writeFileSync(join(home, '.vault-token'), `${FILE_TOKEN}\n`)
    const p = hashiVaultKMSProviderFromEnvironment({ env: { VAULT_ADDR: vault.url }, homeDir: home })
    const signer = await p.createSigner('hashivault://k')
    await signer.sign(new Uint8Array([1, 2, 3]))
    expect(lastToken()).toBe(FILE_TOKEN)
  })

  it('no token anywhere is ERR_INVALID_INPUT; an unreadable token file names the file, not its content', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'countersign-vault-empty-'))
    try {
      const p = hashiVaultKMSProviderFromEnvironment({ env: { VAULT_ADDR: vault.url }, homeDir: empty })
      await expect(p.publicKey('hashivault://k')).rejects.toMatchObject({
        code: 'ERR_KMS',
        details: { reason: 'no-credentials' },
      })
      // A directory where the file should be: reading fails with EISDIR.
      const odd = mkdtempSync(join(tmpdir(), 'countersign-vault-odd-'))
      mkdirSync(join(odd, '.vault-token'))
      const q = hashiVaultKMSProviderFromEnvironment({ env: { VAULT_ADDR: vault.url }, homeDir: odd })
      await expect(q.publicKey('hashivault://k')).rejects.toMatchObject({
        code: 'ERR_INVALID_INPUT',
        details: { reason: 'token-file' },
      })
      rmSync(odd, { recursive: true, force: true })
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })

  it('VAULT_CACERT is honoured (a missing CA file fails loudly)', () => {
    expect(() =>
      hashiVaultKMSProviderFromEnvironment({
        env: { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN, VAULT_CACERT: join(home, 'missing-ca.pem') },
        homeDir: home,
      }),
    ).toThrow()
  })
})
