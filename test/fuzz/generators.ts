/**
 * Input generators for the fuzz targets (issue 14): (a) mutations of valid seeds over bytes or text, (b) structured
 * mutations of a seed's JSON, (c) plain random input. Seeds are real, valid inputs (test/vectors, test/support,
 * test/admission/fixtures), so most mutants get past the first parser and reach the checks behind it.
 *
 * Positions and lengths are drawn as naturals and reduced modulo the current length when applied, so one plan fits
 * any seed and fast-check can shrink it towards "fewer, earlier, shorter" edits.
 *
 * @module
 */
import fc from 'fast-check'

const enc = new TextEncoder()
const dec = new TextDecoder()

/** Bytes that make parsers change state: JSON and PEM punctuation, DER tags and lengths, 0, 0x7f/0x80, 0xff. */
const INTERESTING_BYTES = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x20, 0x22, 0x2c, 0x2d, 0x2f,
  0x30, 0x31, 0x3a, 0x3d, 0x40, 0x5b, 0x5c, 0x5d, 0x7b, 0x7d, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x88, 0xa0, 0xa3,
  0xc0, 0xe0, 0xfe, 0xff,
]

/** Characters that separate or escape things in references, PEM, YAML and JSON, plus awkward Unicode. */
const INTERESTING_CHARS = [
  ':',
  '/',
  '@',
  '.',
  '-',
  '_',
  '[',
  ']',
  '{',
  '}',
  '"',
  "'",
  '\\',
  ' ',
  '\t',
  '\n',
  '\r',
  '\0',
  '#',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '=',
  '+',
  '~',
  '<<',
  '---',
  '-----',
  'é',
  'İ',
  'K', // Kelvin sign: lower-cases to ASCII k
  'ſ', // long s: upper-cases to ASCII S
  '\u200b',
  '\ufeff',
  '\ud800', // lone surrogate
  '\udfff',
  '😀',
]

/** One edit of a unit sequence (bytes or UTF-16 code units). */
export type UnitOp =
  | { readonly k: 'flip'; readonly at: number; readonly mask: number }
  | { readonly k: 'set'; readonly at: number; readonly pick: number }
  | { readonly k: 'insert'; readonly at: number; readonly units: readonly number[] }
  | { readonly k: 'delete'; readonly at: number; readonly len: number }
  | { readonly k: 'duplicate'; readonly from: number; readonly len: number; readonly to: number }
  | { readonly k: 'truncate'; readonly at: number }
  | { readonly k: 'splice'; readonly other: number; readonly at: number; readonly otherAt: number }

const pos = fc.nat({ max: 0x7fffffff })
/** Range lengths: mostly short, sometimes long (a whole DER element, a PEM line, half a document). */
const span = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 16 }) }, fc.integer({ min: 1, max: 4096 }))

function unitOp(kind: 'bytes' | 'text'): fc.Arbitrary<UnitOp> {
  const unit =
    kind === 'bytes'
      ? fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...INTERESTING_BYTES))
      : fc.oneof(
          fc.integer({ min: 0, max: 0xffff }),
          fc.integer({ min: 0x20, max: 0x7e }),
          fc.constantFrom(...INTERESTING_CHARS.flatMap((c) => [...c].map((x) => x.charCodeAt(0)))),
        )
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ k: fc.constant('flip' as const), at: pos, mask: fc.integer({ min: 1, max: 255 }) }),
    },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('set' as const), at: pos, pick: pos }) },
    {
      weight: 2,
      arbitrary: fc.record({
        k: fc.constant('insert' as const),
        at: pos,
        units: fc.array(unit, { minLength: 1, maxLength: 24 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ k: fc.constant('delete' as const), at: pos, len: span }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('duplicate' as const), from: pos, len: span, to: pos }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('truncate' as const), at: pos }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('splice' as const), other: pos, at: pos, otherAt: pos }) },
  )
}

