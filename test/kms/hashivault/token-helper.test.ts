// The Vault CLI's token helper: `token_helper = "/path"` in ~/.vault (HCL or JSON; VAULT_CONFIG_PATH elsewhere) is
// run as `<helper> get` without a shell (a node script with a shebang, written here, records its argv) and its
// stdout is the token, which then signs a real transit request. As in the CLI, the helper replaces ~/.vault-token
// and VAULT_TOKEN beats it.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { verifySignature } from '../../../src/keys/index.js'
import type { CredentialSourceReport } from '../../../src/kms/credential-chain.js'
import { parseVaultCLIConfig } from '../../../src/node/vault-cli-config.js'
import { hashiVaultKMSProviderFromEnvironment } from '../../../src/node/vault-credentials.js'
import { errorText, fakeSecret, leakedSecrets, thrown } from '../../support/secret-leaks.js'
import { startVaultServer, type VaultServer } from '../../support/vault-server.js'

const HELPER_TOKEN = fakeSecret('hvs.helper-')
const FILE_TOKEN = fakeSecret('hvs.file-')
const ENV_TOKEN = fakeSecret('hvs.env-')
const message = new TextEncoder().encode('payload signed with a token helper token')
let vault: VaultServer
let home: string
let helper: string
let record: string

/** A token helper as a node script: records argv and VAULT_ADDR, then prints the token or fails as told. */
function writeHelper(path: string, behaviour: 'token' | 'empty' | 'fail'): void {
  const body = [
    `#!${process.execPath}`,
    "const fs = require('node:fs')",
    `fs.writeFileSync(${JSON.stringify(record)}, JSON.stringify({ argv: process.argv.slice(2), addr: process.env.VAULT_ADDR }))`,
    behaviour === 'token' ? `process.stdout.write(${JSON.stringify(`${HELPER_TOKEN}\n`)})` : '',
    behaviour === 'fail' ? `process.stderr.write(${JSON.stringify(`no luck ${HELPER_TOKEN}`)}); process.exit(3)` : '',
  ].join('\n')
  writeFileSync(path, body)
  chmodSync(path, 0o755)
}

beforeAll(async () => {
  vault = await startVaultServer({ tokens: [HELPER_TOKEN, FILE_TOKEN, ENV_TOKEN] })
  vault.createKey('release', 'ecdsa-p256')
})
afterAll(() => vault?.close())
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'countersign-vault-helper-'))
  // A space in the path: the helper is run without a shell, so nothing is split or interpreted.
  mkdirSync(join(home, 'bin dir'))
  helper = join(home, 'bin dir', 'vault-helper')
  record = join(home, 'helper-run.json')
  writeHelper(helper, 'token')
  writeFileSync(join(home, '.vault-token'), FILE_TOKEN)
  return () => rmSync(home, { recursive: true, force: true })
})

function fromEnv(env: Record<string, string> = {}, reports: CredentialSourceReport[] = []) {
  return hashiVaultKMSProviderFromEnvironment({
    env: { VAULT_ADDR: vault.url, ...env },
    homeDir: home,
    onCredentialSource: (r) => reports.push(r),
  })
}

async function signedWith(p: ReturnType<typeof fromEnv>): Promise<string | undefined> {
  const signer = await p.createSigner('hashivault://release')
  const sig = await signer.sign(message)
  expect(await verifySignature(await signer.publicKey(), message, sig)).toBe(true)
  return vault.requests.at(-1)!.token
}

