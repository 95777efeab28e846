import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { toBase64, utf8 } from '../../src/internal/bytes.js'
import {
  encodeBitString,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
} from '../../src/internal/der.js'
import { decodePEM, encodePEM } from '../../src/internal/pem.js'
import {
  defaultSigningAlgorithm,
  keyHint,
  parsePrivateKey,
  parsePublicKey,
  privateKeyToPEM,
  publicKeyToPEM,
} from '../../src/keys/index.js'
import { vectorBytes, vectorText } from './vectors.js'

function hasOpenSSL(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('parsePublicKey', () => {
  it.each([
    ['ec-p256.pub.pem', 'ecdsa-p256', undefined],
    ['ec-p384.pub.pem', 'ecdsa-p384', undefined],
    ['ec-p521.pub.pem', 'ecdsa-p521', undefined],
    ['ed25519.pub.pem', 'ed25519', undefined],
    ['rsa-2048.pub.pem', 'rsa', 2048],
    ['rsa-3072.pub.pem', 'rsa', 3072],
    ['rsa-4096.pub.pem', 'rsa', 4096],
  ])('parses SPKI %s', (file, algorithm, bits) => {
    const pem = vectorText(`openssl/${file}`)
    const key = parsePublicKey(pem)
    expect(key.algorithm).toBe(algorithm)
    expect(key.rsaBits).toBe(bits)
    // Re-encoding is byte-identical to what openssl (and cosign) write.
    expect(publicKeyToPEM(key)).toBe(pem)
    expect(Object.isFrozen(key)).toBe(true)
  })

  it('wraps a PKCS#1 RSA PUBLIC KEY into the same SPKI', () => {
    for (const bits of [2048, 4096]) {
      const fromPKCS1 = parsePublicKey(vectorText(`openssl/rsa-${bits}.pkcs1-pub.pem`))
      const fromSPKI = parsePublicKey(vectorText(`openssl/rsa-${bits}.pub.pem`))
      expect(fromPKCS1.spki).toEqual(fromSPKI.spki)
      expect(fromPKCS1.rsaBits).toBe(bits)
    }
  })

  it('accepts DER SPKI bytes, PEM bytes, CRLF line ends and leading text', () => {
    const pem = vectorText('openssl/ec-p256.pub.pem')
    const der = vectorBytes('openssl/ec-p256.pub.der')
    expect(parsePublicKey(der).spki).toEqual(der)
    expect(parsePublicKey(utf8(pem)).spki).toEqual(der)
    expect(parsePublicKey(`some header text\r\n${pem.replaceAll('\n', '\r\n')}`).spki).toEqual(der)
  })

  it.each([
    ['ec-p224.pub.pem', /curve/],
    ['ec-secp256k1.pub.pem', /curve/],
    ['rsa-1024.pub.pem', /1024/],
  ])('rejects %s as unsupported', (file, message) => {
    expect(() => parsePublicKey(vectorText(`openssl/${file}`))).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM', message: expect.stringMatching(message) }),
    )
  })

  it('rejects an off-curve EC point and a compressed point as ERR_KEY_INVALID', () => {
    const der = vectorBytes('openssl/ec-p256.pub.der')
    const bad = new Uint8Array(der)
    bad[bad.length - 1]! ^= 1
    expect(() => parsePublicKey(bad)).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
    const point = der.subarray(der.length - 65)
    const compressed = Uint8Array.of(2 + (point[64]! & 1), ...point.subarray(1, 33))
    const spki = encodeSequence(
      encodeSequence(encodeOID('1.2.840.10045.2.1'), encodeOID('1.2.840.10045.3.1.7')),
      encodeBitString(compressed),
    )
    expect(() => parsePublicKey(spki)).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
  })

  it('rejects malformed DER without crashing', () => {
    const der = vectorBytes('openssl/ec-p256.pub.der')
    for (let cut = 1; cut < der.length; cut += 7) {
      expect(() => parsePublicKey(der.subarray(0, cut))).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
    }
    const trailing = Uint8Array.of(...der, 0)
    expect(() => parsePublicKey(trailing)).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
    // Indefinite length.
    expect(() => parsePublicKey(Uint8Array.of(0x30, 0x80, 0, 0))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    )
  })

  it('rejects RSA SPKI without the NULL parameters, as Go does', () => {
    const pkcs1 = decodePEM(vectorText('openssl/rsa-2048.pkcs1-pub.pem')).bytes
    const noNull = encodeSequence(encodeSequence(encodeOID('1.2.840.113549.1.1.1')), encodeBitString(pkcs1))
    expect(() => parsePublicKey(noNull)).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
    const ok = encodeSequence(encodeSequence(encodeOID('1.2.840.113549.1.1.1'), encodeNull()), encodeBitString(pkcs1))
    expect(parsePublicKey(ok).rsaBits).toBe(2048)
  })

  it('rejects unknown algorithms, bad PEM and wrong labels with clear codes', () => {
    const x25519 = encodeSequence(encodeSequence(encodeOID('1.3.101.110')), encodeBitString(new Uint8Array(32)))
    expect(() => parsePublicKey(x25519)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }))
    expect(() => parsePublicKey('hello')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    expect(() => parsePublicKey(vectorText('openssl/ec-p256.pkcs8.pem'))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT', message: expect.stringContaining('PRIVATE KEY') }),
    )
    const noEnd = vectorText('openssl/ec-p256.pub.pem').replace('-----END PUBLIC KEY-----', '')
    expect(() => parsePublicKey(noEnd)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
    expect(() => parsePublicKey(123 as unknown as string)).toThrow(TypeError)
  })
})

