/**
 * Kyverno's string functions (`pkg/engine/jmespath/functions.go`), with Go's `strings` package semantics: case
 * mapping per code point (no `ß` → `SS`), `trim` by a set of code points, `split` and `replace` with an empty
 * separator working on code points, `base64_decode` strict about padding, hashes over UTF-8 bytes. They replace the
 * jmespath-community built-ins of the same names (`split`, `replace`, `trim`), whose signatures differ.
 * @module
 */
import { md5, sha1 } from '@noble/hashes/legacy.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { toBase64, toHex, utf8 } from '../../internal/bytes.js'
import { goInt64FromFloat } from './duration.js'
import { kyvernoFunctionError } from './jmespath-errors.js'
import type { JMESPathFunction } from './jmespath-functions.js'
import { compareGoStrings } from './operators-go-values.js'

/** Go's `strings.Replace(s, old, new, n)`; n < 0 replaces every occurrence; an empty `old` matches between code points. */
function goReplace(s: string, old: string, replacement: string, n: number): string {
  if (old === replacement || n === 0) return s
  if (old !== '') {
    const parts = s.split(old)
    if (parts.length === 1) return s
    const count = n < 0 ? parts.length - 1 : Math.min(n, parts.length - 1)
    return (
      parts.slice(0, count + 1).join(replacement) +
      (count < parts.length - 1 ? old + parts.slice(count + 1).join(old) : '')
    )
  }
  // An empty `old` matches before each code point and at the end: insert `replacement` there, n times at most.
  const chars = Array.from(s)
  const count = n < 0 ? chars.length + 1 : Math.min(n, chars.length + 1)
  let out = ''
  for (let i = 0; i < count; i++) out += (i > 0 ? chars[i - 1] : '') + replacement
  return out + chars.slice(Math.max(count - 1, 0)).join('')
}

function mapCodePoints(s: string, upper: boolean): string {
  // unicode.ToUpper/ToLower map one code point to one code point; JavaScript's full mappings may expand
  // (ß → SS, İ → i̇): keep the character (upper) or the first code point (lower, which is the simple mapping).
  let out = ''
  for (const c of s) {
    const m = upper ? c.toUpperCase() : c.toLowerCase()
    const cps = Array.from(m)
    out += cps.length === 1 ? m : upper ? c : (cps[0] ?? c)
  }
  return out
}

function equalFold(a: string, b: string): boolean {
  const x = Array.from(a)
  const y = Array.from(b)
  if (x.length !== y.length) return false
  return x.every((c, i) => {
    const d = y[i]!
    return (
      c === d ||
      mapCodePoints(c, false) === mapCodePoints(d, false) ||
      mapCodePoints(c, true) === mapCodePoints(d, true)
    )
  })
}

function trim(s: string, cutset: string): string {
  if (s === '' || cutset === '') return s
  const set = new Set(Array.from(cutset))
  const chars = Array.from(s)
  let start = 0
  let end = chars.length
  while (start < end && set.has(chars[start]!)) start++
  while (end > start && set.has(chars[end - 1]!)) end--
  return chars.slice(start, end).join('')
}

function split(s: string, sep: string): string[] {
  // strings.Split: an empty separator splits into code points (and "" into nothing).
  if (sep === '') return Array.from(s)
  return s.split(sep)
}

/** Go's `path.Clean` (what `filepath.Join` of one element gives on Linux, and "" for ""). */
function cleanPath(p: string): string {
  if (p === '') return ''
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(part)
  }
  const joined = (rooted ? '/' : '') + out.join('/')
  return joined === '' ? '.' : joined
}

const BASE64_STD = /^[A-Za-z0-9+/]*={0,2}$/

function base64Decode(s: string): string {
  // base64.StdEncoding.DecodeString: CR and LF are ignored; padding is required; '=' only at the end.
  const text = s.replace(/[\r\n]/g, '')
  if (text.length % 4 !== 0 || !BASE64_STD.test(text)) {
    throw kyvernoFunctionError('base64_decode', 'illegal base64 data')
  }
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
  return new TextDecoder().decode(bytes)
}

const hex =
  (f: (b: Uint8Array) => Uint8Array) =>
  ([s]: unknown[]) =>
    toHex(f(utf8(s as string)))

/**
 * Kyverno's string functions.
 *
 * @example
 * ```ts
 * STRING_FUNCTIONS.split.call(['a,b', ','], context) // ['a', 'b']
 * ```
 */
export const STRING_FUNCTIONS: Readonly<Record<string, JMESPathFunction>> = {
  compare: { args: [['string'], ['string']], call: ([a, b]) => Math.sign(compareGoStrings(a as string, b as string)) },
  equal_fold: { args: [['string'], ['string']], call: ([a, b]) => equalFold(a as string, b as string) },
  replace: {
    args: [['string'], ['string'], ['string'], ['number']],
    call: ([s, o, r, n]) => goReplace(s as string, o as string, r as string, Number(goInt64FromFloat(n as number))),
  },
  replace_all: {
    args: [['string'], ['string'], ['string']],
    call: ([s, o, r]) => goReplace(s as string, o as string, r as string, -1),
  },
  to_upper: { args: [['string']], call: ([s]) => mapCodePoints(s as string, true) },
  to_lower: { args: [['string']], call: ([s]) => mapCodePoints(s as string, false) },
  trim: { args: [['string'], ['string']], call: ([s, c]) => trim(s as string, c as string) },
  trim_prefix: {
    args: [['string'], ['string']],
    call: ([s, p]) => ((s as string).startsWith(p as string) ? (s as string).slice((p as string).length) : s),
  },
  split: { args: [['string'], ['string']], call: ([s, sep]) => split(s as string, sep as string) },
  truncate: {
    args: [['string'], ['number']],
    // Rune-based; a negative length is 0, a fraction is truncated (Go's int()).
    call: ([s, n]) =>
      Array.from(s as string)
        .slice(0, Math.max(0, Math.trunc(n as number)))
        .join(''),
  },
  path_canonicalize: { args: [['string']], call: ([s]) => cleanPath(s as string) },
  base64_decode: { args: [['string']], call: ([s]) => base64Decode(s as string) },
  base64_encode: { args: [['string']], call: ([s]) => toBase64(utf8(s as string)) },
  sha256: { args: [['string']], call: hex(sha256) },
  sha1: { args: [['string']], call: hex(sha1) },
  md5: { args: [['string']], call: hex(md5) },
}
