// `--key <kms-uri>` in the CLI, as cosign users write it: generate-key-pair --kms creates the key and writes only
// cosign.pub; sign by KMS URI into a real registry; verify by the same URI and by the exported PEM; a signature by
// one provider's key fails against another provider's key; Vault key rotation keeps old signatures verifiable.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRegistryClient } from '../../src/oci/registry.js'
import { type AWSKMSServer, startAWSKMSServer } from '../support/aws-kms-server.js'
import { cli } from '../support/cli.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { startVaultServer, type VaultServer } from '../support/vault-server.js'

let registry: TestRegistry
let vault: VaultServer
let aws: AWSKMSServer
let dir: string
const VAULT_TOKEN = 'hvs.test-token-0123456789'

beforeAll(async () => {
  ;[registry, vault, aws] = await Promise.all([
    startRegistry(),
    startVaultServer({ tokens: [VAULT_TOKEN] }),
    startAWSKMSServer(),
  ])
  dir = mkdtempSync(join(tmpdir(), 'kms-cli-'))
}, 60_000)
afterAll(async () => {
  await Promise.all([registry?.stop(), vault?.close(), aws?.close()])
})

const env = () => ({
  VAULT_ADDR: vault.url,
  VAULT_TOKEN,
  AWS_ACCESS_KEY_ID: aws.credential.accessKeyId,
  AWS_SECRET_ACCESS_KEY: aws.credential.secretAccessKey,
  AWS_REGION: aws.region,
  AWS_ENDPOINT_URL: aws.url,
})

async function image(name: string): Promise<string> {
  const store = createRegistryClient({ plainHTTP: true })
  const repo = { registry: registry.host, repository: `kms-cli/${name}` }
  const digest = await pushTinyImage(store, { ...repo, tag: 'v1' }, `kms ${name} ${Math.random()}`)
  return `${registry.host}/kms-cli/${name}@${digest}`
}

const run = (args: string[]) => cli(args, { cwd: dir, env: env() })
const offline = ['--tlog-upload=false', '--allow-http-registry']
const verifyOffline = ['--insecure-ignore-tlog', '--allow-http-registry']

