/**
 * Mutation: every valid bundle case of test/vectors/bundles (the cases without `_fail`) is changed one field at a time
 * and verified with the case's own options (test/support/bundle-cases.ts). Kinds of mutant:
 *
 * - `flip`: one bit of a base64 field's bytes, or of the checkpoint note (body, signer name, key hint, signature);
 * - `swap`: a field (leaf or subtree) replaced by the same field of another case;
 * - `delete`: an object member or a list element removed;
 * - `oneof`: a second alternative of a protobuf oneof added before or after the present one (verificationMaterial
 *   publicKey / certificate / x509CertificateChain; content dsseEnvelope / messageSignature);
 * - `value`: an enum or string changed (mediaType, messageDigest.algorithm truncated / unknown / another,
 *   kindVersion, payloadType, hint, keyid) or an int64 moved by one (logIndex, integratedTime, treeSize).
 *
 * Every mutant must be rejected, except the (case, mutation) pairs listed in {@link EXPLAINED}, each with the reason
 * it is harmless, a check that the reason holds for that case and, where one exists, a stricter setting under which
 * the same mutant is rejected (showing the changed part is really not counted). A listed pair that is no longer
 * accepted fails too, so the list stays exact. Mutants equal to the original after normalisation (base64 re-encoded,
 * protojson defaults dropped) are the same bundle: counted as identical, not verified.
 *
 * The default profile keeps CI within a minute (one flip per field and checkpoint region, one swap donor per field,
 * a Web Crypto cross-check of every 25th mutant). `COUNTERSIGN_MUTATION_PROFILE=full` runs 24 flips per field and
 * region, every donor, and both backends on every mutant; `COUNTERSIGN_MUTATION_REPORT=1` prints every accepted one.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { fromBase64, toBase64 } from '../../src/internal/bytes.js'
import type { PublicKey } from '../../src/keys/types.js'
import { nodeSignatureBackend } from '../../src/node/signature-backend.js'
import type { ArtifactInput } from '../../src/verifier/signature.js'
import { type BundleVerifier, createVerifier } from '../../src/verifier/verifier.js'
import type { BundlePolicy, BundleVerifierOptions } from '../../src/verifier/verify-bundle.js'
import { caseNames, countersignInputs, countersignRoot, loadCase } from '../support/bundle-cases.js'
import { mulberry32 } from '../support/prng.js'

const FULL = process.env.COUNTERSIGN_MUTATION_PROFILE === 'full'
const FLIPS_PER_FIELD = FULL ? 24 : 1
const SWAP_DONORS = FULL ? Number.POSITIVE_INFINITY : 1
/** One mutant in this many is also verified with the Web Crypto backend, which must agree. */
const WEB_CRYPTO_SAMPLE = FULL ? 1 : 25

type Kind = 'flip' | 'swap' | 'delete' | 'oneof' | 'value'
const KINDS: readonly Kind[] = ['flip', 'swap', 'delete', 'oneof', 'value']
type Path = readonly (string | number)[]
// biome-ignore lint/suspicious/noExplicitAny: bundle JSON is walked by path
type Json = any

interface Mutant {
  readonly kind: Kind
  /** What {@link EXPLAINED} lists: kind, path and value or region, never a flip position or a swap donor. */
  readonly key: string
  /** Where exactly (flip position, donor), for messages. */
  readonly detail: string
  readonly path: Path
  /** The case a swapped value came from. */
  readonly donor?: string
  readonly doc: Json
}

// ---------------------------------------------------------------------------------------------------------------
// JSON helpers

/** mulberry32 (test/support/prng.ts): a small seeded PRNG, so every run makes the same mutants. */
const prng = mulberry32

/** FNV-1a, to seed each field's PRNG from its case and path. */
function seedOf(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

const getPath = (o: Json, path: Path): Json => path.reduce((x, k) => (x == null ? undefined : x[k]), o)

function setPath(o: Json, path: Path, value: unknown): void {
  getPath(o, path.slice(0, -1))[path.at(-1)!] = value
}

function deletePath(o: Json, path: Path): void {
  const parent = getPath(o, path.slice(0, -1))
  const k = path.at(-1)!
  if (Array.isArray(parent)) parent.splice(k as number, 1)
  else delete parent[k]
}

/** `verificationMaterial` is written `vm` in mutation keys. */
const pathText = (path: Path) => path.join('.').replace(/^verificationMaterial\b/, 'vm')

/** Every node below the root: object members and list elements. */
function nodes(o: Json, path: Path = []): Path[] {
  if (o === null || typeof o !== 'object') return []
  const out: Path[] = []
  for (const k of Array.isArray(o) ? o.map((_, i) => i) : Object.keys(o)) {
    out.push([...path, k], ...nodes(o[k], [...path, k]))
  }
  return out
}

/** protobuf `bytes` fields of a bundle (base64 in JSON). */
const BYTES_FIELDS = new Set([
  'rawBytes',
  'signature',
  'sig',
  'payload',
  'digest',
  'keyId',
  'canonicalizedBody',
  'signedEntryTimestamp',
  'rootHash',
  'signedTimestamp',
])
const INT64_FIELDS = new Set(['logIndex', 'integratedTime', 'treeSize'])

function isBytesField(path: Path): boolean {
  const last = path.at(-1)
  return (typeof last === 'string' && BYTES_FIELDS.has(last)) || (typeof last === 'number' && path.at(-2) === 'hashes')
}
const isCheckpoint = (path: Path) => path.at(-1) === 'envelope' && path.at(-2) === 'checkpoint'

/**
 * The protobuf meaning of a bundle: bytes re-encoded canonically, int64 as strings, and what protojson reads as unset
 * (null, '', [], {}) dropped. Two documents with the same normal form are the same bundle.
 */
function normalise(o: Json, path: Path = []): Json {
  if (Array.isArray(o)) {
    const items = o.map((x, i) => normalise(x, [...path, i]))
    return items.length === 0 ? undefined : items
  }
  if (o !== null && typeof o === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(o)) {
      const n = normalise(v, [...path, k])
      if (n !== undefined) out[k] = n
    }
    return Object.keys(out).length === 0 ? undefined : out
  }
  if (o === null || o === '') return undefined
  if (typeof o === 'string' && isBytesField(path)) {
    try {
      return toBase64(fromBase64(o, { allowWhitespace: true }))
    } catch {
      return o
    }
  }
  if (typeof o === 'number' && INT64_FIELDS.has(String(path.at(-1)))) return String(o)
  return o
}
const normalText = (doc: Json) => JSON.stringify(normalise(doc)) ?? ''

