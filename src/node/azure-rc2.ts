/**
 * RC2-CBC decryption (RFC 2268), only for reading the certificate bags of legacy PKCS#12 files
 * (`pbeWithSHAAnd40BitRC2-CBC`, what `openssl pkcs12 -export -legacy`, OpenSSL 1.x and older Windows exports
 * write, and what Go's `x/crypto/pkcs12` under azidentity reads). OpenSSL 3 keeps RC2 in its legacy provider, which
 * Node does not load, so it is done here. Never used to encrypt. Internal.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromHex } from '../internal/bytes.js'

/** RFC 2268 §2 PITABLE: a permutation of 0..255 from the digits of pi. */
const PITABLE = /* @__PURE__ */ fromHex(
  'd978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2' +
    '179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82' +
    '54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626' +
    '6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7' +
    '08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec' +
    'c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731' +
    '2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9' +
    '0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad',
)

/** RFC 2268 §2 key expansion: 64 16-bit words from `key` with `bits` effective key bits. */
function expandKey(key: Uint8Array, bits: number): Uint16Array {
  const l = new Uint8Array(128)
  l.set(key)
  const t = key.length
  for (let i = t; i < 128; i++) l[i] = PITABLE[(l[i - 1]! + l[i - t]!) & 0xff]!
  const t8 = Math.ceil(bits / 8)
  const tm = 0xff >> (8 * t8 - bits)
  l[128 - t8] = PITABLE[l[128 - t8]! & tm]!
  for (let i = 127 - t8; i >= 0; i--) l[i] = PITABLE[l[i + 1]! ^ l[i + t8]!]!
  const k = new Uint16Array(64)
  for (let i = 0; i < 64; i++) k[i] = l[2 * i]! | (l[2 * i + 1]! << 8)
  return k
}

const SHIFT = [1, 2, 3, 5] as const

/** RFC 2268 §4: five r-mixing rounds, r-mashing, six r-mixing, r-mashing, five r-mixing, on one 8-byte block. */
function decryptBlock(k: Uint16Array, block: Uint8Array): Uint8Array {
  const r = new Uint16Array(4)
  for (let i = 0; i < 4; i++) r[i] = block[2 * i]! | (block[2 * i + 1]! << 8)
  let j = 63
  const mix = () => {
    for (let i = 3; i >= 0; i--) {
      const s = SHIFT[i]!
      r[i] = (r[i]! >>> s) | (r[i]! << (16 - s))
      r[i] = r[i]! - k[j--]! - (r[(i + 3) & 3]! & r[(i + 2) & 3]!) - (~r[(i + 3) & 3]! & r[(i + 1) & 3]!)
    }
  }
  const mash = () => {
    for (let i = 3; i >= 0; i--) r[i] = r[i]! - k[r[(i + 3) & 3]! & 63]!
  }
  const mixing = (n: number) => {
    for (let i = 0; i < n; i++) mix()
  }
  mixing(5)
  mash()
  mixing(6)
  mash()
  mixing(5)
  const out = new Uint8Array(8)
  for (let i = 0; i < 4; i++) {
    out[2 * i] = r[i]! & 0xff
    out[2 * i + 1] = r[i]! >> 8
  }
  return out
}

/**
 * Decrypt RC2-CBC with PKCS#7 padding. `bits` is the effective key length (40 for `pbeWithSHAAnd40BitRC2-CBC`).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT when the padding is wrong (a wrong password, most often).
 * @example
 * ```ts
 * const plain = rc2CBCDecrypt(key5, 40, iv, ciphertext)
 * ```
 */
export function rc2CBCDecrypt(key: Uint8Array, bits: number, iv: Uint8Array, data: Uint8Array): Uint8Array {
  if (data.length === 0 || data.length % 8 !== 0 || iv.length !== 8) {
    throw new CountersignError('ERR_INVALID_INPUT', 'RC2-CBC: bad ciphertext length')
  }
  const k = expandKey(key, bits)
  const out = new Uint8Array(data.length)
  let prev = iv
  for (let o = 0; o < data.length; o += 8) {
    const c = data.subarray(o, o + 8)
    const p = decryptBlock(k, c)
    for (let i = 0; i < 8; i++) out[o + i] = p[i]! ^ prev[i]!
    prev = c
  }
  const pad = out[out.length - 1]!
  if (pad < 1 || pad > 8 || out.subarray(out.length - pad).some((b) => b !== pad)) {
    throw new CountersignError('ERR_INVALID_INPUT', 'RC2-CBC: bad padding')
  }
  return out.subarray(0, out.length - pad)
}