describe('parsePrivateKey', () => {
  it.each([
    ['ec-p256', 'ecdsa-p256', 138],
    ['ec-p384', 'ecdsa-p384', 185],
    ['ec-p521', 'ecdsa-p521', 241],
  ])('parses %s as PKCS#8 and SEC1 to the same canonical Go PKCS#8', (name, algorithm, length) => {
    const fromPKCS8 = parsePrivateKey(vectorText(`openssl/${name}.pkcs8.pem`))
    const fromSEC1 = parsePrivateKey(vectorText(`openssl/${name}.sec1.pem`))
    expect(fromPKCS8.algorithm).toBe(algorithm)
    expect(fromPKCS8.pkcs8).toHaveLength(length)
    expect(fromSEC1.pkcs8).toEqual(fromPKCS8.pkcs8)
    expect(publicKeyToPEM(fromPKCS8.publicKey)).toBe(vectorText(`openssl/${name}.pub.pem`))
  })

  it('skips the EC PARAMETERS block openssl ecparam writes', () => {
    expect(parsePrivateKey(vectorText('openssl/ec-p256-with-params.sec1.pem')).algorithm).toBe('ecdsa-p256')
  })

  it('parses Ed25519 PKCS#8 and derives the public key from the seed', () => {
    const key = parsePrivateKey(vectorText('openssl/ed25519.pkcs8.pem'))
    expect(key.algorithm).toBe('ed25519')
    expect(key.pkcs8).toHaveLength(48)
    expect(publicKeyToPEM(key.publicKey)).toBe(vectorText('openssl/ed25519.pub.pem'))
  })

  it.each([2048, 4096])('parses RSA %i as PKCS#1 and PKCS#8', (bits) => {
    const fromPKCS8 = parsePrivateKey(vectorText(`openssl/rsa-${bits}.pkcs8.pem`))
    const fromPKCS1 = parsePrivateKey(vectorText(`openssl/rsa-${bits}.pkcs1.pem`))
    expect(fromPKCS1.pkcs8).toEqual(fromPKCS8.pkcs8)
    expect(fromPKCS8.publicKey.rsaBits).toBe(bits)
    expect(publicKeyToPEM(fromPKCS1.publicKey)).toBe(vectorText(`openssl/rsa-${bits}.pub.pem`))
    // openssl's PKCS#8 is already in Go's form.
    expect(privateKeyToPEM(fromPKCS8)).toBe(vectorText(`openssl/rsa-${bits}.pkcs8.pem`))
  })

  it('accepts DER PKCS#8 bytes', () => {
    const der = vectorBytes('openssl/ec-p256.pkcs8.der')
    expect(parsePrivateKey(der).publicKey.spki).toEqual(vectorBytes('openssl/ec-p256.pub.der'))
  })

  it('rejects RSA 1024, P-224 and secp256k1 private keys', () => {
    for (const file of ['rsa-1024.pkcs8.pem', 'ec-p224.sec1.pem', 'ec-secp256k1.sec1.pem']) {
      expect(() => parsePrivateKey(vectorText(`openssl/${file}`))).toThrow(
        expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }),
      )
    }
  })

  it('points encrypted cosign keys to decryptCosignPrivateKey', () => {
    expect(() => parsePrivateKey(vectorText('cases/cosign-encrypted-sigstore-label-p256/private.key'))).toThrow(
      expect.objectContaining({
        code: 'ERR_PASSWORD_REQUIRED',
        message: expect.stringContaining('decryptCosignPrivateKey'),
      }),
    )
    const pkcs8Encrypted = encodePEM('ENCRYPTED PRIVATE KEY', new Uint8Array([0x30, 0]))
    expect(() => parsePrivateKey(pkcs8Encrypted)).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }),
    )
    const legacy = vectorText('openssl/ec-p256.sec1.pem').replace(
      '-----BEGIN EC PRIVATE KEY-----\n',
      '-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n',
    )
    expect(() => parsePrivateKey(legacy)).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }))
  })

  it('rejects EC scalars of zero or ≥ n and mismatched embedded public keys', () => {
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551')
    const sec1 = (d: Uint8Array, extra: Uint8Array[] = []) =>
      encodePEM(
        'EC PRIVATE KEY',
        encodeSequence(
          encodeInteger(1),
          encodeOctetString(d),
          Uint8Array.of(0xa0, 10, ...encodeOID('1.2.840.10045.3.1.7')),
          ...extra,
        ),
      )
    const hex = (x: bigint) =>
      Uint8Array.from(
        x
          .toString(16)
          .padStart(64, '0')
          .match(/../g)!
          .map((h) => parseInt(h, 16)),
      )
    expect(() => parsePrivateKey(sec1(new Uint8Array(32)))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    )
    expect(() => parsePrivateKey(sec1(hex(n)))).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }))
    expect(parsePrivateKey(sec1(hex(n - 1n))).algorithm).toBe('ecdsa-p256')
    const other = parsePrivateKey(vectorText('openssl/ec-p256.sec1.pem')).publicKey.spki.subarray(-65)
    const mismatched = Uint8Array.of(0xa1, 68, 0x03, 66, 0, ...other)
    expect(() => parsePrivateKey(sec1(hex(5n), [mismatched]))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    )
  })

  it('rejects inconsistent RSA keys and truncated input', () => {
    const pem = vectorText('openssl/rsa-2048.pkcs1.pem')
    const der = decodePEM(pem).bytes
    const corrupted = new Uint8Array(der)
    // Flip a bit of the modulus so n ≠ p·q.
    corrupted[20]! ^= 1
    expect(() => parsePrivateKey(encodePEM('RSA PRIVATE KEY', corrupted))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    )
    for (const cut of [2, 10, 100, der.length - 1]) {
      expect(() => parsePrivateKey(encodePEM('RSA PRIVATE KEY', der.subarray(0, cut)))).toThrow(
        expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
      )
    }
  })

  it('rejects PEM with a bad body, unknown labels and non-keys', () => {
    expect(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\n@@@@\n-----END PRIVATE KEY-----\n')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(() => parsePrivateKey(vectorText('openssl/ec-p256.pub.pem'))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_INPUT' }),
    )
    expect(() => parsePrivateKey(encodePEM('PRIVATE KEY', utf8('not der')))).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID' }),
    )
    expect(() => parsePrivateKey(null as unknown as string)).toThrow(TypeError)
  })

  it('never puts private key bytes in error messages', () => {
    const der = decodePEM(vectorText('openssl/ec-p256.sec1.pem')).bytes
    const truncated = der.subarray(0, der.length - 3)
    try {
      parsePrivateKey(encodePEM('EC PRIVATE KEY', truncated))
      expect.unreachable()
    } catch (error) {
      const text = `${(error as Error).message} ${JSON.stringify((error as { details?: unknown }).details ?? {})}`
      expect(text).not.toContain(toBase64(der.subarray(7, 39)))
    }
  })
})

