import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { encryptCosignPrivateKey, generateKeyPair, publicKeyToPEM } from '../../src/keys/index.js'
import { loadPrivateKeyFile, loadPublicKeyFile, writeKeyPair } from '../../src/node/key-files.js'
import { vectorText } from '../keys/vectors.js'

const mode = (path: string) => statSync(path).mode & 0o777
const PRIV = '-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n'
const PUB = '-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-keyfiles-'))
})

describe('writeKeyPair', () => {
  it('writes <prefix>.key with mode 0600 and <prefix>.pub with mode 0644', async () => {
    const result = await writeKeyPair('cosign', PRIV, PUB, { dir })
    expect(result).toEqual({ privateKeyPath: join(dir, 'cosign.key'), publicKeyPath: join(dir, 'cosign.pub') })
    expect(readFileSync(result.privateKeyPath, 'utf8')).toBe(PRIV)
    expect(readFileSync(result.publicKeyPath, 'utf8')).toBe(PUB)
    expect(mode(result.privateKeyPath)).toBe(0o600)
    expect(mode(result.publicKeyPath)).toBe(0o644)
  })

  it('refuses to overwrite an existing key file and writes nothing', async () => {
    writeFileSync(join(dir, 'cosign.key'), 'old')
    const p = writeKeyPair('cosign', PRIV, PUB, { dir })
    await expect(p).rejects.toMatchObject({ code: 'ERR_FILE_EXISTS', message: expect.stringContaining('cosign.key') })
    expect(readFileSync(join(dir, 'cosign.key'), 'utf8')).toBe('old')
    expect(readdirSync(dir)).toEqual(['cosign.key'])
  })

  it('refuses when only the public key exists, without leaving a private key behind', async () => {
    writeFileSync(join(dir, 'cosign.pub'), 'old')
    await expect(writeKeyPair('cosign', PRIV, PUB, { dir })).rejects.toMatchObject({
      code: 'ERR_FILE_EXISTS',
      message: expect.stringContaining('cosign.pub'),
    })
    expect(readdirSync(dir)).toEqual(['cosign.pub'])
  })

  it('overwrites with force, atomically, and still makes the key 0600', async () => {
    writeFileSync(join(dir, 'cosign.key'), 'old')
    chmodSync(join(dir, 'cosign.key'), 0o644)
    writeFileSync(join(dir, 'cosign.pub'), 'old')
    await writeKeyPair('cosign', PRIV, PUB, { dir, force: true })
    expect(readFileSync(join(dir, 'cosign.key'), 'utf8')).toBe(PRIV)
    expect(readFileSync(join(dir, 'cosign.pub'), 'utf8')).toBe(PUB)
    expect(mode(join(dir, 'cosign.key'))).toBe(0o600)
    expect(readdirSync(dir).sort()).toEqual(['cosign.key', 'cosign.pub'])
  })

  it('cleans up temporary files when a forced write fails', async () => {
    mkdirSync(join(dir, 'cosign.pub'))
    writeFileSync(join(dir, 'cosign.pub', 'x'), 'x')
    await expect(writeKeyPair('cosign', PRIV, PUB, { dir, force: true })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    expect(readdirSync(dir).sort()).toEqual(['cosign.key', 'cosign.pub'])
  })

  it('reports a missing directory and an empty prefix as ERR_INVALID_INPUT', async () => {
    await expect(writeKeyPair('k', PRIV, PUB, { dir: join(dir, 'missing') })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
    await expect(writeKeyPair('', PRIV, PUB, { dir })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    expect(readdirSync(dir)).toEqual([])
  })
})

describe('loadPrivateKeyFile / loadPublicKeyFile', () => {
  it('decrypts a cosign key with the password callback', async () => {
    const path = join(dir, 'cosign.key')
    writeFileSync(path, vectorText('cases/cosign-encrypted-sigstore-label-p256/private.key'))
    const getPassword = vi.fn(async () => new TextEncoder().encode('hello'))
    const key = await loadPrivateKeyFile(path, getPassword)
    expect(getPassword).toHaveBeenCalledTimes(1)
    expect(publicKeyToPEM(key.publicKey)).toBe(vectorText('cases/cosign-encrypted-sigstore-label-p256/public.pem'))
    await expect(loadPrivateKeyFile(path, async () => new TextEncoder().encode('nope'))).rejects.toMatchObject({
      code: 'ERR_KEY_DECRYPT',
      message: expect.stringContaining(path),
    })
  })

  it('accepts a plain PEM private key without asking for a password', async () => {
    const path = join(dir, 'ec.pem')
    writeFileSync(path, vectorText('openssl/ec-p256.sec1.pem'))
    const getPassword = vi.fn(async () => new Uint8Array(0))
    const key = await loadPrivateKeyFile(path, getPassword)
    expect(key.algorithm).toBe('ecdsa-p256')
    expect(getPassword).not.toHaveBeenCalled()
  })

  it('reports missing files with the path', async () => {
    const missing = join(dir, 'nope.key')
    await expect(loadPrivateKeyFile(missing, async () => new Uint8Array(0))).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringContaining(missing),
    })
    await expect(loadPublicKeyFile(join(dir, 'nope.pub'))).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringContaining('nope.pub'),
    })
  })

  it('loads public keys (SPKI and PKCS#1) and refuses private key files', async () => {
    writeFileSync(join(dir, 'a.pub'), vectorText('openssl/ec-p384.pub.pem'))
    writeFileSync(join(dir, 'b.pub'), vectorText('openssl/rsa-2048.pkcs1-pub.pem'))
    writeFileSync(join(dir, 'c.key'), vectorText('cases/cosign-encrypted-sigstore-label-p256/private.key'))
    expect((await loadPublicKeyFile(join(dir, 'a.pub'))).algorithm).toBe('ecdsa-p384')
    expect((await loadPublicKeyFile(join(dir, 'b.pub'))).rsaBits).toBe(2048)
    await expect(loadPublicKeyFile(join(dir, 'c.key'))).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
  })

  it('round-trips generate → encrypt → write → load', async () => {
    const key = await generateKeyPair()
    const pem = await encryptCosignPrivateKey(key, 'pw', { scryptN: 32768 })
    const { privateKeyPath, publicKeyPath } = await writeKeyPair('cosign', pem, publicKeyToPEM(key.publicKey), { dir })
    const loaded = await loadPrivateKeyFile(privateKeyPath, async () => new TextEncoder().encode('pw'))
    expect(loaded.pkcs8).toEqual(key.pkcs8)
    expect((await loadPublicKeyFile(publicKeyPath)).spki).toEqual(key.publicKey.spki)
  })
})

describe('nodeScrypt', () => {
  it('derives the same key as the portable scrypt for every N cosign accepts', async () => {
    const { scryptAsync } = await import('@noble/hashes/scrypt.js')
    const { nodeScrypt } = await import('../../src/node/scrypt.js')
    const pw = new TextEncoder().encode('pw\n')
    const salt = new Uint8Array(32).fill(7)
    for (const N of [32768, 65536, 131072]) {
      const params = { N, r: 8, p: 1, dkLen: 32 }
      expect(await nodeScrypt(pw, salt, params)).toEqual(await scryptAsync(pw, salt, params))
    }
  })
})
