/**
 * A minimal, bounds-checked DER reader and writer (X.690 distinguished encoding, definite lengths only).
 * Every read is checked against the buffer; anything malformed throws a {@link CountersignError} with the code the
 * caller chose (`ERR_INVALID_INPUT` by default, `ERR_KEY_INVALID` when the DER is a key). Never exported from the
 * package.
 *
 * @module
 */
import { CountersignError, type ErrorCode } from '../errors.js'
import { concat } from './bytes.js'

/** Universal tags used by the key formats. */
export const TAG = {
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const

/** Tag byte of a context-specific `[n]` element; keys use constructed `[0]`/`[1]` wrappers. */
export function contextTag(n: number, constructed = true): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError('context tag number must be 0..30')
  return 0x80 | (constructed ? 0x20 : 0) | n
}

/** How failures are reported while reading one DER structure. */
export interface DERContext {
  /** Error code for malformed input (default `ERR_INVALID_INPUT`). */
  readonly code?: ErrorCode
  /** What is being parsed, for messages (default `DER`). */
  readonly what?: string
}

/** One decoded TLV. `raw` is the whole element (header included), `value` its contents. */
export interface DERNode {
  readonly tag: number
  readonly value: Uint8Array
  readonly raw: Uint8Array
  readonly context: Required<DERContext>
}

function fail(ctx: Required<DERContext>, reason: string): never {
  throw new CountersignError(ctx.code, `${ctx.what} is malformed: ${reason}`)
}

function fullContext(ctx?: DERContext): Required<DERContext> {
  return { code: ctx?.code ?? 'ERR_INVALID_INPUT', what: ctx?.what ?? 'DER' }
}

/** Read one TLV at `offset`; returns the node and the offset just after it. */
function readTLV(bytes: Uint8Array, offset: number, ctx: Required<DERContext>): { node: DERNode; end: number } {
  if (offset + 2 > bytes.length) fail(ctx, 'truncated header')
  const tag = bytes[offset]!
  // Multi-byte (high) tag numbers never occur in the structures we read.
  if ((tag & 0x1f) === 0x1f) fail(ctx, 'unsupported high tag number')
  const first = bytes[offset + 1]!
  let length: number
  let header = 2
  if (first < 0x80) {
    length = first
  } else if (first === 0x80) {
    fail(ctx, 'indefinite length is not allowed in DER')
  } else {
    const n = first & 0x7f
    // 4 length bytes already allow 4 GiB; anything larger is hostile.
    if (n > 4) fail(ctx, 'length too large')
    if (offset + 2 + n > bytes.length) fail(ctx, 'truncated length')
    if (bytes[offset + 2] === 0) fail(ctx, 'non-minimal length')
    length = 0
    for (let i = 0; i < n; i++) length = length * 256 + bytes[offset + 2 + i]!
    if (length < 0x80) fail(ctx, 'non-minimal length')
    header += n
  }
  const start = offset + header
  const end = start + length
  if (end > bytes.length) fail(ctx, 'truncated value')
  return {
    node: { tag, value: bytes.subarray(start, end), raw: bytes.subarray(offset, end), context: ctx },
    end,
  }
}

/**
 * Parse `bytes` as exactly one DER element; trailing bytes are an error (as in Go's x509 parsers).
 */
export function parseDER(bytes: Uint8Array, context?: DERContext): DERNode {
  const ctx = fullContext(context)
  const { node, end } = readTLV(bytes, 0, ctx)
  if (end !== bytes.length) fail(ctx, 'trailing data')
  return node
}

/** The elements inside a constructed node (SEQUENCE, SET, constructed context tag). */
export function readChildren(node: DERNode): DERNode[] {
  if ((node.tag & 0x20) === 0) fail(node.context, `tag 0x${node.tag.toString(16)} is not constructed`)
  const out: DERNode[] = []
  let offset = 0
  while (offset < node.value.length) {
    const { node: child, end } = readTLV(node.value, offset, node.context)
    out.push(child)
    offset = end
  }
  return out
}

/** Assert the node's tag. */
export function expectTag(node: DERNode | undefined, tag: number, name: string, context?: DERContext): DERNode {
  if (node === undefined) fail(fullContext(context), `missing ${name}`)
  if (node.tag !== tag) fail(node.context, `expected ${name}`)
  return node
}

