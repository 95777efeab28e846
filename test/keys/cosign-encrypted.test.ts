import { secretbox } from '@noble/ciphers/salsa.js'
import { scrypt } from '@noble/hashes/scrypt.js'
import { describe, expect, it } from 'vitest'
import { fromBase64, toBase64, toHex, utf8 } from '../../src/internal/bytes.js'
import { decodePEM, encodePEM } from '../../src/internal/pem.js'
import {
  COSIGN_PEM_LABEL,
  decryptCosignPrivateKey,
  encryptCosignPrivateKey,
  generateKeyPair,
  isCosignEncryptedKey,
  LEGACY_COSIGN_PEM_LABEL,
  type PrivateKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyToPEM,
  signData,
  verifySignature,
} from '../../src/keys/index.js'
import { keyCases, vectorBytes, vectorText } from './vectors.js'

const KEY_TYPES: Record<string, string> = {
  'ecdsa-secp256r1': 'ecdsa-p256',
  ed25519: 'ed25519',
  'rsa-4096': 'rsa',
}

/** The cosign JSON envelope, loosely typed so tests can corrupt any field. */
interface Envelope {
  kdf: { name: unknown; params?: { N: unknown; r: unknown; p: unknown }; salt: unknown }
  cipher: { name: unknown; nonce: unknown }
  ciphertext: unknown
}
type Edit = (doc: Envelope) => unknown

/** Seal arbitrary plaintext in a cosign envelope (cheap N) to exercise the decrypt checks. */
function sealRaw(plaintext: Uint8Array, password: string): string {
  const salt = new Uint8Array(32).fill(7)
  const nonce = new Uint8Array(24).fill(9)
  const key = scrypt(utf8(password), salt, { N: 32768, r: 8, p: 1, dkLen: 32 })
  const doc: Envelope = {
    kdf: { name: 'scrypt', params: { N: 32768, r: 8, p: 1 }, salt: toBase64(salt) },
    cipher: { name: 'nacl/secretbox', nonce: toBase64(nonce) },
    ciphertext: toBase64(secretbox(key, nonce).seal(plaintext)),
  }
  return encodePEM(COSIGN_PEM_LABEL, utf8(JSON.stringify(doc)))
}

/** Rewrite the JSON envelope of an existing PEM. */
function editEnvelope(pem: string, edit: Edit): string {
  const block = decodePEM(pem)
  const doc = JSON.parse(new TextDecoder().decode(block.bytes)) as Envelope
  edit(doc)
  return encodePEM(block.label, utf8(JSON.stringify(doc)))
}

