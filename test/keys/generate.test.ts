import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  encodeContext,
  encodeInteger,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  parseDER,
  readOctetString,
  readSequence,
} from '../../src/internal/der.js'
import { generateKeyPair, parsePrivateKey, publicKeyToPEM } from '../../src/keys/index.js'

function hasOpenSSL(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('generateKeyPair', () => {
  it("defaults to P-256 in Go's 138-byte PKCS#8 form (version, d, [1] public key, no [0])", async () => {
    const key = await generateKeyPair()
    expect(key.algorithm).toBe('ecdsa-p256')
    expect(key.pkcs8).toHaveLength(138)
    const [, , inner] = readSequence(parseDER(key.pkcs8))
    const ec = readSequence(parseDER(readOctetString(inner)))
    expect(ec.map((f) => f.tag)).toEqual([0x02, 0x04, 0xa1])
    expect(ec[1]!.value).toHaveLength(32)
    expect(key.publicKey.spki).toHaveLength(91)
  })

  it.skipIf(!hasOpenSSL())('produces PKCS#8 that openssl pkey -inform DER accepts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-gen-'))
    for (const algorithm of ['ecdsa-p256', 'ecdsa-p521', 'ed25519', 'rsa'] as const) {
      const key = await generateKeyPair({ algorithm })
      const path = join(dir, `${algorithm}.der`)
      writeFileSync(path, key.pkcs8)
      const pub = execFileSync('openssl', ['pkey', '-inform', 'DER', '-in', path, '-pubout'], { encoding: 'utf8' })
      expect(pub).toBe(publicKeyToPEM(key.publicKey))
    }
  })

  it.each([
    ['ecdsa-p384', 185],
    ['ecdsa-p521', 241],
    ['ed25519', 48],
  ] as const)('generates %s (%i-byte PKCS#8)', async (algorithm, length) => {
    const key = await generateKeyPair({ algorithm })
    expect(key.algorithm).toBe(algorithm)
    expect(key.publicKey.algorithm).toBe(algorithm)
    expect(key.pkcs8).toHaveLength(length)
    expect(parsePrivateKey(key.pkcs8).publicKey.spki).toEqual(key.publicKey.spki)
  })

  it('generates RSA 2048 by default and 3072 on request', async () => {
    expect((await generateKeyPair({ algorithm: 'rsa' })).publicKey.rsaBits).toBe(2048)
    expect((await generateKeyPair({ algorithm: 'rsa', rsaBits: 3072 })).publicKey.rsaBits).toBe(3072)
  })

  it('makes a different key each time', async () => {
    const a = await generateKeyPair()
    const b = await generateKeyPair()
    expect(a.pkcs8).not.toEqual(b.pkcs8)
  })

  it('rejects unsupported algorithms and sizes', async () => {
    await expect(generateKeyPair({ algorithm: 'rsa', rsaBits: 1024 as 2048 })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
    await expect(generateKeyPair({ algorithm: 'dsa' as 'rsa' })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })

  it('normalises a runtime export with [0] curve parameters to the 138-byte form', async () => {
    const key = await generateKeyPair()
    const [, , inner] = readSequence(parseDER(key.pkcs8))
    const [, d, pub] = readSequence(parseDER(readOctetString(inner)))
    const exported = encodeSequence(
      encodeInteger(0),
      encodeSequence(encodeOID('1.2.840.10045.2.1'), encodeOID('1.2.840.10045.3.1.7')),
      encodeOctetString(
        encodeSequence(
          encodeInteger(1),
          encodeOctetString(d!.value),
          encodeContext(0, encodeOID('1.2.840.10045.3.1.7')),
          pub!.raw,
        ),
      ),
    )
    expect(exported.length).toBeGreaterThan(138)
    const normalised = parsePrivateKey(exported)
    expect(normalised.pkcs8).toEqual(key.pkcs8)
  })
})