/** The children of a SEQUENCE. */
export function readSequence(node: DERNode | undefined, name = 'SEQUENCE', context?: DERContext): DERNode[] {
  return readChildren(expectTag(node, TAG.SEQUENCE, name, context))
}

function integerContent(node: DERNode | undefined, name: string, context?: DERContext): Uint8Array {
  const n = expectTag(node, TAG.INTEGER, name, context)
  const v = n.value
  if (v.length === 0) fail(n.context, `empty ${name}`)
  // DER integers are minimal: no redundant 0x00 or 0xff prefix byte.
  if (v.length > 1 && ((v[0] === 0 && v[1]! < 0x80) || (v[0] === 0xff && v[1]! >= 0x80))) {
    fail(n.context, `non-minimal ${name}`)
  }
  return v
}

/** A DER INTEGER as a bigint (two's complement, minimal encoding required). */
export function readInteger(node: DERNode | undefined, name = 'INTEGER', context?: DERContext): bigint {
  const v = integerContent(node, name, context)
  let x = 0n
  for (const b of v) x = (x << 8n) | BigInt(b)
  if (v[0]! >= 0x80) x -= 1n << BigInt(v.length * 8)
  return x
}

/** A small non-negative INTEGER (versions, exponents) as a number. */
export function readSmallInteger(node: DERNode | undefined, name = 'INTEGER', context?: DERContext): number {
  const x = readInteger(node, name, context)
  if (x < 0n || x > BigInt(Number.MAX_SAFE_INTEGER)) fail(node!.context, `${name} out of range`)
  return Number(x)
}

/** The magnitude of a non-negative INTEGER, big-endian with no leading zero byte (empty for zero). */
export function readUnsignedInteger(node: DERNode | undefined, name = 'INTEGER', context?: DERContext): Uint8Array {
  const v = integerContent(node, name, context)
  if (v[0]! >= 0x80) fail(node!.context, `negative ${name}`)
  let i = 0
  while (i < v.length && v[i] === 0) i++
  return v.subarray(i)
}

/** A dotted OBJECT IDENTIFIER. */
export function readOID(node: DERNode | undefined, name = 'OBJECT IDENTIFIER', context?: DERContext): string {
  const n = expectTag(node, TAG.OID, name, context)
  const v = n.value
  if (v.length === 0) fail(n.context, `empty ${name}`)
  const arcs: number[] = []
  let acc = 0
  let started = false
  for (let i = 0; i < v.length; i++) {
    const b = v[i]!
    // A leading 0x80 would be a non-minimal base-128 digit.
    if (!started && b === 0x80) fail(n.context, `non-minimal ${name}`)
    started = true
    acc = acc * 128 + (b & 0x7f)
    if (acc > Number.MAX_SAFE_INTEGER) fail(n.context, `${name} arc too large`)
    if ((b & 0x80) === 0) {
      arcs.push(acc)
      acc = 0
      started = false
    }
  }
  if (started) fail(n.context, `truncated ${name}`)
  const first = arcs[0]!
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80]
  return [...head, ...arcs.slice(1)].join('.')
}

/** A BIT STRING's bytes; `unusedBits` must be 0 unless allowed. */
export function readBitString(
  node: DERNode | undefined,
  name = 'BIT STRING',
  context?: DERContext,
): { readonly unusedBits: number; readonly bytes: Uint8Array } {
  const n = expectTag(node, TAG.BIT_STRING, name, context)
  const v = n.value
  if (v.length === 0) fail(n.context, `empty ${name}`)
  const unusedBits = v[0]!
  if (unusedBits > 7 || (v.length === 1 && unusedBits !== 0)) fail(n.context, `invalid ${name} padding`)
  // DER requires the unused trailing bits to be zero.
  if (unusedBits > 0 && (v[v.length - 1]! & ((1 << unusedBits) - 1)) !== 0) fail(n.context, `invalid ${name} padding`)
  return { unusedBits, bytes: v.subarray(1) }
}

/** A BIT STRING that must be whole bytes (keys, signatures). */
export function readOctetAlignedBitString(
  node: DERNode | undefined,
  name = 'BIT STRING',
  context?: DERContext,
): Uint8Array {
  const { unusedBits, bytes } = readBitString(node, name, context)
  if (unusedBits !== 0) fail(node!.context, `${name} is not octet-aligned`)
  return bytes
}