/** Apply `ops` to `units` (not modified). `others` are the seeds a splice may take its tail from. */
export function applyUnitOps(
  units: ArrayLike<number>,
  ops: readonly UnitOp[],
  others: readonly ArrayLike<number>[],
  kind: 'bytes' | 'text',
): number[] {
  let a = Array.from(units)
  const interesting = kind === 'bytes' ? INTERESTING_BYTES : INTERESTING_CHARS.map((c) => c.charCodeAt(0))
  for (const op of ops) {
    const n = a.length
    switch (op.k) {
      case 'flip':
        if (n > 0) a[op.at % n] = (a[op.at % n]! ^ op.mask) & (kind === 'bytes' ? 0xff : 0xffff)
        break
      case 'set':
        if (n > 0) a[op.at % n] = interesting[op.pick % interesting.length]!
        break
      case 'insert':
        a.splice(op.at % (n + 1), 0, ...op.units)
        break
      case 'delete':
        if (n > 0) a.splice(op.at % n, op.len)
        break
      case 'duplicate': {
        if (n === 0) break
        const from = op.from % n
        const piece = a.slice(from, from + op.len)
        const to = op.to % (n + 1)
        a = [...a.slice(0, to), ...piece, ...a.slice(to)]
        break
      }
      case 'truncate':
        a = a.slice(0, op.at % (n + 1))
        break
      case 'splice': {
        if (others.length === 0) break
        const b = others[op.other % others.length]!
        a = [...a.slice(0, op.at % (n + 1)), ...Array.from(b).slice(op.otherAt % (b.length + 1))]
        break
      }
    }
  }
  return a
}

const unitOps = (kind: 'bytes' | 'text') => fc.array(unitOp(kind), { minLength: 1, maxLength: 6 })

/** Code units of a string, and back (in chunks: `String.fromCharCode(...a)` overflows the stack on long input). */
export function codeUnits(s: string): number[] {
  const out = new Array<number>(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}
export function fromCodeUnits(a: readonly number[]): string {
  let s = ''
  for (let i = 0; i < a.length; i += 8192) s += String.fromCharCode(...a.slice(i, i + 8192))
  return s
}

/** A fuzz input derived from seed number `seed` (or from none: `seed` is -1 for plain random input). */
export interface Mutant<T> {
  readonly how: string
  readonly seed: number
  readonly value: T
}

/** (a) Byte-level mutants of `seeds`: flips, inserts, deletes, duplicated ranges, truncation, splices. */
export function byteMutants(seeds: readonly Uint8Array[]): fc.Arbitrary<Mutant<Uint8Array>> {
  return fc.record({ seed: fc.nat({ max: seeds.length - 1 }), ops: unitOps('bytes') }).map(({ seed, ops }) => ({
    how: `bytes ${ops.map((o) => o.k).join(',')}`,
    seed,
    value: Uint8Array.from(applyUnitOps(seeds[seed]!, ops, seeds, 'bytes')),
  }))
}

/** (a) Text-level mutants of `seeds` (UTF-16 code units, so lone surrogates and odd Unicode appear too). */
export function textMutants(seeds: readonly string[]): fc.Arbitrary<Mutant<string>> {
  const units = seeds.map(codeUnits)
  return fc.record({ seed: fc.nat({ max: seeds.length - 1 }), ops: unitOps('text') }).map(({ seed, ops }) => ({
    how: `text ${ops.map((o) => o.k).join(',')}`,
    seed,
    value: fromCodeUnits(applyUnitOps(units[seed]!, ops, units, 'text')),
  }))
}

// ---------------------------------------------------------------------------------------------------------------
// (b) Structured JSON mutations

type Path = readonly (string | number)[]
type JSONish = unknown

/** Every path in `doc` (root first), walked with an explicit stack; at most `limit` of them. */
export function jsonPaths(doc: JSONish, limit = 4000): Path[] {
  const out: Path[] = []
  const stack: { v: JSONish; p: Path }[] = [{ v: doc, p: [] }]
  while (stack.length > 0 && out.length < limit) {
    const { v, p } = stack.pop()!
    out.push(p)
    if (Array.isArray(v)) for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], p: [...p, i] })
    else if (v !== null && typeof v === 'object')
      for (const k of Object.keys(v).reverse()) stack.push({ v: (v as Record<string, unknown>)[k], p: [...p, k] })
  }
  return out
}

