/**
 * The forms one secret travels in, so that redaction finds it however a server echoes it: as is, percent-encoded
 * (URI component and form encoding, either hex case), JSON-escaped (plain, with `\/`, ASCII-only), XML-escaped, and
 * base64 (standard and URL-safe, with and without padding, at each of the three byte alignments it can have inside
 * a longer base64 text). Internal to the redaction in `redact.ts`.
 *
 * @module
 */
import { toBase64, utf8 } from '../internal/bytes.js'

/** Forms shorter than this are dropped: a three-character fragment would match ordinary text. */
const MIN_FORM_LENGTH = 4

/**
 * Base64 of `bytes` as it appears on its own (padded and unpadded) and inside longer base64 text: with 0, 1 or 2
 * bytes before it, only the characters that depend on `bytes` alone (the first one or two and the last one mix in
 * the neighbouring bytes), in both the standard and the URL-safe alphabet (RFC 4648 §4 and §5).
 */
function base64Forms(bytes: Uint8Array): string[] {
  const out: string[] = []
  for (let shift = 0; shift < 3; shift++) {
    const shifted = new Uint8Array(shift + bytes.length)
    shifted.set(bytes, shift)
    const padded = toBase64(shifted)
    const unpadded = padded.replace(/=+$/, '')
    // Leading characters carrying bits of the bytes before: none, 2 (8 bits before), 3 (16 bits before).
    const lead = shift === 0 ? 0 : shift + 1
    // The last character mixes in the byte after unless the length ends on a 3-byte group.
    const trail = shifted.length % 3 === 0 ? 0 : 1
    if (shift === 0) out.push(padded, unpadded)
    out.push(unpadded.slice(lead, unpadded.length - trail))
  }
  return out.flatMap((s) => [s, s.replace(/\+/g, '-').replace(/\//g, '_')])
}

/** `application/x-www-form-urlencoded` serialisation (WHATWG URL §5.2): what `URLSearchParams` sends. */
function formEncode(s: string): string {
  return new URLSearchParams({ v: s }).toString().slice(2)
}

/** JSON string contents of `s`: as `JSON.stringify` writes them, with `/` escaped, and with non-ASCII as `\uXXXX`. */
function jsonForms(s: string): string[] {
  const plain = JSON.stringify(s).slice(1, -1)
  const ascii = plain.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  return [
    plain,
    plain.replace(/\//g, '\\/'),
    ascii,
    ascii.replace(/\\u([0-9a-f]{4})/g, (_, h) => `\\u${h.toUpperCase()}`),
  ]
}

/** XML/HTML character escaping of `s` (what an XML error document, e.g. AWS STS's, holds). */
function xmlEscape(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c as '&'] ?? c,
  )
}

/** The text encodings of one string (each base64 form also goes through these). */
function textForms(s: string): string[] {
  let uri = s
  try {
    uri = encodeURIComponent(s)
  } catch {
    // A lone surrogate cannot be percent-encoded; the form encoding below replaces it instead.
  }
  const form = formEncode(s)
  const lower = (e: string) => e.replace(/%[0-9A-F]{2}/g, (h) => h.toLowerCase())
  return [s, uri, lower(uri), form, lower(form), ...jsonForms(s), xmlEscape(s)]
}

/**
 * Every form of `secret` worth looking for, longest first (so a whole form is found before a part of it), without
 * duplicates and without forms shorter than four characters.
 *
 * @example
 * ```ts
 * secretForms('u9:hunter22').includes('dTk6aHVudGVyMjI=') // true: the base64 a Basic header carries
 * ```
 */
export function secretForms(secret: string): string[] {
  const out = new Set<string>()
  for (const base of [secret, ...base64Forms(utf8(secret))]) {
    for (const form of textForms(base)) if (form.length >= MIN_FORM_LENGTH) out.add(form)
  }
  return [...out].sort((a, b) => b.length - a.length)
}