// ---------------------------------------------------------------------------------------------------------------
// Mutant generators

function flipBit(bytes: Uint8Array, rand: () => number): { bytes: Uint8Array; at: string } {
  const pos = Math.floor(rand() * bytes.length)
  const bit = 1 << Math.floor(rand() * 8)
  const out = bytes.slice()
  out[pos]! ^= bit
  return { bytes: out, at: `byte ${pos} bit ${bit}` }
}

/** Flips of a checkpoint note, per part: the signed body, and each signature line's name, key hint and signature. */
function checkpointFlips(text: string, rand: () => number): { region: string; text: string; at: string }[] {
  const split = text.lastIndexOf('\n\n')
  const body = text.slice(0, split + 1)
  const lines = text.slice(split + 2).split('\n')
  const rebuild = (b: string, ls: readonly string[]) => `${b}\n${ls.join('\n')}`
  const out: { region: string; text: string; at: string }[] = []
  for (let n = 0; n < FLIPS_PER_FIELD; n++) {
    const { bytes, at } = flipBit(new TextEncoder().encode(body), rand)
    out.push({ region: 'body', text: rebuild(new TextDecoder().decode(bytes), lines), at })
  }
  lines.forEach((line, i) => {
    const m = /^— (\S+) (\S+)$/.exec(line)
    if (!m) return
    const [, name, b64] = m as unknown as [string, string, string]
    const sig = fromBase64(b64)
    const withLine = (l: string) => rebuild(body, [...lines.slice(0, i), l, ...lines.slice(i + 1)])
    for (let n = 0; n < FLIPS_PER_FIELD; n++) {
      // The signer name: one character's case (a non-letter becomes `x`), so the line stays well-formed.
      const p = Math.floor(rand() * name.length)
      const ch = name[p]!
      const other = /[a-z]/i.test(ch) ? (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) : 'x'
      const renamed = `${name.slice(0, p)}${other}${name.slice(p + 1)}`
      out.push({ region: `line ${i} name`, text: withLine(`— ${renamed} ${b64}`), at: `char ${p}` })
      for (const [region, from, to] of [
        ['key hint', 0, 4],
        ['signature', 4, sig.length],
      ] as const) {
        const part = flipBit(sig.subarray(from, to), rand)
        const flipped = sig.slice()
        flipped.set(part.bytes, from)
        out.push({ region: `line ${i} ${region}`, text: withLine(`— ${name} ${toBase64(flipped)}`), at: part.at })
      }
    }
  })
  return out
}

function* flips(original: Json, caseName: string): Generator<Mutant> {
  for (const path of nodes(original)) {
    const value = getPath(original, path)
    if (typeof value !== 'string' || value === '') continue
    const rand = prng(seedOf(`${caseName} ${path.join('.')}`))
    if (isCheckpoint(path)) {
      for (const f of checkpointFlips(value, rand)) {
        const doc = structuredClone(original)
        setPath(doc, path, f.text)
        yield { kind: 'flip', key: `flip ${pathText(path)} (${f.region})`, detail: f.at, path, doc }
      }
      continue
    }
    if (!isBytesField(path)) continue
    const bytes = fromBase64(value, { allowWhitespace: true })
    if (bytes.length === 0) continue
    for (let n = 0; n < FLIPS_PER_FIELD; n++) {
      const f = flipBit(bytes, rand)
      const doc = structuredClone(original)
      setPath(doc, path, toBase64(f.bytes))
      yield { kind: 'flip', key: `flip ${pathText(path)}`, detail: f.at, path, doc }
    }
  }
}

/**
 * Paths to swap or delete: every member and list element, but of the inclusion proof's hashes (all alike, and up to
 * 64) only the first and the last unless `allHashes`.
 */