describe('token_helper in ~/.vault', () => {
  it('runs `<helper> get` and signs with its output (trimmed); ~/.vault-token is not read', async () => {
    writeFileSync(join(home, '.vault'), `# the Vault CLI's config\ntoken_helper = ${JSON.stringify(helper)}\n`)
    const reports: CredentialSourceReport[] = []
    expect(await signedWith(fromEnv({}, reports))).toBe(HELPER_TOKEN)
    const run = JSON.parse(readFileSync(record, 'utf8'))
    expect(run).toEqual({ argv: ['get'], addr: vault.url })
    expect(reports).toEqual([{ provider: 'vault', source: 'token helper', detail: helper }])
  })

  it('VAULT_CONFIG_PATH names the file; JSON works as HCL does', async () => {
    const config = join(home, 'vault.json')
    writeFileSync(config, JSON.stringify({ token_helper: helper }))
    expect(await signedWith(fromEnv({ VAULT_CONFIG_PATH: config }))).toBe(HELPER_TOKEN)
    expect(existsSync(record)).toBe(true)
  })

  it('VAULT_TOKEN wins: the helper is not run', async () => {
    writeFileSync(join(home, '.vault'), `token_helper = ${JSON.stringify(helper)}\n`)
    expect(await signedWith(fromEnv({ VAULT_TOKEN: ENV_TOKEN }))).toBe(ENV_TOKEN)
    expect(existsSync(record)).toBe(false)
  })

  it('without a helper ~/.vault-token is the token (the CLI’s internal helper)', async () => {
    writeFileSync(join(home, '.vault'), '/* no helper */\n')
    const reports: CredentialSourceReport[] = []
    expect(await signedWith(fromEnv({}, reports))).toBe(FILE_TOKEN)
    expect(reports).toEqual([{ provider: 'vault', source: 'token file', detail: join(home, '.vault-token') }])
  })

  it('a failing helper is ERR_INVALID_INPUT with its exit status only (its output may hold the token)', async () => {
    writeHelper(helper, 'fail')
    writeFileSync(join(home, '.vault'), `token_helper = ${JSON.stringify(helper)}\n`)
    const error = await thrown(() => fromEnv().publicKey('hashivault://release'))
    expect(error).toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: `the Vault token helper ${helper} failed with exit status 3`,
      details: { reason: 'token-helper' },
    })
    expect(JSON.parse(readFileSync(record, 'utf8')).argv).toEqual(['get'])
    expect(leakedSecrets(errorText(error), { HELPER_TOKEN, FILE_TOKEN })).toEqual({})
  })

  it('a helper with no token leaves no token: ~/.vault-token stays unread, as in the CLI', async () => {
    writeHelper(helper, 'empty')
    writeFileSync(join(home, '.vault'), `token_helper = ${JSON.stringify(helper)}\n`)
    const error = await thrown(() => fromEnv().publicKey('hashivault://release'))
    expect(error).toMatchObject({ code: 'ERR_KMS', details: { reason: 'no-credentials' } })
    expect((error as Error).message).toBe(
      'no Vault credentials found; tried in order: 1. environment: VAULT_TOKEN and BAO_TOKEN not set; ' +
        '2. auth method: VAULT_AUTH_METHOD not set; ' +
        `3. token helper: ${helper} printed no token; ` +
        `4. token file: not read: ${join(home, '.vault')} configures a token helper, which replaces it (as in the Vault CLI)`,
    )
    expect(leakedSecrets(errorText(error), { FILE_TOKEN })).toEqual({})
  })

  it('a helper that does not exist, or a config the CLI would refuse, is ERR_INVALID_INPUT', async () => {
    writeFileSync(join(home, '.vault'), `token_helper = "${join(home, 'nowhere')}"\n`)
    expect(await thrown(() => fromEnv().publicKey('hashivault://release'))).toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: `the Vault token helper ${join(home, 'nowhere')} (token_helper in ${join(home, '.vault')}) does not exist`,
    })
    writeFileSync(join(home, '.vault'), `token_helper = "${helper}"\naddress = "https://vault"\n`)
    expect(await thrown(() => fromEnv().publicKey('hashivault://release'))).toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: `the Vault CLI configuration ${join(home, '.vault')} is not valid: invalid key "address" on line 2`,
    })
  })
})

describe('parseVaultCLIConfig', () => {
  it.each([
    ['token_helper = "/usr/bin/h"', '/usr/bin/h'],
    ['"token_helper" = "/usr/bin/h" # trailing', '/usr/bin/h'],
    ['// c1\n/* c2\n */ token_helper="C:\\\\bin\\\\h.exe"', 'C:\\bin\\h.exe'],
    ['token_helper = "/opt/\\u0068"', '/opt/h'],
    ['{ "token_helper": "/usr/bin/h" }', '/usr/bin/h'],
    ['token_helper = ""', undefined],
    ['', undefined],
  ])('%j', (text, helperPath) => {
    expect(parseVaultCLIConfig(text, '~/.vault').tokenHelper).toBe(helperPath)
  })

  it.each([
    'token_helper = /usr/bin/h',
    'token_helper "/usr/bin/h"',
    'token_helper = "/usr/bin/h',
    '/* open',
    '{"token_helper": 1}',
    '{"token_helper": "/x", "other": "y"}',
  ])('refuses %j', (text) => {
    expect(() => parseVaultCLIConfig(text, '~/.vault')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})