function getAt(doc: JSONish, path: Path): { found: boolean; value: JSONish } {
  let v = doc
  for (const k of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return { found: false, value: undefined }
    v = (v as Record<string | number, unknown>)[k]
  }
  return { found: true, value: v }
}

/** Replace the value at `path` (the root when empty) and return the new document. */
function setAt(doc: JSONish, path: Path, value: JSONish): JSONish {
  if (path.length === 0) return value
  const parent = getAt(doc, path.slice(0, -1)).value as Record<string | number, unknown>
  parent[path[path.length - 1]!] = value
  return doc
}

function deleteAt(doc: JSONish, path: Path): JSONish {
  if (path.length === 0) return undefined
  const parent = getAt(doc, path.slice(0, -1)).value
  const k = path[path.length - 1]!
  if (Array.isArray(parent)) parent.splice(k as number, 1)
  else delete (parent as Record<string, unknown>)[k as string]
  return doc
}

/** `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels, built without recursion. */
export function deepValue(depth: number, kind: 'array' | 'object', leaf: JSONish = 1): JSONish {
  let v: JSONish = kind === 'array' ? [leaf] : { a: leaf }
  for (let i = 1; i < depth; i++) v = kind === 'array' ? [v] : { a: v }
  return v
}

/** A copy of `v` whose first decimal-string leaf (a log index, a size) is increased by `i`. */
function distinctCopy(v: JSONish, i: number): JSONish {
  const copy = structuredClone(v)
  for (const p of jsonPaths(copy, 200)) {
    const leaf = getAt(copy, p).value
    if (typeof leaf === 'string' && /^[0-9]{1,15}$/.test(leaf)) return setAt(copy, p, String(Number(leaf) + i))
    if (typeof leaf === 'number' && p.length > 0) return setAt(copy, p, leaf + i)
  }
  return copy
}

/** Values of the wrong type (or the right type at an edge) for any field. */
const WRONG_TYPES: readonly JSONish[] = [
  0,
  -1,
  1.5,
  2 ** 53 + 2,
  1e308,
  -0,
  '',
  '0',
  '-1',
  'true',
  'null',
  '18446744073709551616',
  '1e999',
  '====',
  'AAAA',
  true,
  false,
  null,
  [],
  {},
  [[]],
  { '': null },
  [null],
  ['', ''],
]

/** One structural edit; `pick` chooses the path (modulo the number of paths of the current document). */
export type JSONOp =
  | { readonly k: 'replace'; readonly pick: number; readonly with: JSONish }
  | { readonly k: 'delete'; readonly pick: number }
  | { readonly k: 'duplicate'; readonly pick: number }
  | { readonly k: 'dupKey'; readonly pick: number; readonly with: JSONish }
  | { readonly k: 'deep'; readonly pick: number; readonly depth: number; readonly kind: 'array' | 'object' }
  | { readonly k: 'huge'; readonly pick: number; readonly length: number; readonly char: string }
  | { readonly k: 'wide'; readonly pick: number; readonly length: number }
  | { readonly k: 'wrongType'; readonly pick: number; readonly v: number }
  | { readonly k: 'swap'; readonly pick: number; readonly other: number; readonly otherPick: number }
  | { readonly k: 'rename'; readonly pick: number; readonly how: number }
  | { readonly k: 'leaf'; readonly pick: number; readonly ops: readonly UnitOp[] }

