/**
 * DER value readers X.509 needs beyond `internal/der.ts`: times, strings, BOOLEAN. Internal to `src/x509`.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import { type DERNode, expectTag } from '../internal/der.js'

const TAG_BOOLEAN = 0x01
const TAG_UTF8 = 0x0c
const TAG_PRINTABLE = 0x13
const TAG_TELETEX = 0x14
const TAG_IA5 = 0x16
const TAG_UTC_TIME = 0x17
const TAG_GENERALIZED_TIME = 0x18
const TAG_UNIVERSAL = 0x1c
const TAG_BMP = 0x1e

/** The error every malformed certificate field raises. */
export function malformed(what: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `certificate is malformed: ${what}`)
}

/**
 * UTF-8 bytes to a string; invalid UTF-8 is an error (fatal: two certificates must never decode to the same
 * string). Certificate strings are short and almost always ASCII, which is read directly; the rest goes through the
 * shared strict decoder.
 */
export function decodeUTF8(bytes: Uint8Array, what: string): string {
  if (bytes.length <= 256) {
    let ascii = true
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i]! > 0x7f) {
        ascii = false
        break
      }
    }
    if (ascii) return String.fromCharCode.apply(null, bytes as unknown as number[])
  }
  try {
    return fromUtf8(bytes)
  } catch {
    return malformed(`${what} is not valid UTF-8`)
  }
}

function decodeASCII(bytes: Uint8Array, what: string, printable: boolean): string {
  let s = ''
  for (const b of bytes) {
    if (b > 0x7f) malformed(`${what} is not ASCII`)
    // PrintableString allows only A-Z a-z 0-9 space ' ( ) + , - . / : = ? (Go also tolerates * and &).
    if (printable && !/[A-Za-z0-9 '()+,\-./:=?*&]/.test(String.fromCharCode(b))) {
      malformed(`${what} is not a PrintableString`)
    }
    s += String.fromCharCode(b)
  }
  return s
}

/** A directory string (UTF8String, PrintableString, IA5String, TeletexString, BMPString, UniversalString). */
export function readDirectoryString(node: DERNode, what: string): string {
  const v = node.value
  switch (node.tag) {
    case TAG_UTF8:
      return decodeUTF8(v, what)
    case TAG_PRINTABLE:
      return decodeASCII(v, what, true)
    case TAG_IA5:
      return decodeASCII(v, what, false)
    case TAG_TELETEX: {
      // T.61 in practice carries Latin-1 (what Go and OpenSSL assume).
      let s = ''
      for (const b of v) s += String.fromCharCode(b)
      return s
    }
    case TAG_BMP: {
      if (v.length % 2 !== 0) malformed(`${what} has an odd BMPString length`)
      let s = ''
      for (let i = 0; i < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!)
      return s
    }
    case TAG_UNIVERSAL: {
      if (v.length % 4 !== 0) malformed(`${what} has a bad UniversalString length`)
      let s = ''
      for (let i = 0; i < v.length; i += 4) {
        const cp = ((v[i]! << 24) | (v[i + 1]! << 16) | (v[i + 2]! << 8) | v[i + 3]!) >>> 0
        if (cp > 0x10ffff) malformed(`${what} has an invalid code point`)
        s += String.fromCodePoint(cp)
      }
      return s
    }
    default:
      return malformed(`${what} is not a string (tag 0x${node.tag.toString(16)})`)
  }
}

/** An IA5String's text. */
export function readIA5(bytes: Uint8Array, what: string): string {
  return decodeASCII(bytes, what, false)
}

/** A DER BOOLEAN (only 0x00 and 0xff are DER). */
export function readBoolean(node: DERNode | undefined, what: string): boolean {
  const n = expectTag(node, TAG_BOOLEAN, what)
  if (n.value.length !== 1 || (n.value[0] !== 0 && n.value[0] !== 0xff)) malformed(`${what} is not a DER BOOLEAN`)
  return n.value[0] === 0xff
}

/** True when the node is a BOOLEAN. */
export function isBoolean(node: DERNode | undefined): boolean {
  return node?.tag === TAG_BOOLEAN
}

const UTC_TIME = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/

/** UTCTime (years 1950–2049, RFC 5280 §4.1.2.5.1) or GeneralizedTime, both in the `Z` form RFC 5280 requires. */
export function readTime(node: DERNode | undefined, what: string): Date {
  if (node === undefined) malformed(`missing ${what}`)
  const text = decodeASCII(node.value, what, false)
  let m: RegExpExecArray | null
  let year: number
  if (node.tag === TAG_UTC_TIME) {
    m = UTC_TIME.exec(text)
    if (!m) malformed(`${what} is not a UTCTime`)
    const yy = Number(m[1])
    year = yy < 50 ? 2000 + yy : 1900 + yy
  } else if (node.tag === TAG_GENERALIZED_TIME) {
    m = GENERALIZED_TIME.exec(text)
    if (!m) malformed(`${what} is not a GeneralizedTime`)
    year = Number(m[1])
  } else {
    return malformed(`${what} is not a time`)
  }
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ]
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) {
    malformed(`${what} is out of range`)
  }
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second))
  // Date.UTC treats years 0–99 as 1900+; RFC 5280 times never need them, so refuse instead of misreading.
  if (year < 100 || date.getUTCDate() !== day) malformed(`${what} is not a calendar date`)
  return date
}