/** An OCTET STRING's contents. */
export function readOctetString(node: DERNode | undefined, name = 'OCTET STRING', context?: DERContext): Uint8Array {
  return expectTag(node, TAG.OCTET_STRING, name, context).value
}

/** Assert a NULL. */
export function readNull(node: DERNode | undefined, name = 'NULL', context?: DERContext): void {
  const n = expectTag(node, TAG.NULL, name, context)
  if (n.value.length !== 0) fail(n.context, `non-empty ${name}`)
}

// ---------------------------------------------------------------------------------------------------------------
// Writer

/** DER length octets. */
export function encodeLength(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('invalid DER length')
  if (n < 0x80) return Uint8Array.of(n)
  const bytes: number[] = []
  for (let x = n; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

/** One TLV with the given tag around the concatenated contents. */
export function encodeTLV(tag: number, ...contents: readonly Uint8Array[]): Uint8Array {
  const body = concat(...contents)
  return concat(Uint8Array.of(tag), encodeLength(body.length), body)
}

/** SEQUENCE of already-encoded elements. */
export function encodeSequence(...elements: readonly Uint8Array[]): Uint8Array {
  return encodeTLV(TAG.SEQUENCE, ...elements)
}

/**
 * INTEGER from a bigint/number, or from an unsigned big-endian magnitude (leading zeros are stripped and a 0x00 is
 * added when the high bit is set, so the value stays positive).
 */
export function encodeInteger(value: bigint | number | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) {
    let i = 0
    while (i < value.length - 1 && value[i] === 0) i++
    const mag = value.length === 0 ? Uint8Array.of(0) : value.subarray(i)
    return encodeTLV(TAG.INTEGER, mag[0]! >= 0x80 ? concat(Uint8Array.of(0), mag) : mag)
  }
  let x = BigInt(value)
  const bytes: number[] = []
  if (x >= 0n) {
    do {
      bytes.unshift(Number(x & 0xffn))
      x >>= 8n
    } while (x > 0n)
    if (bytes[0]! >= 0x80) bytes.unshift(0)
  } else {
    do {
      bytes.unshift(Number(x & 0xffn))
      x >>= 8n
    } while (x < -1n)
    if (bytes[0]! < 0x80) bytes.unshift(0xff)
  }
  return encodeTLV(TAG.INTEGER, Uint8Array.from(bytes))
}

/** OBJECT IDENTIFIER from dotted notation. */
export function encodeOID(oid: string): Uint8Array {
  if (!/^[0-2](\.(0|[1-9][0-9]*))+$/.test(oid)) throw new RangeError(`invalid OID: ${oid}`)
  const arcs = oid.split('.').map(Number)
  if (arcs[0]! < 2 && arcs[1]! >= 40) throw new RangeError(`invalid OID: ${oid}`)
  const values = [arcs[0]! * 40 + arcs[1]!, ...arcs.slice(2)]
  const out: number[] = []
  for (const v of values) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`invalid OID: ${oid}`)
    const digits: number[] = []
    let x = v
    do {
      digits.unshift(x % 128)
      x = Math.floor(x / 128)
    } while (x > 0)
    for (let i = 0; i < digits.length; i++) out.push(digits[i]! | (i < digits.length - 1 ? 0x80 : 0))
  }
  return encodeTLV(TAG.OID, Uint8Array.from(out))
}

/** OCTET STRING. */
export function encodeOctetString(bytes: Uint8Array): Uint8Array {
  return encodeTLV(TAG.OCTET_STRING, bytes)
}

/** BIT STRING (whole bytes unless `unusedBits` is given). */
export function encodeBitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError('invalid BIT STRING padding')
  }
  return encodeTLV(TAG.BIT_STRING, Uint8Array.of(unusedBits), bytes)
}

/** NULL. */
export function encodeNull(): Uint8Array {
  return Uint8Array.of(TAG.NULL, 0)
}

/** Context-specific `[n]` element; constructed (explicit wrapper) by default. */
export function encodeContext(n: number, content: Uint8Array, constructed = true): Uint8Array {
  return encodeTLV(contextTag(n, constructed), content)
}