describe('encrypted key vectors (test/vectors/keys/cases)', () => {
  for (const c of keyCases()) {
    describe(c.id, () => {
      it(`carries the ${c.meta.pemType} label`, () => {
        expect(decodePEM(c.privateKey).label).toBe(c.meta.pemType)
        expect(isCosignEncryptedKey(c.privateKey)).toBe(true)
      })

      if (c.meta.expect === 'pass') {
        it(`decrypts with password.txt to the key in public.pem (${c.meta.keyType})`, async () => {
          const key = await decryptCosignPrivateKey(c.privateKey, c.password)
          expect(key.algorithm).toBe(KEY_TYPES[c.meta.keyType])
          expect(publicKeyToPEM(key.publicKey)).toBe(c.publicPem)
          expect(key.publicKey.spki).toEqual(parsePublicKey(c.publicPem).spki)
          // The key is usable: what we sign with it verifies against public.pem.
          const data = utf8(`signed by ${c.id}`)
          const sig = await signData(key, data)
          const ph = key.algorithm === 'ed25519'
          expect(await verifySignature(parsePublicKey(c.publicPem), data, sig, { ed25519ph: ph })).toBe(true)
        })
      } else {
        it(`is rejected: ${c.meta.why.slice(0, 60)}…`, async () => {
          const p = decryptCosignPrivateKey(c.privateKey, c.password)
          await expect(p).rejects.toMatchObject({ code: 'ERR_KEY_INVALID' })
          await expect(p).rejects.toThrow(/not PKCS#8.*SEC1/)
        })
      }

      it(`fails with the wrong password "${c.meta.wrongPassword}"`, async () => {
        const p = decryptCosignPrivateKey(c.privateKey, c.meta.wrongPassword)
        await expect(p).rejects.toMatchObject({
          code: 'ERR_KEY_DECRYPT',
          message: 'decryption failed (wrong password?)',
        })
      })
    })
  }
})

describe('cosign key test data (test/vectors/keys/cosign-testdata)', () => {
  const table = [
    { name: 'cosign-keys_test-pemsigstorekey', password: 'hello', label: COSIGN_PEM_LABEL, pass: true },
    { name: 'cosign-keys_test-pemcosignkey', password: 'hello', label: LEGACY_COSIGN_PEM_LABEL, pass: true },
    { name: 'cosign-keys_test-pemcosigneckey', password: 'hello', label: LEGACY_COSIGN_PEM_LABEL, pass: false },
    { name: 'conforma-vsa_test-empty-password', password: '', label: COSIGN_PEM_LABEL, pass: true },
  ]
  for (const v of table) {
    const pem = vectorText(`cosign-testdata/${v.name}.key`)
    const derivedPub = vectorText(`cosign-testdata/${v.name}.DERIVED.pub`)
    const plaintextHex = vectorText(`cosign-testdata/${v.name}.DERIVED.plaintext.hex`).trim()
    if (v.pass) {
      it(`${v.name}: decrypts to DERIVED.pub and the PKCS#8 equals DERIVED.plaintext.hex`, async () => {
        expect(decodePEM(pem).label).toBe(v.label)
        const key = await decryptCosignPrivateKey(pem, v.password)
        expect(publicKeyToPEM(key.publicKey)).toBe(derivedPub)
        // Go-written PKCS#8 is already canonical, so normalisation must not change a byte.
        expect(toHex(key.pkcs8)).toBe(plaintextHex)
      })
    } else {
      it(`${v.name}: SEC1 plaintext is rejected like cosign's x509.ParsePKCS8PrivateKey`, async () => {
        await expect(decryptCosignPrivateKey(pem, v.password)).rejects.toMatchObject({ code: 'ERR_KEY_INVALID' })
        // The plaintext is the validecp256 SEC1 key, which parses fine on its own.
        const sec1 = parsePrivateKey(vectorText('cosign-testdata/cosign-keys_test-validecp256.pem'))
        expect(publicKeyToPEM(sec1.publicKey)).toBe(derivedPub)
        expect(plaintextHex.startsWith('30770201010420')).toBe(true)
      })
    }
  }

  it("cosign's CI key (password secret) parses as an envelope and refuses a wrong password", async () => {
    const pem = vectorText('cosign-testdata/cosign-github-workflows-cosign-test.key')
    expect(isCosignEncryptedKey(pem)).toBe(true)
    const doc = JSON.parse(new TextDecoder().decode(decodePEM(pem).bytes))
    expect(doc.kdf.params).toEqual({ N: 32768, r: 8, p: 1 })
    await expect(decryptCosignPrivateKey(pem, 'not-the-password')).rejects.toMatchObject({ code: 'ERR_KEY_DECRYPT' })
    expect(parsePublicKey(vectorText('cosign-testdata/cosign-github-workflows-cosign-test.pub')).algorithm).toBe(
      'ecdsa-p256',
    )
  })

  it('verifies the fixture signature over the simple-signing payload with the decrypted key', async () => {
    const key = await decryptCosignPrivateKey(
      vectorText('cosign-testdata/cosign-keys_test-pemsigstorekey.key'),
      'hello',
    )
    const payload = vectorBytes('cosign-testdata/generated/simplesigning-payload.json')
    const sig = fromBase64(vectorText('cosign-testdata/generated/simplesigning-payload.sig.b64').trim())
    expect(await verifySignature(key.publicKey, payload, sig)).toBe(true)
    expect(await verifySignature(key.publicKey, payload.subarray(1), sig)).toBe(false)
  })
})

describe('encryptCosignPrivateKey', () => {
  const algorithms = ['ecdsa-p256', 'ecdsa-p384', 'ecdsa-p521', 'ed25519', 'rsa'] as const
  for (const algorithm of algorithms) {
    it(`round-trips a ${algorithm} key`, async () => {
      const key = await generateKeyPair({ algorithm })
      const pem = await encryptCosignPrivateKey(key, 'pässwörd', { scryptN: 32768 })
      const back = await decryptCosignPrivateKey(pem, 'pässwörd')
      expect(back.algorithm).toBe(algorithm)
      expect(back.pkcs8).toEqual(key.pkcs8)
      expect(back.publicKey.spki).toEqual(key.publicKey.spki)
      await expect(decryptCosignPrivateKey(pem, 'passwörd')).rejects.toMatchObject({ code: 'ERR_KEY_DECRYPT' })
    })
  }

  it('writes exactly the cosign JSON shape with N=65536 by default', async () => {
    const key = await generateKeyPair()
    const pem = await encryptCosignPrivateKey(key, 'pw')
    expect(pem).toMatch(/^-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n/)
    expect(pem.endsWith('-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n')).toBe(true)
    const bodyLines = pem.trim().split('\n').slice(1, -1)
    for (const line of bodyLines.slice(0, -1)) expect(line).toHaveLength(64)
    const json = new TextDecoder().decode(decodePEM(pem).bytes)
    expect(json).toMatch(
      /^\{"kdf":\{"name":"scrypt","params":\{"N":65536,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl\/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/]+={0,2}"\}$/,
    )
    const doc = JSON.parse(json)
    expect(Object.keys(doc)).toEqual(['kdf', 'cipher', 'ciphertext'])
    expect(Object.keys(doc.kdf)).toEqual(['name', 'params', 'salt'])
    // 138-byte PKCS#8 + 16-byte Poly1305 tag (docs/formats.md §Encrypted keys).
    expect(fromBase64(doc.ciphertext)).toHaveLength(154)
    expect((await decryptCosignPrivateKey(pem, utf8('pw'))).pkcs8).toEqual(key.pkcs8)
  })

  it('uses a fresh salt and nonce every time', async () => {
    const key = await generateKeyPair()
    const a = JSON.parse(
      new TextDecoder().decode(decodePEM(await encryptCosignPrivateKey(key, '', { scryptN: 32768 })).bytes),
    )
    const b = JSON.parse(
      new TextDecoder().decode(decodePEM(await encryptCosignPrivateKey(key, '', { scryptN: 32768 })).bytes),
    )
    expect(a.kdf.salt).not.toBe(b.kdf.salt)
    expect(a.cipher.nonce).not.toBe(b.cipher.nonce)
  })

  it('accepts N=131072 and rejects other costs', async () => {
    const key = await generateKeyPair()
    const pem = await encryptCosignPrivateKey(key, 'x', { scryptN: 131072 })
    expect(pem).toBeTypeOf('string')
    expect((await decryptCosignPrivateKey(pem, 'x')).pkcs8).toEqual(key.pkcs8)
    await expect(encryptCosignPrivateKey(key, 'x', { scryptN: 16384 as 32768 })).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })

  it('allows the empty password and keeps password bytes verbatim', async () => {
    const key = await generateKeyPair({ algorithm: 'ed25519' })
    const empty = await encryptCosignPrivateKey(key, '', { scryptN: 32768 })
    expect((await decryptCosignPrivateKey(empty, new Uint8Array(0))).pkcs8).toEqual(key.pkcs8)
    // stdin passwords keep their newline: "pw\n" is not "pw".
    const withNewline = await encryptCosignPrivateKey(key, utf8('pw\n'), { scryptN: 32768 })
    await expect(decryptCosignPrivateKey(withNewline, 'pw')).rejects.toMatchObject({ code: 'ERR_KEY_DECRYPT' })
    expect((await decryptCosignPrivateKey(withNewline, 'pw\n')).pkcs8).toEqual(key.pkcs8)
  })

  it('rejects non-key and non-password arguments with TypeError', async () => {
    await expect(encryptCosignPrivateKey({} as PrivateKey, 'x')).rejects.toThrow(TypeError)
    const key = await generateKeyPair()
    await expect(encryptCosignPrivateKey(key, 42 as unknown as string)).rejects.toThrow(TypeError)
  })
})

describe('decryptCosignPrivateKey input checks', () => {
  const good = vectorText('cases/cosign-encrypted-sigstore-label-p256/private.key')

  it.each<[string, Edit]>([
    ['N=16384', (d) => (d.kdf.params!.N = 16384)],
    ['N=262144', (d) => (d.kdf.params!.N = 262144)],
    ['r=16', (d) => (d.kdf.params!.r = 16)],
    ['p=2', (d) => (d.kdf.params!.p = 2)],
  ])('rejects scrypt %s as unsupported scrypt parameters', async (_, edit) => {
    await expect(decryptCosignPrivateKey(editEnvelope(good, edit), 'hello')).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
      message: 'unsupported scrypt parameters',
    })
  })

  it.each<[string, Edit]>([
    ['kdf name', (d) => (d.kdf.name = 'pbkdf2')],
    ['cipher name', (d) => (d.cipher.name = 'aes-gcm')],
  ])('rejects an unknown %s', async (_, edit) => {
    await expect(decryptCosignPrivateKey(editEnvelope(good, edit), 'hello')).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })

  it.each<[string, Edit]>([
    ['missing kdf', (d) => Reflect.deleteProperty(d, 'kdf')],
    ['missing params', (d) => Reflect.deleteProperty(d.kdf, 'params')],
    ['bad base64 ciphertext', (d) => (d.ciphertext = '!!!!')],
    ['non-string salt', (d) => (d.kdf.salt = 12)],
    ['empty salt', (d) => (d.kdf.salt = '')],
    ['23-byte nonce', (d) => (d.cipher.nonce = toBase64(new Uint8Array(23)))],
    ['short ciphertext', (d) => (d.ciphertext = toBase64(new Uint8Array(15)))],
  ])('rejects %s with ERR_INVALID_INPUT', async (_, edit) => {
    await expect(decryptCosignPrivateKey(editEnvelope(good, edit), 'hello')).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
  })

  it('rejects truncated JSON', async () => {
    const json = new TextDecoder().decode(decodePEM(good).bytes)
    const pem = encodePEM(COSIGN_PEM_LABEL, utf8(json.slice(0, json.length - 10)))
    await expect(decryptCosignPrivateKey(pem, 'hello')).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: 'encrypted key is not valid JSON',
    })
  })

  it('rejects a tampered ciphertext as a decryption failure', async () => {
    const pem = editEnvelope(good, (d) => {
      const ct = fromBase64(d.ciphertext as string)
      ct[ct.length - 1]! ^= 1
      d.ciphertext = toBase64(ct)
    })
    await expect(decryptCosignPrivateKey(pem, 'hello')).rejects.toMatchObject({ code: 'ERR_KEY_DECRYPT' })
  })

  it('rejects other PEM labels with "unsupported pem type"', async () => {
    const pem = good.replaceAll('ENCRYPTED SIGSTORE PRIVATE KEY', 'PRIVATE KEY')
    await expect(decryptCosignPrivateKey(pem, 'hello')).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: 'unsupported pem type: PRIVATE KEY',
    })
    expect(isCosignEncryptedKey(pem)).toBe(false)
  })

  it('rejects corrupt PEM', async () => {
    const noEnd = good.replace(/-----END [^\n]*\n/, '')
    await expect(decryptCosignPrivateKey(noEnd, 'hello')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    const badB64 = good.replace(/\n(.)/, '\n*')
    await expect(decryptCosignPrivateKey(badB64, 'hello')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    await expect(decryptCosignPrivateKey('not a pem', 'hello')).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' })
    expect(isCosignEncryptedKey('not a pem')).toBe(false)
    expect(isCosignEncryptedKey(new Uint8Array([0xff, 0xfe]))).toBe(false)
  })

  it('rejects a PKCS#1 plaintext and garbage plaintext as ERR_KEY_INVALID', async () => {
    const pkcs1 = decodePEM(vectorText('openssl/rsa-2048.pkcs1.pem')).bytes
    await expect(decryptCosignPrivateKey(sealRaw(pkcs1, 'pw'), 'pw')).rejects.toMatchObject({
      code: 'ERR_KEY_INVALID',
      message: expect.stringContaining('PKCS#1'),
    })
    await expect(decryptCosignPrivateKey(sealRaw(utf8('garbage'), 'pw'), 'pw')).rejects.toMatchObject({
      code: 'ERR_KEY_INVALID',
    })
  })

  it('keeps unsupported keys inside the envelope as ERR_UNSUPPORTED_ALGORITHM', async () => {
    const rsa1024 = decodePEM(vectorText('openssl/rsa-1024.pkcs8.pem')).bytes
    await expect(decryptCosignPrivateKey(sealRaw(rsa1024, 'pw'), 'pw')).rejects.toMatchObject({
      code: 'ERR_UNSUPPORTED_ALGORITHM',
    })
  })

  it('never echoes the password in errors', async () => {
    const secret = 'super-secret-password-123'
    try {
      await decryptCosignPrivateKey(good, secret)
      expect.unreachable()
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(secret)
      expect(JSON.stringify((error as { details?: unknown }).details ?? {})).not.toContain(secret)
    }
  })
})