function structuralPaths(original: Json, allHashes: boolean): Path[] {
  return nodes(original).filter((p) => {
    const k = p.at(-1)
    if (typeof k === 'string' || allHashes || p.at(-2) !== 'hashes') return true
    return k === 0 || k === (getPath(original, p.slice(0, -1)) as unknown[]).length - 1
  })
}

function* deletions(original: Json): Generator<Mutant> {
  for (const path of structuralPaths(original, FULL)) {
    const doc = structuredClone(original)
    deletePath(doc, path)
    yield { kind: 'delete', key: `delete ${pathText(path)}`, detail: '', path, doc }
  }
}

function* swaps(original: Json, caseName: string, donors: ReadonlyMap<string, Json>): Generator<Mutant> {
  for (const path of structuralPaths(original, false)) {
    const seen = new Set([normalText(getPath(original, path))])
    const candidates: [string, Json][] = []
    for (const [donor, doc] of donors) {
      const v = getPath(doc, path)
      if (donor === caseName || v === undefined || seen.has(normalText(v))) continue
      seen.add(normalText(v))
      candidates.push([donor, v])
    }
    const rand = prng(seedOf(`${caseName} swap ${path.join('.')}`))
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1))
      ;[candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!]
    }
    for (const [donor, v] of candidates.slice(0, SWAP_DONORS)) {
      const doc = structuredClone(original)
      setPath(doc, path, structuredClone(v))
      // A donor's null or empty value unsets the field: a deletion by another route, keyed apart.
      const unset = normalise(v, path) === undefined ? ' (unset)' : ''
      yield { kind: 'swap', key: `swap ${pathText(path)}${unset}`, detail: `from ${donor}`, path, donor, doc }
    }
  }
}

const ONEOFS: readonly (readonly [Path, readonly string[]])[] = [
  [['verificationMaterial'], ['publicKey', 'certificate', 'x509CertificateChain']],
  [[], ['dsseEnvelope', 'messageSignature']],
]

function* oneofs(original: Json, donors: ReadonlyMap<string, Json>): Generator<Mutant> {
  for (const [parentPath, alternatives] of ONEOFS) {
    const parent = getPath(original, parentPath)
    for (const alt of alternatives) {
      if (parent[alt] !== undefined && parent[alt] !== null) continue
      const path = [...parentPath, alt]
      // The first case (by name) that has this alternative lends it.
      const [donor, value] = [...donors].map(([n, d]) => [n, getPath(d, path)]).find(([, v]) => v != null)!
      for (const first of [true, false]) {
        const entries = Object.entries(parent)
        const updated = Object.fromEntries(first ? [[alt, value], ...entries] : [...entries, [alt, value]])
        const doc = parentPath.length === 0 ? updated : structuredClone(original)
        if (parentPath.length > 0) setPath(doc, parentPath, updated)
        const key = `oneof add ${pathText(path)} ${first ? 'first' : 'last'}`
        yield { kind: 'oneof', key, detail: `from ${donor}`, path, donor, doc: structuredClone(doc) }
      }
    }
  }
}

const MEDIA_TYPES: Readonly<Record<string, string>> = {
  'v0.1': 'application/vnd.dev.sigstore.bundle+json;version=0.1',
  'v0.2': 'application/vnd.dev.sigstore.bundle+json;version=0.2',
  'v0.3-legacy': 'application/vnd.dev.sigstore.bundle+json;version=0.3',
  'v0.3': 'application/vnd.dev.sigstore.bundle.v0.3+json',
  'v0.2-dotted': 'application/vnd.dev.sigstore.bundle.v0.2+json',
  'v0.4': 'application/vnd.dev.sigstore.bundle.v0.4+json',
  'v0.3.1': 'application/vnd.dev.sigstore.bundle.v0.3.1+json',
}
const VERSION_OF: Readonly<Record<string, '0.1' | '0.2' | '0.3'>> = {
  'v0.1': '0.1',
  'v0.2': '0.2',
  'v0.3-legacy': '0.3',
  'v0.3': '0.3',
}
const HASH_ALGORITHMS = ['SHA2_256', 'SHA2_384', 'SHA2_512', 'SHA3_256', 'HASH_ALGORITHM_UNSPECIFIED', 'sha256', 'MD5']

/** Other values for a string or int64 field, each with the label its mutation key shows. */
function valuesFor(path: Path, value: unknown): [string, unknown][] {
  const last = String(path.at(-1))
  const parent = String(path.at(-2))
  const truncated: [string, unknown][] =
    typeof value === 'string' && value.length > 0 ? [['truncated', value.slice(0, -1)]] : []
  const own = (values: readonly unknown[]): [string, unknown][] => values.map((v) => [JSON.stringify(v), v])
  if (path.length === 1 && last === 'mediaType') return [...Object.entries(MEDIA_TYPES), ...truncated]
  if (parent === 'messageDigest' && last === 'algorithm') return [...own(HASH_ALGORITHMS), ...truncated, ['1', 1]]
  if (parent === 'kindVersion' && last === 'kind') return [...own(['hashedrekord', 'dsse', 'intoto']), ...truncated]
  if (parent === 'kindVersion' && last === 'version') return [...own(['0.0.1', '0.0.2']), ...truncated]
  if (last === 'payloadType') return [...own(['application/json', 'application/vnd.in-toto+json']), ...truncated]
  if (last === 'hint' || last === 'keyid') return [['other', 'bm90IHRoZSBrZXk='], ...truncated]
  if (INT64_FIELDS.has(last) && (typeof value === 'string' || typeof value === 'number')) {
    const n = BigInt(value)
    return [['+1', String(n + 1n)], ...(n > 0n ? ([['-1', String(n - 1n)]] as [string, unknown][]) : [])]
  }
  return []
}

