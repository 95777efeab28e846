/** Byte helpers: hex, base64, UTF-8, concat, compare. Never exported from the package. @module */
import { CountersignError } from '../errors.js'

const encoder = /* @__PURE__ */ new TextEncoder()
const fatalDecoder = /* @__PURE__ */ new TextDecoder('utf-8', { fatal: true })

/** UTF-8 encode. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s)
}

/** Strict UTF-8 decode; invalid sequences → ERR_INVALID_INPUT. */
export function fromUtf8(b: Uint8Array, what = 'data'): string {
  try {
    return fatalDecoder.decode(b)
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', `${what} is not valid UTF-8`, { cause })
  }
}

const HEX = /* @__PURE__ */ Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lower-case hex. */
export function toHex(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i++) s += HEX[b[i]!]
  return s
}

/** Parse hex (either case); odd length or bad digit → ERR_INVALID_INPUT. */
export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) throw new CountersignError('ERR_INVALID_INPUT', 'invalid hex')
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16)
  return out
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_LOOKUP = /* @__PURE__ */ (() => {
  const t = new Int16Array(128).fill(-1)
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i
  // URL-safe alphabet decodes too (DSSE payloads may use it).
  t['-'.charCodeAt(0)] = 62
  t['_'.charCodeAt(0)] = 63
  return t
})()

/** Standard base64 with padding (Go's base64.StdEncoding). */
export function toBase64(b: Uint8Array): string {
  let s = ''
  let i = 0
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!
    s += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!
  }
  const rest = b.length - i
  if (rest === 1) {
    const n = b[i]! << 16
    s += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}==`
  } else if (rest === 2) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8)
    s += `${B64[n >> 18]!}${B64[(n >> 12) & 63]!}${B64[(n >> 6) & 63]!}=`
  }
  return s
}

/**
 * Decode standard or URL-safe base64, padded or not. Whitespace is rejected unless `allowWhitespace`
 * (PEM bodies). Bad characters or impossible lengths → ERR_INVALID_INPUT.
 */
export function fromBase64(s: string, options?: { allowWhitespace?: boolean }): Uint8Array {
  let str = options?.allowWhitespace ? s.replace(/[\s]+/g, '') : s
  str = str.replace(/=+$/, '')
  if (str.length % 4 === 1) throw new CountersignError('ERR_INVALID_INPUT', 'invalid base64 length')
  const out = new Uint8Array(Math.floor((str.length * 3) / 4))
  let bits = 0
  let acc = 0
  let o = 0
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i)
    const v = c < 128 ? B64_LOOKUP[c]! : -1
    if (v < 0) throw new CountersignError('ERR_INVALID_INPUT', 'invalid base64 character')
    acc = (acc << 6) | v
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  return out
}

/** Concatenate byte arrays. */
export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Constant-time-ish equality (length leaks, contents do not). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!
  return d === 0
}

/** Copy into a fresh ArrayBuffer-backed Uint8Array (Web Crypto rejects views on SharedArrayBuffer). */
export function toArrayBufferView(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b) as Uint8Array<ArrayBuffer>
}
