/**
 * nodeSignatureBackend against the default Web Crypto backend: for every key type and a set of valid, damaged and
 * edge-case signatures, verifySignature must give the same answer with both (and the expected one).
 */
import { constants, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { concat, fromHex, utf8 } from '../../src/internal/bytes.js'
import { CURVES } from '../../src/keys/algorithms.js'
import { ecdsaDERToP1363, ecdsaP1363ToDER, parsePublicKey } from '../../src/keys/index.js'
import type { PublicKey, VerifyOptions } from '../../src/keys/types.js'
import { type SignatureBackend, verifySignature } from '../../src/keys/verify.js'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'

const DATA = utf8('{"critical":{"type":"cosign container image signature"},"optional":null}')
const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length)

/** A fresh PublicKey object each time, so neither backend's per-key cache hides an import. */
function publicKey(k: KeyObject): PublicKey {
  return parsePublicKey(u8(k.export({ type: 'spki', format: 'der' })))
}

function bigintBytes(n: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn)
    n >>= 8n
  }
  return out
}

function flip(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice()
  c[at]! ^= 0x01
  return c
}

interface Case {
  readonly name: string
  readonly key: KeyObject
  readonly data: Uint8Array
  readonly signature: Uint8Array
  readonly options: VerifyOptions
  readonly expected: boolean
}

function ecdsaCases(curve: 'P-256' | 'P-384' | 'P-521', hash: 'sha256' | 'sha384' | 'sha512'): Case[] {
  const { publicKey: key, privateKey } = generateKeyPairSync('ec', { namedCurve: curve })
  const info = CURVES[curve === 'P-256' ? 'ecdsa-p256' : curve === 'P-384' ? 'ecdsa-p384' : 'ecdsa-p521']
  const der = u8(sign(hash, DATA, privateKey))
  const raw = ecdsaDERToP1363(der, info.size)
  const r = raw.subarray(0, info.size)
  const s = BigInt(`0x${Buffer.from(raw.subarray(info.size)).toString('hex')}`)
  const highS = ecdsaP1363ToDER(concat(r, bigintBytes(info.order - s, info.size)))
  const options = { hash }
  const base = { key, data: DATA, options }
  return [
    { ...base, name: `${curve} valid`, signature: der, expected: true },
    // Go accepts high-S signatures, so both backends must too.
    { ...base, name: `${curve} high S`, signature: highS, expected: true },
    { ...base, name: `${curve} other data`, signature: der, data: flip(DATA, 3), expected: false },
    {
      ...base,
      name: `${curve} damaged r`,
      signature: ecdsaP1363ToDER(concat(flip(r, 5), bigintBytes(s, info.size))),
      expected: false,
    },
    {
      ...base,
      name: `${curve} r = 0`,
      signature: ecdsaP1363ToDER(concat(new Uint8Array(info.size), bigintBytes(s, info.size))),
      expected: false,
    },
    {
      ...base,
      name: `${curve} s = n`,
      signature: ecdsaP1363ToDER(concat(r, bigintBytes(info.order, info.size))),
      expected: false,
    },
    { ...base, name: `${curve} raw r‖s instead of DER`, signature: raw, expected: false },
    { ...base, name: `${curve} trailing byte after DER`, signature: concat(der, Uint8Array.of(0)), expected: false },
    {
      ...base,
      name: `${curve} wrong hash`,
      signature: der,
      options: { hash: hash === 'sha256' ? 'sha512' : 'sha256' },
      expected: false,
    },
  ]
}