const jsonOp: fc.Arbitrary<JSONOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('replace' as const), pick: pos, with: fc.jsonValue({ maxDepth: 3 }) }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('delete' as const), pick: pos }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('duplicate' as const), pick: pos }) },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constant('dupKey' as const), pick: pos, with: fc.jsonValue({ maxDepth: 2 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('deep' as const),
      pick: pos,
      depth: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 300, max: 5000 })),
      kind: fc.constantFrom('array' as const, 'object' as const),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('huge' as const),
      pick: pos,
      length: fc.oneof(fc.integer({ min: 1000, max: 70_000 }), fc.constantFrom(1 << 20, 3 << 20)),
      char: fc.constantFrom('A', 'a', '0', '/', '\\', 'é', '\u0000', '\ud83d\ude00'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('wide' as const),
      pick: pos,
      length: fc.integer({ min: 100, max: 200_000 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('wrongType' as const), pick: pos, v: pos }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('swap' as const), pick: pos, other: pos, otherPick: pos }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rename' as const), pick: pos, how: pos }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('leaf' as const), pick: pos, ops: unitOps('bytes') }) },
)

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const HEX = /^[0-9a-fA-F]+$/

/** Mutate a string leaf as the bytes it encodes (base64, hex) when it is an encoding, else as its UTF-8 text. */
function mutateLeaf(s: string, ops: readonly UnitOp[]): string {
  if (s.length >= 8 && s.length % 4 === 0 && BASE64.test(s)) {
    const bytes = Buffer.from(s, 'base64')
    return Buffer.from(applyUnitOps(bytes, ops, [], 'bytes')).toString('base64')
  }
  if (s.length >= 16 && s.length % 2 === 0 && HEX.test(s)) {
    return Buffer.from(applyUnitOps(Buffer.from(s, 'hex'), ops, [], 'bytes')).toString('hex')
  }
  return dec.decode(Uint8Array.from(applyUnitOps(enc.encode(s), ops, [], 'bytes')))
}

const RENAMES: readonly ((k: string) => string)[] = [
  (k) => k.toUpperCase(),
  (k) => k.charAt(0).toUpperCase() + k.slice(1),
  (k) => `${k} `,
  (k) => `${k}\u0000`,
  (k) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
  (k) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
  () => '__proto__',
  () => 'constructor',
  () => '',
]

/** Marker for a duplicated key: JSON.stringify writes it as this string, replaced by two members afterwards. */
const DUP = '\u0000countersign-dup-'
/** Placeholder for a deeply nested value, replaced in the text by `[[[…]]]` or `{"a":{"a":…}}`. */
const DEEP = '\u0000countersign-deep'