describe('keyHint and defaultSigningAlgorithm', () => {
  it('hint is base64(SHA-256(SPKI))', () => {
    const key = parsePublicKey(vectorText('openssl/ec-p256.pub.pem'))
    const expected = execFileSync('openssl', ['dgst', '-sha256', '-binary'], { input: key.spki }).toString('base64')
    expect(keyHint(key)).toBe(expected)
  })

  it.each([
    ['ec-p256.pub.pem', 'ecdsa-p256-sha256'],
    ['ec-p384.pub.pem', 'ecdsa-p384-sha384'],
    ['ec-p521.pub.pem', 'ecdsa-p521-sha512'],
    ['rsa-2048.pub.pem', 'rsa-pkcs1v15-sha256'],
    ['ed25519.pub.pem', 'ed25519ph'],
  ])('%s → %s (cosign defaults)', (file, algorithm) => {
    expect(defaultSigningAlgorithm(parsePublicKey(vectorText(`openssl/${file}`)))).toBe(algorithm)
  })
})

describe.skipIf(!hasOpenSSL())('openssl agrees with our encodings', () => {
  it('openssl parses the canonical PKCS#8 we produce from SEC1 and PKCS#1 input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-parse-'))
    for (const file of ['ec-p384.sec1.pem', 'rsa-2048.pkcs1.pem', 'ed25519.pkcs8.pem']) {
      const key = parsePrivateKey(vectorText(`openssl/${file}`))
      const path = join(dir, `${file}.der`)
      writeFileSync(path, key.pkcs8)
      const pub = execFileSync('openssl', ['pkey', '-inform', 'DER', '-in', path, '-pubout'], { encoding: 'utf8' })
      expect(pub).toBe(publicKeyToPEM(key.publicKey))
    }
  })
})