function* values(original: Json): Generator<Mutant> {
  for (const path of nodes(original)) {
    const current = getPath(original, path)
    if (current === null || typeof current === 'object') continue
    for (const [label, value] of valuesFor(path, current)) {
      if (value === current) continue
      const doc = structuredClone(original)
      setPath(doc, path, value)
      yield { kind: 'value', key: `value ${pathText(path)}=${label}`, detail: '', path, doc }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The cases

interface Prepared {
  readonly name: string
  readonly original: Json
  readonly artifact: ArtifactInput | undefined
  readonly policy: BundlePolicy
  readonly options: BundleVerifierOptions
  readonly root: ReturnType<typeof countersignRoot>
  readonly fast: BundleVerifier
  readonly webCrypto: BundleVerifier
}

function prepare(name: string): Prepared {
  const inputs = countersignInputs(loadCase(name))
  const root = countersignRoot(inputs)
  return {
    name,
    original: JSON.parse(new TextDecoder().decode(inputs.bundle)),
    artifact: inputs.artifact,
    policy: inputs.policy,
    options: inputs.options,
    root,
    fast: createVerifier(root, { ...inputs.options, signatureBackend: nodeSignatureBackend }),
    webCrypto: createVerifier(root, inputs.options),
  }
}

const accepts = (v: BundleVerifier, p: Prepared, doc: Json, policy = p.policy) =>
  v.verify(doc, p.artifact, policy).then(
    () => true,
    () => false,
  )

/** Valid cases whose unmodified bundle countersign rejects: their mutants would say nothing. */
const NOT_MUTATED = new Map([
  [
    'sigstore-js-client-v0.4-media-type-accepted',
    'optional case (a v0.4 media type on a v0.3 bundle): countersign rejects it, like sigstore-go',
  ],
])

const VALID = caseNames().filter((n) => !n.endsWith('_fail'))
const PREPARED = new Map(VALID.map((n) => [n, prepare(n)]))
/** Swap and oneof donors: the mutated cases. */
const DONORS = new Map(VALID.filter((n) => !NOT_MUTATED.has(n)).map((n) => [n, PREPARED.get(n)!.original]))

// ---------------------------------------------------------------------------------------------------------------
// Accepted mutants and why they are harmless

interface Explanation {
  readonly reason: string
  /** The listed mutations, per case. */
  readonly accepted: readonly (readonly [string, readonly string[]])[]
  /** Why the reason holds for this case and mutant; returns what does not hold, or undefined. */
  readonly holds?: (p: Prepared, m: Mutant) => string | undefined | Promise<string | undefined>
  /** A stricter setting under which the same mutant must be rejected. */
  readonly rejectedWith?: (p: Prepared) => { options?: BundleVerifierOptions; policy?: BundlePolicy }
}

const tlog0 = (doc: Json) => doc.verificationMaterial?.tlogEntries?.[0]
const leafOf = (doc: Json): unknown => {
  const vm = doc.verificationMaterial ?? {}
  return normalise(vm.certificate?.rawBytes ?? vm.x509CertificateChain?.certificates?.[0]?.rawBytes, ['rawBytes'])
}
const tokensOf = (doc: Json): unknown[] => doc.verificationMaterial?.timestampVerificationData?.rfc3161Timestamps ?? []
const isRekorV2 = (doc: Json) => {
  const kv = tlog0(doc)?.kindVersion ?? {}
  return (kv.kind === 'hashedrekord' || kv.kind === 'dsse') && kv.version === '0.0.2'
}
const versionOf = (doc: Json) => {
  const label = Object.entries(MEDIA_TYPES).find(([, t]) => t === doc.mediaType)?.[0]
  return label === undefined ? undefined : VERSION_OF[label]
}

/** What a bundle version requires of entries and material (sigstore-go pkg/bundle/bundle.go validate). */
function fitsVersion(doc: Json, version: '0.1' | '0.2' | '0.3'): string | undefined {
  const entries: Json[] = doc.verificationMaterial?.tlogEntries ?? []
  if (version === '0.1' && entries.some((e) => !e.inclusionPromise)) return 'an entry has no inclusion promise'
  if (version !== '0.1' && entries.some((e) => !e.inclusionProof)) return 'an entry has no inclusion proof'
  if (version === '0.3' && doc.verificationMaterial.x509CertificateChain) return 'a v0.3 bundle with a chain'
  return undefined
}

/** Verified RFC 3161 timestamps of each unmodified case (filled when it is verified). */
const VERIFIED_TOKENS = new Map<string, number>()

/** The same mutations for several cases. */
const each = (cases: readonly string[], keys: readonly string[]) => cases.map((c) => [c, keys] as const)

const checkpointFlip = (region: string) => `flip vm.tlogEntries.0.inclusionProof.checkpoint.envelope (${region})`
/** Flips of the name, key hint and signature of checkpoint signature lines 1 to `n`. */
const otherSignerLines = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    ['key hint', 'name', 'signature'].map((r) => checkpointFlip(`line ${i + 1} ${r}`)),
  ).flat()

const EXPLAINED: readonly Explanation[] = [
  {
    reason:
      'publicKey.hint is an unsigned lookup hint (protobuf-specs PublicKeyIdentifier): the policy names the key, ' +
      'the log entry records the key itself, and sigstore-go under cosign --key (a fixed key whatever the hint) ' +
      'accepts the same. Shown: a policy that looks the key up by the original hint rejects the mutant',
    accepted: [
      ...each(
        [
          'conformance-managed-key-happy-path',
          'sigstore-go-example-bundle-publish-key',
          'sigstore-go-public-key-validity-unbounded-key',
          'sigstore-js-client-v0.1-dsse-public-key',
        ],
        [
          'delete vm.publicKey.hint',
          'swap vm.publicKey',
          'swap vm.publicKey.hint',
          'value vm.publicKey.hint=other',
          'value vm.publicKey.hint=truncated',
        ],
      ),
    ],
    holds: (p) => (p.policy.key && typeof p.policy.key !== 'function' ? undefined : 'the policy names no fixed key'),
    rejectedWith: (p) => {
      const hint = p.original.verificationMaterial.publicKey.hint
      const key = p.policy.key as PublicKey
      return { policy: { ...p.policy, key: (h: string) => (h === hint ? key : undefined) } }
    },
  },
  {
    reason:
      "an RFC 3161 timestamp that does not verify (corrupted, another signature's, or removed) is dropped and the " +
      'verified times left are counted, as sigstore-go VerifySignedTimestamp does ' +
      '(docs/formats.md §Where Sigstore clients disagree); here the SET-backed integrated time is enough. Shown: requiring as many signed timestamps ' +
      'as the unmodified bundle has (at least one) rejects the mutant',
    accepted: [
      ...each(
        ['conformance-managed-key-happy-path'],
        [
          'delete vm.timestampVerificationData',
          'delete vm.timestampVerificationData.rfc3161Timestamps',
          'delete vm.timestampVerificationData.rfc3161Timestamps.0',
          'flip vm.timestampVerificationData.rfc3161Timestamps.0.signedTimestamp',
          'swap vm.timestampVerificationData',
          'swap vm.timestampVerificationData (unset)',
          'swap vm.timestampVerificationData.rfc3161Timestamps',
          'swap vm.timestampVerificationData.rfc3161Timestamps (unset)',
          'swap vm.timestampVerificationData.rfc3161Timestamps.0',
          'swap vm.timestampVerificationData.rfc3161Timestamps.0.signedTimestamp',
        ],
      ),
      ...each(
        [
          'sigstore-go-dsse-single-sig',
          'sigstore-js-client-v0.1-dsse',
          'sigstore-js-client-v0.1-dsse-public-key',
          'sigstore-js-client-v0.1-message-signature',
          'sigstore-js-client-v0.2-message-signature',
          'sigstore-js-client-v0.3-dsse',
          'sigstore-js-client-v0.3-message-signature',
        ],
        ['swap vm.timestampVerificationData', 'swap vm.timestampVerificationData.rfc3161Timestamps'],
      ),
      ...each(
        ['sigstore-go-example-bundle-provenance', 'sigstore-go-example-bundle-publish-key'],
        ['swap vm.timestampVerificationData'],
      ),
    ],
    rejectedWith: (p) => ({ options: { signedTimestampThreshold: Math.max(1, VERIFIED_TOKENS.get(p.name) ?? 0) } }),
  },
  {
    reason:
      'the second timestamp of this case comes from a TSA the trusted root does not hold: it never verified, so ' +
      "changing or removing it changes nothing (the case's own disputed verdict, test/interop)",
    accepted: [
      ...each(
        ['sigstore-python-tsa-timestamp-local-tsa'],
        [
          'delete vm.timestampVerificationData.rfc3161Timestamps.1',
          'flip vm.timestampVerificationData.rfc3161Timestamps.1.signedTimestamp',
        ],
      ),
    ],
    holds: (p) =>
      (VERIFIED_TOKENS.get(p.name) ?? 0) < tokensOf(p.original).length ? undefined : 'every timestamp verifies',
  },
  {
    reason:
      'the signer name on a Rekor v1 checkpoint signature line is not signed and not matched: v1 checkpoints are ' +
      'matched to the log by key hint (sigstore-go pkg/tlog VerifyInclusion; ' +
      'docs/formats.md §Where Sigstore clients disagree)',
    accepted: [
      ...each(
        [
          'conformance-happy-path-intoto-in-dsse-v3',
          'conformance-happy-path-v0.1',
          'conformance-happy-path-v0.3',
          'conformance-managed-key-happy-path',
          'conformance-trust-root-tlog-validity-end-inclusive',
          'cosign-oci-attestation-new-bundle-format',
          'sigstore-go-othername-san',
          'sigstore-js-client-v0.2-message-signature',
          'sigstore-js-client-v0.3-dsse',
          'sigstore-js-client-v0.3-message-signature',
          'sigstore-js-compat-bundleV01-dsse-with-proof',
          'sigstore-js-compat-bundleV01-intoto-with-proof',
          'sigstore-js-compat-bundleV02-dsse',
          'sigstore-js-compat-bundleV03-dsse',
          'sigstore-js-compat-bundleV03-intoto',
          'sigstore-python-bundle-v0.1-staging',
          'sigstore-python-bundle-v0.3-staging',
          'sigstore-python-github-actions-wheel-production',
          'sigstore-python-tsa-timestamp-local-tsa',
        ],
        [checkpointFlip('line 0 name')],
      ),
    ],
    holds: (p) => (isRekorV2(p.original) ? 'a Rekor v2 entry' : undefined),
  },
  {
    reason:
      'a checkpoint signature line of another key (a witness cosignature, or a second key under the log name): only ' +
      'a signature by the trusted log key is required and lines of unknown keys are ignored (C2SP signed-note; ' +
      'sigstore-go verifies with the log key alone). Shown: the unmodified bundle without that line verifies',
    accepted: [
      ...each(
        ['conformance-rekor2-checkpoint-cosigned', 'conformance-rekor2-checkpoint-two-sigs-from-origin'],
        [...otherSignerLines(1)],
      ),
      ...each(['conformance-rekor2-checkpoint-multiple-cosigs'], [...otherSignerLines(2)]),
      ...each(
        ['conformance-rekor2-dsse-happy-path', 'sigstore-python-dsse-staging-rekor-v2'],
        [...otherSignerLines(3)],
      ),
    ],
    holds: async (p, m) => {
      const line = Number(/\(line (\d+) /.exec(m.key)?.[1])
      if (!(line >= 1)) return 'not a line after the first'
      const doc = structuredClone(p.original)
      const note: string = tlog0(doc).inclusionProof.checkpoint.envelope
      const split = note.lastIndexOf('\n\n')
      const lines = note.slice(split + 2).split('\n')
      lines.splice(line, 1)
      tlog0(doc).inclusionProof.checkpoint.envelope = `${note.slice(0, split + 1)}\n${lines.join('\n')}`
      return (await accepts(p.fast, p, doc)) ? undefined : 'the line is needed'
    },
  },
  {
    reason:
      'the media type version only decides which inclusion evidence each entry must carry (v0.1 a promise, v0.2 and ' +
      'later a proof) and that v0.3 carries no certificate chain; this bundle meets the new version too, and ' +
      'sigstore-go (pkg/bundle/bundle.go validate) accepts it the same way',
    accepted: [
      ...each(
        [
          'conformance-bundle-with-sct-with-extensions',
          'conformance-rekor2-checkpoint-cosigned',
          'conformance-rekor2-checkpoint-multiple-cosigs',
          'conformance-rekor2-checkpoint-two-sigs-from-origin',
          'conformance-rekor2-dsse-happy-path',
          'conformance-rekor2-happy-path',
          'conformance-rekor2-timestamp-with-embedded-cert',
          'conformance-rekor2-timestamp-with-expired-cert-chain',
          'conformance-trust-root-tsa-validity-end-inclusive',
          'sigstore-js-verify-v0.3-rekor-v2-hashedrekord',
          'sigstore-python-dsse-staging-rekor-v2',
        ],
        ['swap mediaType', 'value mediaType=v0.2', 'value mediaType=v0.3-legacy'],
      ),
      ...each(
        [
          'conformance-happy-path-intoto-in-dsse-v3',
          'conformance-managed-key-happy-path',
          'cosign-oci-attestation-new-bundle-format',
          'sigstore-go-othername-san',
          'sigstore-go-public-key-validity-unbounded-key',
          'sigstore-js-client-v0.3-dsse',
          'sigstore-js-compat-bundleV03-intoto',
          'sigstore-python-bundle-v0.3-staging',
          'sigstore-python-tsa-timestamp-local-tsa',
        ],
        ['swap mediaType', 'value mediaType=v0.1', 'value mediaType=v0.2', 'value mediaType=v0.3-legacy'],
      ),
      ...each(
        [
          'conformance-happy-path-v0.1',
          'conformance-trust-root-tlog-validity-end-inclusive',
          'sigstore-js-compat-bundleV01-dsse-with-proof',
          'sigstore-js-compat-bundleV01-intoto-with-proof',
          'sigstore-python-bundle-v0.1-staging',
        ],
        ['swap mediaType', 'value mediaType=v0.2'],
      ),
      ...each(
        [
          'conformance-happy-path-v0.3',
          'sigstore-js-client-v0.3-message-signature',
          'sigstore-js-compat-bundleV03-dsse',
        ],
        ['swap mediaType', 'value mediaType=v0.1', 'value mediaType=v0.2', 'value mediaType=v0.3'],
      ),
      ...each(
        [
          'sigstore-js-client-v0.2-message-signature',
          'sigstore-js-compat-bundleV02-dsse',
          'sigstore-python-github-actions-wheel-production',
        ],
        ['swap mediaType', 'value mediaType=v0.1'],
      ),
    ],
    holds: (_, m) => {
      const version = versionOf(m.doc)
      return version ? fitsVersion(m.doc, version) : `unknown media type ${m.doc.mediaType}`
    },
  },
  {
    reason:
      'a v0.1 bundle needs only the inclusion promise (SET), which is kept; the inclusion proof is optional there ' +
      '(sigstore-go, sigstore-js)',
    accepted: [
      ...each(
        [
          'conformance-happy-path-v0.1',
          'conformance-trust-root-tlog-validity-end-inclusive',
          'sigstore-js-compat-bundleV01-dsse-with-proof',
          'sigstore-js-compat-bundleV01-intoto-with-proof',
          'sigstore-python-bundle-v0.1-staging',
        ],
        ['delete vm.tlogEntries.0.inclusionProof', 'swap vm.tlogEntries.0.inclusionProof (unset)'],
      ),
    ],
    holds: (p) => (versionOf(p.original) === '0.1' && tlog0(p.original).inclusionPromise ? undefined : 'not v0.1'),
  },
  {
    reason:
      'from v0.2 on the inclusion proof is what is required, and it is kept; without the SET the integrated time no ' +
      'longer counts, and the RFC 3161 time is enough. Shown: requiring an integrated time rejects the mutant',
    accepted: [
      ...each(
        ['conformance-managed-key-happy-path'],
        ['delete vm.tlogEntries.0.inclusionPromise', 'swap vm.tlogEntries.0.inclusionPromise (unset)'],
      ),
    ],
    holds: (p) => (versionOf(p.original) !== '0.1' && tlog0(p.original).inclusionProof ? undefined : 'no proof'),
    rejectedWith: () => ({ options: { integratedTimestampThreshold: 1 } }),
  },
  {
    reason:
      'only the leaf names the signer (sigstore-go reads nothing else of x509CertificateChain); the path is built ' +
      'from the trusted root and any CA certificate the bundle still carries must be on it',
    accepted: [
      ...each(
        [
          'sigstore-go-dsse-single-sig',
          'sigstore-go-example-bundle-provenance',
          'sigstore-js-client-v0.1-dsse',
          'sigstore-js-client-v0.1-message-signature',
          'sigstore-js-compat-bundleV01-full-cert-chain',
        ],
        ['delete vm.x509CertificateChain.certificates.1', 'delete vm.x509CertificateChain.certificates.2'],
      ),
    ],
    holds: (p, m) => (leafOf(m.doc) === leafOf(p.original) ? undefined : 'the leaf changed'),
  },
  {
    reason:
      'the donor case is the same signature logged in the same entry (same body, log, leaf certificate): its ' +
      "material, entry, inclusion proof or signed checkpoint prove exactly what this bundle's own do",
    accepted: [
      ...each(
        [
          'conformance-rekor2-checkpoint-cosigned',
          'conformance-rekor2-checkpoint-multiple-cosigs',
          'conformance-rekor2-checkpoint-two-sigs-from-origin',
          'conformance-rekor2-happy-path',
          'conformance-trust-root-tsa-validity-end-inclusive',
        ],
        [
          'swap vm',
          'swap vm.tlogEntries',
          'swap vm.tlogEntries.0',
          'swap vm.tlogEntries.0.inclusionProof',
          'swap vm.tlogEntries.0.inclusionProof.checkpoint',
          'swap vm.tlogEntries.0.inclusionProof.checkpoint.envelope',
        ],
      ),
      ...each(
        [
          'sigstore-js-client-v0.1-message-signature',
          'sigstore-js-compat-bundleV01-full-cert-chain',
          'sigstore-js-compat-bundleV01-intoto-no-proof',
          'sigstore-js-compat-bundleV01-intoto-with-proof',
        ],
        [
          'swap vm',
          'swap vm.tlogEntries',
          'swap vm.tlogEntries.0',
          'swap vm.x509CertificateChain',
          'swap vm.x509CertificateChain.certificates',
        ],
      ),
      ...each(
        ['sigstore-js-client-v0.2-message-signature'],
        ['swap vm', 'swap vm.x509CertificateChain', 'swap vm.x509CertificateChain.certificates'],
      ),
      ...each(['sigstore-js-compat-bundleV01-dsse-with-proof', 'sigstore-js-compat-bundleV02-dsse'], ['swap vm']),
    ],
    holds: (p, m) => {
      const donor = DONORS.get(m.donor ?? '')
      if (!donor) return 'no donor'
      const same =
        normalText(tlog0(donor)?.canonicalizedBody) === normalText(tlog0(p.original)?.canonicalizedBody) &&
        normalText(tlog0(donor)?.logId) === normalText(tlog0(p.original)?.logId) &&
        leafOf(donor) === leafOf(p.original)
      return same ? undefined : 'the donor logs another entry or signer'
    },
  },
  {
    reason:
      'an integrated time no SET signs is never counted, and 0 (absent) is what Rekor v2 entries carry; a non-zero ' +
      'unsigned time must still fall in the certificate validity (sigstore-go pkg/verify/tlog.go)',
    accepted: [...each(['sigstore-js-verify-v0.3-rekor-v2-hashedrekord'], ['delete vm.tlogEntries.0.integratedTime'])],
    holds: (p) => (tlog0(p.original).inclusionPromise ? 'the entry has a SET' : undefined),
  },
  {
    reason:
      'an empty DSSE keyid names no key, so go-securesystemslib (dsse/verify.go) does not compare it; a set keyid ' +
      "must be the key's SSH SHA-256 fingerprint",
    accepted: [
      ...each(
        ['sigstore-go-example-bundle-publish-key'],
        ['delete dsseEnvelope.signatures.0.keyid', 'swap dsseEnvelope.signatures.0.keyid (unset)'],
      ),
    ],
    holds: (_, m) => (normalise(m.doc.dsseEnvelope.signatures[0].keyid) === undefined ? undefined : 'a keyid is set'),
  },
]

// ---------------------------------------------------------------------------------------------------------------
// The run

const table = new Map(KINDS.map((k) => [k, { total: 0, rejected: 0, explained: 0, identical: 0 }]))
const acceptedLog: string[] = []
const explainedHits = new Set<string>()
const explanationFor = new Map<string, Explanation>()
for (const e of EXPLAINED) {
  for (const [c, keys] of e.accepted) {
    for (const k of keys) {
      if (explanationFor.has(`${c}\n${k}`)) throw new Error(`listed twice: ${c}: ${k}`)
      explanationFor.set(`${c}\n${k}`, e)
    }
  }
}

describe(`mutants of every valid bundle case (${FULL ? 'full' : 'default'} profile)`, () => {
  it('every listed case and mutation names a mutated case', () => {
    const unknown = [...explanationFor.keys()].map((k) => k.split('\n')[0]!).filter((c) => !DONORS.has(c))
    expect(unknown).toEqual([])
  })

  for (const name of VALID) {
    const p = PREPARED.get(name)!
    const skipped = NOT_MUTATED.get(name)
    it(`${name}: the unmodified bundle ${skipped ? `is rejected (${skipped})` : 'verifies'}`, async () => {
      for (const v of [p.fast, p.webCrypto]) expect(await accepts(v, p, structuredClone(p.original))).toBe(!skipped)
      if (!skipped) {
        const r = await p.fast.verify(structuredClone(p.original), p.artifact, p.policy)
        VERIFIED_TOKENS.set(name, r.timestamps.length)
      }
    })
    if (skipped) continue

    it(`${name}: every mutant is rejected or explained`, async () => {
      const originalText = normalText(p.original)
      // Mutants that make the same JSON (e.g. a swapped mediaType equal to a changed one) are verified once; a later
      // key for it shares the verdict, and must be explained as well when that verdict is "accepted".
      const verdicts = new Map<string, boolean>()
      const problems: string[] = []
      const explain = (m: Mutant): Explanation | undefined => {
        acceptedLog.push(`${name}: ${m.key} ${m.detail}`)
        const e = explanationFor.get(`${name}\n${m.key}`)
        if (!e) problems.push(`accepted: ${m.key} ${m.detail}`)
        else explainedHits.add(`${name}\n${m.key}`)
        return e
      }
      let n = 0
      const mutants = [
        ...values(p.original),
        ...oneofs(p.original, DONORS),
        ...deletions(p.original),
        ...flips(p.original, name),
        ...swaps(p.original, name, DONORS),
      ]
      for (const m of mutants) {
        const row = table.get(m.kind)!
        const text = normalText(m.doc)
        if (text === originalText) {
          row.identical++
          continue
        }
        const json = JSON.stringify(m.doc)
        const earlier = verdicts.get(json)
        if (earlier !== undefined) {
          if (earlier) explain(m)
          continue
        }
        row.total++
        const ok = await accepts(p.fast, p, m.doc)
        verdicts.set(json, ok)
        if (++n % WEB_CRYPTO_SAMPLE === 0 && (await accepts(p.webCrypto, p, structuredClone(m.doc))) !== ok) {
          problems.push(`${m.key} ${m.detail}: the backends differ`)
        }
        if (!ok) {
          row.rejected++
          continue
        }
        const e = explain(m)
        if (!e) continue
        row.explained++
        const broken = await e.holds?.(p, m)
        if (broken) problems.push(`${m.key} ${m.detail}: the reason does not hold (${broken})`)
        const strict = e.rejectedWith?.(p)
        if (strict) {
          const v = createVerifier(p.root, { ...p.options, ...strict.options, signatureBackend: nodeSignatureBackend })
          if (await accepts(v, p, m.doc, strict.policy ?? p.policy)) {
            problems.push(`${m.key} ${m.detail}: still accepted under the stricter setting`)
          }
        }
      }
      expect(problems).toEqual([])
    })
  }

  it('every listed mutant was made and accepted', () => {
    // Flip positions and swap donors depend on the profile; the other kinds are made alike in both.
    const made = (key: string) => FULL || !/^(flip|swap) /.test(key)
    const stale = [...explanationFor.keys()].filter((k) => made(k.split('\n')[1]!) && !explainedHits.has(k))
    expect(stale.map((k) => k.replace('\n', ': '))).toEqual([])
  })

  afterAll(() => {
    const lines = [
      `mutation table (${FULL ? 'full' : 'default'} profile): kind, total, rejected, explained (identical)`,
    ]
    for (const [kind, r] of table)
      lines.push(`  ${kind.padEnd(7)} ${r.total} ${r.rejected} ${r.explained} (${r.identical})`)
    if (process.env.COUNTERSIGN_MUTATION_REPORT) lines.push(...acceptedLog.map((a) => `  accepted ${a}`))
    console.log(lines.join('\n'))
  })
})
