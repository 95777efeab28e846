import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { base64Length, fromBase64, toBase64, writeBase64 } from '../../src/internal/bytes.js'

/** The previous bit-at-a-time decoder, kept as the oracle: the fast one must accept and reject exactly the same. */
function referenceFromBase64(s: string, allowWhitespace = false): Uint8Array {
  let str = allowWhitespace ? s.replace(/[\s]+/g, '') : s
  str = str.replace(/=+$/, '')
  if (str.length % 4 === 1) throw new Error('invalid base64 length')
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
  const out = new Uint8Array(Math.floor((str.length * 3) / 4))
  let bits = 0
  let acc = 0
  let o = 0
  for (let i = 0; i < str.length; i++) {
    const ch = str[i]!
    const v = ch === '-' ? 62 : ch === '_' ? 63 : alphabet.indexOf(ch)
    if (v < 0) throw new Error('invalid base64 character')
    acc = ((acc << 6) | v) & 0xffffff
    bits += 6
    if (bits >= 8) {
      bits -= 8
      out[o++] = (acc >> bits) & 0xff
    }
  }
  return out
}

function outcome(f: () => Uint8Array): string {
  try {
    return `ok:${Buffer.from(f()).toString('hex')}`
  } catch (e) {
    return `error:${(e as Error).message}`
  }
}

describe('base64', () => {
  it('encodes like Buffer for every length 0..300', () => {
    const d = new Uint8Array(randomBytes(300))
    for (let n = 0; n <= 300; n++) {
      const part = d.subarray(0, n)
      expect(toBase64(part)).toBe(Buffer.from(part).toString('base64'))
      const out = new Uint8Array(base64Length(n) + 2)
      expect(writeBase64(part, out, 1)).toBe(1 + base64Length(n))
      expect(Buffer.from(out.subarray(1, 1 + base64Length(n))).toString('latin1')).toBe(toBase64(part))
    }
    expect(toBase64(new Uint8Array(randomBytes(50000)))).toHaveLength(base64Length(50000))
  })

  it('decodes what it encodes, padded, unpadded and URL-safe', () => {
    for (let n = 0; n <= 100; n++) {
      const d = new Uint8Array(randomBytes(n))
      const b64 = toBase64(d)
      expect(fromBase64(b64)).toEqual(d)
      expect(fromBase64(b64.replace(/=+$/, ''))).toEqual(d)
      expect(fromBase64(Buffer.from(d).toString('base64url'))).toEqual(d)
    }
  })

  it('accepts and rejects exactly what the previous decoder did (random mutations)', () => {
    const alphabet =
      'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \n\t\r.*é€\u00ff\u0100\u2028\ufeff'
    const rand = lcg(7)
    for (let k = 0; k < 20000; k++) {
      expectAsReference(mutate(toBase64(new Uint8Array(randomBytes(rand(40)))), rand, alphabet))
    }
  })

  it('long inputs (the table-driven loop over encodeInto bytes) decode and refuse as the reference does', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \n.*é\u0100'
    const rand = lcg(11)
    let accepted = 0
    for (let k = 0; k < 3000; k++) {
      let base = toBase64(new Uint8Array(randomBytes(48 + rand(1500))))
      if (rand(3) === 0) base = base.replace(/=+$/, '')
      if (rand(4) === 0) base = base.replaceAll('+', '-').replaceAll('/', '_')
      if (!expectAsReference(mutate(base, rand, alphabet)).startsWith('error')) accepted++
    }
    expect(accepted).toBeGreaterThan(500) // both outcomes exercised
  })
})

/** A seeded linear congruential generator: `rand(n)` in [0, n). */
function lcg(seed: number): (n: number) => number {
  return (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
}

/** Up to two random insertions, deletions or replacements of characters from `alphabet`. */
function mutate(base: string, rand: (n: number) => number, alphabet: string): string {
  const chars = [...base]
  for (let m = rand(3); m > 0; m--) {
    const at = rand(chars.length + 1)
    const op = rand(3)
    const c = alphabet[rand(alphabet.length)]!
    if (op === 0) chars.splice(at, 0, c)
    else if (op === 1) chars.splice(at, 1)
    else chars[at] = c
  }
  return chars.join('')
}

/** fromBase64 decodes (or refuses) `s` as the reference does, with and without whitespace allowed. */
function expectAsReference(s: string): string {
  const got = outcome(() => fromBase64(s))
  expect(got, JSON.stringify(s)).toBe(outcome(() => referenceFromBase64(s)))
  expect(
    outcome(() => fromBase64(s, { allowWhitespace: true })),
    JSON.stringify(s),
  ).toBe(outcome(() => referenceFromBase64(s, true)))
  return got
}