/** Apply `ops` to a fresh copy of `seeds[seed]`; returns the document and JSON text (which may repeat keys). */
export function applyJSONOps(
  seeds: readonly JSONish[],
  seed: number,
  ops: readonly JSONOp[],
): { value: JSONish; text: string } {
  let doc = structuredClone(seeds[seed])
  const dups: { key: string; first: JSONish; second: JSONish }[] = []
  let deep: { path: Path; depth: number; kind: 'array' | 'object'; leaf: JSONish } | undefined
  for (const op of ops) {
    if (deep !== undefined) break
    const paths = jsonPaths(doc)
    const path = paths[op.pick % paths.length]!
    const current = getAt(doc, path).value
    switch (op.k) {
      case 'replace':
        doc = setAt(doc, path, op.with)
        break
      case 'delete':
        doc = deleteAt(doc, path)
        break
      case 'duplicate': {
        const parent = path.length > 0 ? getAt(doc, path.slice(0, -1)).value : undefined
        if (Array.isArray(parent)) parent.splice(path[path.length - 1] as number, 0, structuredClone(current))
        else doc = setAt(doc, path, [current, structuredClone(current)])
        break
      }
      case 'dupKey': {
        const parent = path.length > 0 ? getAt(doc, path.slice(0, -1)).value : undefined
        const key = path[path.length - 1]
        if (typeof key !== 'string' || parent === null || typeof parent !== 'object' || Array.isArray(parent)) break
        // Either order: a reader keeping the first member and one keeping the last see different documents.
        const first = op.pick % 2 === 0 ? current : op.with
        const second = op.pick % 2 === 0 ? op.with : current
        ;(parent as Record<string, unknown>)[key] = `${DUP}${dups.length}`
        dups.push({ key, first, second })
        break
      }
      case 'deep':
        // Serialised by hand below (JSON.stringify recurses), and the last edit (so nothing walks it here).
        deep = { path, depth: op.depth, kind: op.kind, leaf: typeof current === 'object' ? null : current }
        doc = setAt(doc, path, DEEP)
        break
      case 'huge':
        doc = setAt(doc, path, op.char.repeat(Math.ceil(op.length / op.char.length)))
        break
      case 'wide': {
        const first = Array.isArray(current) ? current[0] : 0
        // Bounded by serialised size as well (about 16 MB): after a 'huge' edit, 200,000 copies of a 3 MiB string
        // (or 4,000 of an object holding one) would exhaust the fuzzer's own heap before the target sees anything.
        const size = Math.max(1, (JSON.stringify(first) ?? 'null').length)
        const copies = Math.max(1, Math.min(op.length, Math.floor(16_000_000 / size)))
        // Objects are copied apart (an index-like field counts up) so that de-duplication does not end the walk
        // early: many distinct entries, as an attacker would send. Fewer of them, since each is a whole document.
        doc =
          first !== null && typeof first === 'object'
            ? setAt(
                doc,
                path,
                Array.from({ length: Math.min(copies, 4000) }, (_, i) => distinctCopy(first, i)),
              )
            : setAt(
                doc,
                path,
                Array.from({ length: copies }, () => first),
              )
        break
      }
      case 'wrongType':
        doc = setAt(doc, path, structuredClone(WRONG_TYPES[op.v % WRONG_TYPES.length]))
        break
      case 'swap': {
        const otherDoc = seeds[op.other % seeds.length]
        const same = getAt(otherDoc, path)
        const otherPaths = jsonPaths(otherDoc)
        const replacement = same.found
          ? same.value
          : getAt(otherDoc, otherPaths[op.otherPick % otherPaths.length]!).value
        doc = setAt(doc, path, structuredClone(replacement))
        break
      }
      case 'rename': {
        const parent = path.length > 0 ? getAt(doc, path.slice(0, -1)).value : undefined
        const key = path[path.length - 1]
        if (typeof key !== 'string' || parent === null || typeof parent !== 'object' || Array.isArray(parent)) break
        const renamed = RENAMES[op.how % RENAMES.length]!(key)
        const obj = parent as Record<string, unknown>
        delete obj[key]
        Object.defineProperty(obj, renamed, { value: current, enumerable: true, writable: true, configurable: true })
        break
      }
      case 'leaf':
        if (typeof current === 'string') doc = setAt(doc, path, mutateLeaf(current, op.ops))
        else if (typeof current === 'number') doc = setAt(doc, path, current + (op.ops.length % 2 === 0 ? 1 : -1))
        break
    }
  }
  let text = JSON.stringify(doc) ?? 'null'
  dups.forEach((d, i) => {
    const key = JSON.stringify(d.key)
    const marker = `${key}:${JSON.stringify(`${DUP}${i}`)}`
    const both = `${key}:${JSON.stringify(d.first) ?? 'null'},${key}:${JSON.stringify(d.second) ?? 'null'}`
    text = text.replace(marker, () => both)
  })
  let value = doc
  if (deep !== undefined) {
    const leaf = JSON.stringify(deep.leaf) ?? 'null'
    const nested =
      deep.kind === 'array'
        ? `${'['.repeat(deep.depth)}${leaf}${']'.repeat(deep.depth)}`
        : `${'{"a":'.repeat(deep.depth)}${leaf}${'}'.repeat(deep.depth)}`
    text = text.replace(JSON.stringify(DEEP), () => nested)
    value = setAt(value, deep.path, deepValue(deep.depth, deep.kind, deep.leaf))
  }
  // The parsed document a caller handing over objects would pass: a duplicated key keeps its last member.
  if (dups.length > 0) value = safeParse(text, value)
  return { value, text }
}