function rsaCases(): Case[] {
  const { publicKey: key, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pkcs1 = u8(sign('sha256', DATA, privateKey))
  const pss = (saltLength: number) =>
    u8(sign('sha256', DATA, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }))
  const base = { key, data: DATA }
  return [
    { ...base, name: 'RSA PKCS#1 v1.5 valid', signature: pkcs1, options: {}, expected: true },
    { ...base, name: 'RSA PKCS#1 v1.5 damaged', signature: flip(pkcs1, 100), options: {}, expected: false },
    { ...base, name: 'RSA PKCS#1 v1.5 short', signature: pkcs1.subarray(1), options: {}, expected: false },
    { ...base, name: 'RSA PKCS#1 v1.5 as PSS', signature: pkcs1, options: { rsaPadding: 'pss' }, expected: false },
    { ...base, name: 'RSA-PSS salt = hash length', signature: pss(32), options: { rsaPadding: 'pss' }, expected: true },
    // 2048-bit modulus, SHA-256: the maximum salt is 256 - 32 - 2 = 222 bytes (Go's PSSSaltLengthAuto when signing).
    { ...base, name: 'RSA-PSS maximum salt', signature: pss(222), options: { rsaPadding: 'pss' }, expected: true },
    // Neither backend tries other salt lengths (Web Crypto needs the exact one), so both refuse this alike.
    { ...base, name: 'RSA-PSS other salt length', signature: pss(20), options: { rsaPadding: 'pss' }, expected: false },
    { ...base, name: 'RSA-PSS damaged', signature: flip(pss(32), 7), options: { rsaPadding: 'pss' }, expected: false },
  ]
}

function ed25519Cases(): Case[] {
  const { publicKey: key, privateKey } = generateKeyPairSync('ed25519')
  const sig = u8(sign(null, DATA, privateKey))
  const base = { key, data: DATA, options: {} }
  return [
    { ...base, name: 'Ed25519 valid', signature: sig, expected: true },
    { ...base, name: 'Ed25519 damaged', signature: flip(sig, 40), expected: false },
    { ...base, name: 'Ed25519 other data', signature: sig, data: flip(DATA, 0), expected: false },
    { ...base, name: 'Ed25519 truncated', signature: sig.subarray(0, 63), expected: false },
    // S ≥ ℓ: RFC 8032 strict verification (Go, OpenSSL) rejects it.
    {
      ...base,
      name: 'Ed25519 non-canonical S',
      signature: concat(
        sig.subarray(0, 32),
        fromHex('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010'),
      ),
      expected: false,
    },
  ]
}

const CASES: readonly Case[] = [
  ...ecdsaCases('P-256', 'sha256'),
  ...ecdsaCases('P-384', 'sha384'),
  ...ecdsaCases('P-521', 'sha512'),
  ...rsaCases(),
  ...ed25519Cases(),
]

const BACKENDS: readonly [string, SignatureBackend | undefined][] = [
  ['Web Crypto (default)', undefined],
  ['nodeSignatureBackend', nodeSignatureBackend],
]

describe('nodeSignatureBackend gives the same verdicts as Web Crypto', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const verdicts: boolean[] = []
      for (const [, backend] of BACKENDS) {
        verdicts.push(await verifySignature(publicKey(c.key), c.data, c.signature, { ...c.options, backend }))
      }
      expect(verdicts).toEqual([c.expected, c.expected])
    })
  }

  it('reuses one KeyObject per key object and verifies repeatedly', async () => {
    const c = CASES[0]!
    const key = publicKey(c.key)
    for (let i = 0; i < 3; i++) {
      await expect(
        verifySignature(key, c.data, c.signature, { ...c.options, backend: nodeSignatureBackend }),
      ).resolves.toBe(true)
    }
  })

  it('verifies Ed25519ph (countersign’s own implementation) with either backend', async () => {
    const { publicKey: key, privateKey } = generateKeyPairSync('ed25519')
    const { ed25519ph } = await import('@noble/curves/ed25519.js')
    const secret = u8(privateKey.export({ format: 'der', type: 'pkcs8' })).subarray(-32)
    const sig = ed25519ph.sign(DATA, secret)
    for (const [, backend] of BACKENDS) {
      await expect(verifySignature(publicKey(key), DATA, sig, { ed25519ph: true, backend })).resolves.toBe(true)
      await expect(verifySignature(publicKey(key), flip(DATA, 1), sig, { ed25519ph: true, backend })).resolves.toBe(
        false,
      )
    }
  })
})