describe('KMS keys in the CLI', () => {
  it('generate-key-pair --kms hashivault:// writes only the public key; sign and verify by URI and by PEM', async () => {
    const gen = await run(['generate-key-pair', '--kms', 'hashivault://release', '--output-key-prefix', 'vault'])
    expect(gen.code, gen.stderr).toBe(0)
    expect(existsSync(join(dir, 'vault.pub'))).toBe(true)
    expect(existsSync(join(dir, 'vault.key'))).toBe(false)
    expect(readFileSync(join(dir, 'vault.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    const ref = await image('vault')
    const sign = await run(['sign', '--key', 'hashivault://release', ...offline, ref])
    expect(sign.code, sign.stderr).toBe(0)
    const v = await run(['verify', '--key', 'hashivault://release', ...verifyOffline, ref])
    expect(v.code, `${sign.stderr}\n---\n${v.stderr}`).toBe(0)
    expect((await run(['verify', '--key', 'vault.pub', ...verifyOffline, ref])).code).toBe(0)
    // public-key reads a KMS key's public half from the service, as cosign's public-key --key <uri>.
    const pub = await run(['public-key', '--key', 'hashivault://release'])
    expect(pub.code, pub.stderr).toBe(0)
    expect(pub.stdout).toBe(readFileSync(join(dir, 'vault.pub'), 'utf8'))
    // Errors and output never carry the Vault token.
    const denied = await cli(['sign', '--key', 'hashivault://release', ...offline, ref], {
      cwd: dir,
      env: { ...env(), VAULT_TOKEN: 'hvs.wrong-secret-token' },
    })
    expect(denied.code).toBe(1)
    expect(denied.stderr).not.toContain('hvs.wrong-secret-token')
    expect(denied.stderr).not.toContain(VAULT_TOKEN)
  })

  it('awskms:// signs; a signature by the AWS key fails against the Vault key and vice versa (exit 12)', async () => {
    const key = aws.addKey('ECC_NIST_P256', { alias: 'alias/release' })
    expect(key).toBeDefined()
    const ref = await image('aws')
    const sign = await run(['sign', '--key', 'awskms:///alias/release', ...offline, ref])
    expect(sign.code, sign.stderr).toBe(0)
    expect((await run(['verify', '--key', 'awskms:///alias/release', ...verifyOffline, ref])).code).toBe(0)
    expect((await run(['verify', '--key', 'hashivault://release', ...verifyOffline, ref])).code).toBe(12)
    const vaultRef = await image('vault-only')
    expect((await run(['sign', '--key', 'hashivault://release', ...offline, vaultRef])).code).toBe(0)
    expect((await run(['verify', '--key', 'awskms:///alias/release', ...verifyOffline, vaultRef])).code).toBe(12)
    const noSecret = await run(['sign', '--key', 'awskms:///alias/missing', ...offline, ref])
    expect(noSecret.code).toBe(1)
    expect(noSecret.stderr).not.toContain(aws.credential.secretAccessKey)
  })

  it('rotation: a signature by Vault key version 1 still verifies by URI after the key is rotated', async () => {
    vault.createKey('rotating', 'ecdsa-p256')
    const old = await image('rot-old')
    expect((await run(['sign', '--key', 'hashivault://rotating', ...offline, old])).code).toBe(0)
    vault.rotateKey('rotating')
    const fresh = await image('rot-new')
    expect((await run(['sign', '--key', 'hashivault://rotating', ...offline, fresh])).code).toBe(0)
    expect((await run(['verify', '--key', 'hashivault://rotating', ...verifyOffline, old])).code).toBe(0)
    expect((await run(['verify', '--key', 'hashivault://rotating', ...verifyOffline, fresh])).code).toBe(0)
  })

  it('-d names the credential source each provider settled on, never the secret; without -d nothing is said', async () => {
    aws.addKey('ECC_NIST_P256', { alias: 'alias/verbose' })
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(dir, 'verbose.txt'), 'kms verbose blob')
    const signArgs = (key: string, out: string) => ['sign-blob', '--key', key, '--tlog-upload=false', '--bundle', out]
    const awsRun = await run([...signArgs('awskms:///alias/verbose', 'aws-v.json'), '-d', 'verbose.txt'])
    expect(awsRun.code, awsRun.stderr).toBe(0)
    expect(awsRun.stderr).toMatch(/^aws credentials: environment\b/m)
    const vaultRun = await run([...signArgs('hashivault://release', 'vault-v.json'), '--verbose', 'verbose.txt'])
    expect(vaultRun.code, vaultRun.stderr).toBe(0)
    expect(vaultRun.stderr).toMatch(/^vault credentials: /m)
    for (const out of [awsRun.stderr, vaultRun.stderr]) {
      expect(out).not.toContain(aws.credential.secretAccessKey)
      expect(out).not.toContain(VAULT_TOKEN)
    }
    const quiet = await run([...signArgs('awskms:///alias/verbose', 'aws-q.json'), 'verbose.txt'])
    expect(quiet.code, quiet.stderr).toBe(0)
    expect(quiet.stderr).not.toContain('credentials:')
    const publicKey = await run(['public-key', '--key', 'awskms:///alias/verbose', '-d'])
    expect(publicKey.code, publicKey.stderr).toBe(0)
    expect(publicKey.stderr).toMatch(/^aws credentials: environment\b/m)
  })

  it('sign-blob with a KMS key and verify-blob by URI', async () => {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(dir, 'blob.txt'), 'kms blob')
    const sb = await run([
      'sign-blob',
      '--key',
      'hashivault://release',
      '--tlog-upload=false',
      '--bundle',
      'kms.sigstore.json',
      'blob.txt',
    ])
    expect(sb.code, sb.stderr).toBe(0)
    const vb = await run([
      'verify-blob',
      '--key',
      'hashivault://release',
      '--insecure-ignore-tlog',
      '--bundle',
      'kms.sigstore.json',
      'blob.txt',
    ])
    expect(vb.code, vb.stderr).toBe(0)
  })

  it('attest-blob with a KMS key; verify-blob-attestation by URI (and a wrong predicate type fails)', async () => {
    const { writeFileSync } = await import('node:fs')
    writeFileSync(join(dir, 'att-blob.txt'), 'kms attested blob')
    writeFileSync(join(dir, 'pred.json'), '{"ok":true}')
    const att = await run([
      'attest-blob',
      '--key',
      'hashivault://release',
      '--tlog-upload=false',
      '--predicate',
      'pred.json',
      '--type',
      'https://example.com/p',
      '--bundle',
      'kms-att.json',
      'att-blob.txt',
    ])
    expect(att.code, att.stderr).toBe(0)
    const base = [
      'verify-blob-attestation',
      '--key',
      'hashivault://release',
      '--insecure-ignore-tlog',
      '--bundle',
      'kms-att.json',
    ]
    const ok = await run([...base, '--type', 'https://example.com/p', 'att-blob.txt'])
    expect(ok.code, ok.stderr).toBe(0)
    expect((await run([...base, '--type', 'spdxjson', 'att-blob.txt'])).code).toBe(1)
  })

  it('verify by URI uses the own scheme of the KMS key: AWS P-384 (SHA-384) and RSA-PSS keys', async () => {
    aws.addKey('ECC_NIST_P384', { alias: 'alias/p384' })
    aws.addKey('RSA_2048', { alias: 'alias/pss', signingAlgorithms: ['RSASSA_PSS_SHA_256'] })
    for (const alias of ['alias/p384', 'alias/pss']) {
      const ref = await image(alias.replace('alias/', 'aws-'))
      const sign = await run(['sign', '--key', `awskms:///${alias}`, ...offline, ref])
      expect(sign.code, sign.stderr).toBe(0)
      const before = aws.requests.filter((r) => r.target.endsWith('GetPublicKey')).length
      const verify = await run(['verify', '--key', `awskms:///${alias}`, ...verifyOffline, ref])
      expect(verify.code, `${alias}: ${verify.stderr}`).toBe(0)
      // The key (and its scheme) is read from the service once per run.
      expect(aws.requests.filter((r) => r.target.endsWith('GetPublicKey')).length - before).toBe(1)
    }
  })
})
