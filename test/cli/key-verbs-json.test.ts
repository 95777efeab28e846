/**
 * `--output json` of the key verbs (docs/cli-output.md): `generate-key-pair` (a key file pair, and a key created in a
 * fake Vault with `--kms`), `import-key-pair` (whose `-o` stays cosign's `--output-key-prefix`) and `public-key`.
 * Each report is checked against the files written and against the key itself (its hint recomputed here from the
 * DER public key); without the flag stdout is what it was. Vault is a loopback fake; nothing else is contacted.
 */
import { createHash, generateKeyPairSync } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from '../support/cli.js'
import { startVaultServer, type VaultServer } from '../support/vault-server.js'

const VAULT_TOKEN = 'hvs.json-test-token-0123456789'
let dir: string
let vault: VaultServer

const run = (args: string[]) =>
  cli(args, { cwd: dir, env: { COSIGN_PASSWORD: 'key json pw', VAULT_ADDR: vault.url, VAULT_TOKEN } })

/** Run, expect success, and parse stdout as exactly one JSON document. */
// biome-ignore lint/suspicious/noExplicitAny: the reports are free-form JSON
async function json(args: string[]): Promise<any> {
  const r = await run(args)
  expect(r.code, r.stderr).toBe(0)
  return JSON.parse(r.stdout)
}

/** The Sigstore key hint of a PEM public key, computed independently: base64 SHA-256 of the DER SPKI. */
function hintOf(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s/g, ''), 'base64')
  return createHash('sha256').update(der).digest('base64')
}

beforeAll(async () => {
  vault = await startVaultServer({ tokens: [VAULT_TOKEN] })
  dir = mkdtempSync(join(tmpdir(), 'cs-key-json-'))
})
afterAll(async () => {
  await vault?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('-o json of the key verbs', () => {
  it('generate-key-pair: the absolute paths written, the key family and its hint', async () => {
    const text = await run(['generate-key-pair', '--output-key-prefix', 'plain'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toBe('')
    expect(text.stderr).toContain(`Private key written to ${join(dir, 'plain.key')}`)

    const r = await json(['generate-key-pair', '--output-key-prefix', 'gen', '-o', 'json'])
    const pub = readFileSync(join(dir, 'gen.pub'), 'utf8')
    expect(r).toEqual({
      privateKeyFile: join(dir, 'gen.key'),
      publicKeyFile: join(dir, 'gen.pub'),
      kms: null,
      algorithm: 'ecdsa-p256',
      hint: hintOf(pub),
    })
    expect(readFileSync(r.privateKeyFile, 'utf8')).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----/)
  })

  it('generate-key-pair --kms: no private key file, the URI, and the public half the KMS holds', async () => {
    const r = await json([
      'generate-key-pair',
      '--kms',
      'hashivault://json-key',
      '--output-key-prefix',
      'kms',
      '--output=json',
    ])
    expect(existsSync(join(dir, 'kms.key'))).toBe(false)
    const pub = readFileSync(join(dir, 'kms.pub'), 'utf8')
    expect(r).toEqual({
      privateKeyFile: null,
      publicKeyFile: join(dir, 'kms.pub'),
      kms: 'hashivault://json-key',
      algorithm: 'ecdsa-p256',
      hint: hintOf(pub),
    })
    // public-key by the same URI reports the same key.
    const p = await json(['public-key', '--key', 'hashivault://json-key', '-o', 'json'])
    expect(p).toEqual({
      key: 'hashivault://json-key',
      publicKey: pub,
      algorithm: 'ecdsa-p256',
      hint: r.hint,
      outfile: null,
    })
  })

  it('import-key-pair --output json; -o is still --output-key-prefix', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' })
    writeFileSync(join(dir, 'p384.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }))
    const hint = createHash('sha256')
      .update(publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64')

    const r = await json(['import-key-pair', '--key', 'p384.pem', '-o', 'imported', '--output', 'json'])
    expect(r).toEqual({
      key: 'p384.pem',
      privateKeyFile: join(dir, 'imported.key'),
      publicKeyFile: join(dir, 'imported.pub'),
      algorithm: 'ecdsa-p384',
      hint,
    })
    expect(hintOf(readFileSync(join(dir, 'imported.pub'), 'utf8'))).toBe(hint)

    // cosign's meaning of -o: the prefix "json", and the text output (nothing on stdout).
    const prefix = await run(['import-key-pair', '--key', 'p384.pem', '-o', 'json'])
    expect(prefix.code, prefix.stderr).toBe(0)
    expect(prefix.stdout).toBe('')
    expect(existsSync(join(dir, 'json.key'))).toBe(true)
    expect(existsSync(join(dir, 'json.pub'))).toBe(true)
  })

  it('public-key: the PEM in the report instead of alone on stdout; --outfile is still written', async () => {
    const pem = readFileSync(join(dir, 'gen.pub'), 'utf8')
    const text = await run(['public-key', '--key', 'gen.key'])
    expect(text.code, text.stderr).toBe(0)
    expect(text.stdout).toBe(pem)

    const r = await json(['public-key', '--key', 'gen.key', '-o', 'json'])
    expect(r).toEqual({ key: 'gen.key', publicKey: pem, algorithm: 'ecdsa-p256', hint: hintOf(pem), outfile: null })

    const out = await json(['public-key', '--key', 'gen.key', '--outfile', 'out.pub', '-o', 'json'])
    expect(out).toEqual({ ...r, outfile: 'out.pub' })
    expect(readFileSync(join(dir, 'out.pub'), 'utf8')).toBe(pem)
  })

  it('an unknown format is refused before anything is written', async () => {
    const r = await run(['generate-key-pair', '--output-key-prefix', 'never', '-o', 'yaml'])
    expect(r.code).not.toBe(0)
    expect(r.stdout).toBe('')
    expect(r.stderr).toContain('unsupported output format: yaml')
    expect(existsSync(join(dir, 'never.key'))).toBe(false)
  })
})