function safeParse(text: string, fallback: JSONish): JSONish {
  try {
    return JSON.parse(text)
  } catch {
    return fallback
  }
}

/** A structured mutant: the edited document, and its JSON text (what a caller handing over bytes would send). */
export interface JSONMutant {
  readonly how: string
  readonly seed: number
  readonly value: JSONish
  readonly text: string
  /** Pass the decoded value (true) or the text/bytes (false) to an entry point that takes either. */
  readonly asValue: boolean
}

/** (b) Structured mutants of the JSON documents `seeds`: 1–3 edits at random paths. */
export function jsonMutants(seeds: readonly JSONish[]): fc.Arbitrary<JSONMutant> {
  return fc
    .record({
      seed: fc.nat({ max: seeds.length - 1 }),
      ops: fc.array(jsonOp, { minLength: 1, maxLength: 3 }),
      asValue: fc.boolean(),
    })
    .map(({ seed, ops, asValue }) => ({
      how: `json ${ops.map((o) => o.k).join(',')}`,
      seed,
      asValue,
      ...applyJSONOps(seeds, seed, ops),
    }))
}

/** (c) Plain random bytes: raw, UTF-8 text, or random JSON. */
export function randomBytes(): fc.Arbitrary<Mutant<Uint8Array>> {
  return fc
    .oneof(
      fc.uint8Array({ maxLength: 2048 }),
      fc.string({ unit: 'binary', maxLength: 512 }).map((s) => enc.encode(s)),
      fc.jsonValue().map((v) => enc.encode(JSON.stringify(v))),
    )
    .map((value) => ({ how: 'random', seed: -1, value }))
}

/** (c) Plain random strings, from ASCII to lone surrogates. */
export function randomText(): fc.Arbitrary<Mutant<string>> {
  return fc
    .oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: fc.constantFrom(...INTERESTING_CHARS), maxLength: 64 }),
      fc.string({ unit: 'grapheme', maxLength: 64 }),
    )
    .map((value) => ({ how: 'random', seed: -1, value }))
}

export const utf8 = (s: string): Uint8Array => enc.encode(s)

/**
 * A document input: always its bytes; `value` too when a structured mutant is to be handed over decoded (for entry
 * points taking bytes or a parsed value).
 */
export interface DocumentInput {
  readonly how: string
  /** Index of the seed it came from; -1 for plain random input. */
  readonly seed: number
  readonly bytes: Uint8Array
  readonly value?: unknown
}

/** All three generators over the same seeds: byte mutants, structured mutants, random bytes. */
export function documentInputs(
  seeds: readonly Uint8Array[],
  options: { readonly json?: readonly unknown[]; readonly decoded?: boolean } = {},
): fc.Arbitrary<DocumentInput> {
  const json = options.json ?? seeds.map((b) => JSON.parse(dec.decode(b)))
  const decoded = options.decoded ?? true
  return fc.oneof(
    { weight: 4, arbitrary: byteMutants(seeds).map((m) => ({ how: m.how, seed: m.seed, bytes: m.value })) },
    {
      weight: 5,
      arbitrary: jsonMutants(json).map((m) => ({
        how: `${m.how}${decoded && m.asValue ? ' (decoded)' : ''}`,
        seed: m.seed,
        bytes: enc.encode(m.text),
        ...(decoded && m.asValue ? { value: m.value } : {}),
      })),
    },
    { weight: 1, arbitrary: randomBytes().map((m) => ({ how: m.how, seed: m.seed, bytes: m.value })) },
  )
}

/** What to pass to an entry point taking bytes or a decoded value. */
export function documentOf(input: DocumentInput): unknown {
  return 'value' in input ? input.value : input.bytes
}
