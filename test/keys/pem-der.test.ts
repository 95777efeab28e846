import { describe, expect, it } from 'vitest'
import { fromHex, toHex, utf8 } from '../../src/internal/bytes.js'
import {
  encodeBitString,
  encodeContext,
  encodeInteger,
  encodeLength,
  encodeOID,
  encodeSequence,
  parseDER,
  readBitString,
  readChildren,
  readInteger,
  readOID,
  readSequence,
} from '../../src/internal/der.js'
import { decodePEM, decodePEMBlocks, encodePEM } from '../../src/internal/pem.js'
import { vectorText } from './vectors.js'

describe('PEM', () => {
  it('encodes like Go pem.EncodeToMemory (64-char lines, trailing newline)', () => {
    for (const file of ['ec-p256.pub.pem', 'rsa-4096.pub.pem', 'rsa-2048.pkcs8.pem']) {
      const text = vectorText(`openssl/${file}`)
      const block = decodePEM(text)
      expect(encodePEM(block.label, block.bytes)).toBe(text)
    }
    expect(encodePEM('X', new Uint8Array(0))).toBe('-----BEGIN X-----\n-----END X-----\n')
  })

  it('decodes several blocks with CRLF, leading text and headers', () => {
    const text =
      'junk before\r\n-----BEGIN A-----\r\nAQID\r\n-----END A-----\r\nbetween\n' +
      '-----BEGIN B C-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: X\n\nBA==\n-----END B C-----\ntrailing'
    const blocks = decodePEMBlocks(text)
    expect(blocks.map((b) => b.label)).toEqual(['A', 'B C'])
    expect(blocks[0]!.bytes).toEqual(Uint8Array.of(1, 2, 3))
    expect(blocks[1]!.headers).toEqual({ 'Proc-Type': '4,ENCRYPTED', 'DEK-Info': 'X' })
    expect(blocks[1]!.bytes).toEqual(Uint8Array.of(4))
  })

  it.each([
    ['no block', 'hello'],
    ['missing END', '-----BEGIN A-----\nAQID\n'],
    ['mismatched END', '-----BEGIN A-----\nAQID\n-----END B-----\n'],
    ['bad base64 character', '-----BEGIN A-----\nAQ*D\n-----END A-----\n'],
    ['bad base64 length', '-----BEGIN A-----\nAQI\n-----END A-----\n'],
  ])('rejects %s with ERR_INVALID_INPUT', (_, text) => {
    expect(() => decodePEM(text)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })
})

describe('DER', () => {
  it('encodes lengths minimally', () => {
    expect(toHex(encodeLength(0))).toBe('00')
    expect(toHex(encodeLength(127))).toBe('7f')
    expect(toHex(encodeLength(128))).toBe('8180')
    expect(toHex(encodeLength(256))).toBe('820100')
    expect(toHex(encodeLength(70000))).toBe('83011170')
  })

  it.each([
    [0n, '020100'],
    [127n, '02017f'],
    [128n, '02020080'],
    [256n, '02020100'],
    [-1n, '0201ff'],
    [-128n, '020180'],
    [-129n, '0202ff7f'],
  ])('INTEGER %s ⇄ %s', (value, hex) => {
    expect(toHex(encodeInteger(value))).toBe(hex)
    expect(readInteger(parseDER(fromHex(hex)))).toBe(value)
  })

  it('encodes unsigned magnitudes as positive integers', () => {
    expect(toHex(encodeInteger(Uint8Array.of(0, 0, 0x80)))).toBe('02020080')
    expect(toHex(encodeInteger(Uint8Array.of(0, 0)))).toBe('020100')
    expect(toHex(encodeInteger(new Uint8Array(0)))).toBe('020100')
  })

  it.each(['1.2.840.10045.3.1.7', '1.3.101.112', '1.2.840.113549.1.1.1', '2.999.3', '0.39', '2.5.29.17'])(
    'OID %s round-trips',
    (oid) => {
      expect(readOID(parseDER(encodeOID(oid)))).toBe(oid)
    },
  )

  it('encodes a known OID byte for byte', () => {
    expect(toHex(encodeOID('1.2.840.10045.2.1'))).toBe('06072a8648ce3d0201')
    expect(() => encodeOID('1.40')).toThrow(RangeError)
    expect(() => encodeOID('3.1')).toThrow(RangeError)
  })

  it.each([
    ['indefinite length', '3080'],
    ['non-minimal long length', '30810100'.padEnd(8 + 2, '0')],
    ['length with leading zero', '3082000100'],
    ['5-byte length', '30850000000001'],
    ['truncated value', '300500'],
    ['truncated header', '30'],
    ['high tag number', '1f0100'],
    ['trailing bytes', '30000000'],
  ])('rejects %s', (_, hex) => {
    expect(() => parseDER(fromHex(hex))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_INPUT' }))
  })

  it('rejects malformed primitives', () => {
    expect(() => readOID(parseDER(fromHex('0602808a')))).toThrow(/non-minimal/)
    expect(() => readOID(parseDER(fromHex('06022a86')))).toThrow(/truncated/)
    expect(() => readInteger(parseDER(fromHex('0200')))).toThrow(/empty/)
    expect(() => readInteger(parseDER(fromHex('0202ff80')))).toThrow(/non-minimal/)
    expect(() => readBitString(parseDER(fromHex('030108')))).toThrow(/padding/)
    expect(() => readBitString(parseDER(fromHex('030201ff')))).toThrow(/padding/)
    expect(readBitString(parseDER(fromHex('030201fe'))).unusedBits).toBe(1)
    expect(() => readChildren(parseDER(fromHex('0400')))).toThrow(/not constructed/)
  })

  it('reports the caller-chosen code and subject', () => {
    expect(() => parseDER(fromHex('3080'), { code: 'ERR_KEY_INVALID', what: 'public key' })).toThrow(
      expect.objectContaining({ code: 'ERR_KEY_INVALID', message: expect.stringMatching(/^public key is malformed/) }),
    )
  })

  it('iterates nested sequences and context tags', () => {
    const der = encodeSequence(encodeInteger(1), encodeContext(1, encodeBitString(utf8('hi'))), encodeSequence())
    const [a, b, c] = readSequence(parseDER(der))
    expect(readInteger(a)).toBe(1n)
    expect(b!.tag).toBe(0xa1)
    expect(readBitString(readChildren(b!)[0]).bytes).toEqual(utf8('hi'))
    expect(readSequence(c)).toEqual([])
  })
})
