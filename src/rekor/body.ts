/**
 * Rekor entry bodies (`canonicalizedBody`): read the five kinds Sigstore bundles carry into one shape, and check that
 * the logged body is about the bundle's own signature, key and content.
 *
 * Kinds: hashedrekord 0.0.1, dsse 0.0.1, intoto 0.0.2 (Rekor v1) and hashedrekord / dsse 0.0.2 (Rekor v2). The
 * dsse 0.0.1 `envelopeHash` and intoto `hash` are not compared: they hash whatever serialisation the signing client
 * sent (clients differ), and neither sigstore-go nor sigstore-js checks them; the signature, key and payload hash
 * they would add nothing to are compared instead.
 *
 * @module
 */

import type { BundleContent } from '../bundle/bundle.js'
import { dssePAE } from '../dsse/pae.js'
import { CountersignError } from '../errors.js'
import { clipText, MAX_QUOTED_LENGTH, quoteClipped } from '../internal/bounded-text.js'
import { equalBytes, fromBase64, fromHex, fromUtf8 } from '../internal/bytes.js'
import { contextTag, parseDER, readSequence } from '../internal/der.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { merged } from '../internal/merged.js'
import { decodePEM } from '../internal/pem.js'
import { sha256, sha384, sha512 } from '../internal/sha2.js'
import { parsePublicKey } from '../keys/parse-public.js'
import type { PublicKey } from '../keys/types.js'
import type { TransparencyLogEntry } from './entry.js'

/**
 * Digest algorithms a Rekor body may name.
 *
 * Exported from `countersign/rekor`.
 */
export type RekorDigestAlgorithm = 'sha256' | 'sha384' | 'sha512'

/**
 * A digest with its algorithm (an artifact digest, or one read from a body).
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorDigest {
  readonly algorithm: RekorDigestAlgorithm
  readonly digest: Uint8Array
}

/**
 * One signature logged in a body, with the key or certificate it names (DER).
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorBodySignature {
  readonly signature: Uint8Array
  readonly verifier: { readonly type: 'certificate' | 'publicKey'; readonly der: Uint8Array }
}

/**
 * A Rekor entry body reduced to what verification compares.
 *
 * - `digestOf: 'artifact'` (hashedrekord): the signed artifact's digest; for a DSSE bundle logged as hashedrekord
 *   0.0.2 (Rekor v2), the digest of the DSSE PAE.
 * - `digestOf: 'payload'` (dsse, intoto): the digest of the DSSE payload.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorEntryBody {
  readonly kind: string
  readonly apiVersion: string
  readonly digestOf: 'artifact' | 'payload'
  readonly digest: RekorDigest
  readonly signatures: readonly RekorBodySignature[]
  /** The DSSE payload type, for intoto bodies (which keep it). */
  readonly payloadType?: string
}

const BODY_LIMITS = {
  code: 'ERR_TLOG_ENTRY_MISMATCH',
  what: 'transparency log entry body',
  maxDepth: MAX_JSON_DEPTH,
  details: { check: 'body' },
} as const

function mismatch(reason: string, cause?: unknown): never {
  throw new CountersignError('ERR_TLOG_ENTRY_MISMATCH', `transparency log entry body: ${reason}`, {
    details: { check: 'body', reason },
    ...(cause === undefined ? {} : { cause }),
  })
}

function obj(v: unknown, where: string): Record<string, unknown> {
  if (!isJSONObject(v)) mismatch(`${where} is missing`)
  return v
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') mismatch(`${where} is missing`)
  return v
}

function b64(v: unknown, where: string): Uint8Array {
  const s = str(v, where)
  try {
    return fromBase64(s)
  } catch (cause) {
    mismatch(`${where} is not base64`, cause)
  }
}

const V1_ALGORITHMS: Readonly<Record<string, RekorDigestAlgorithm>> = {
  sha256: 'sha256',
  sha384: 'sha384',
  sha512: 'sha512',
}
const V2_ALGORITHMS: Readonly<Record<string, RekorDigestAlgorithm>> = {
  SHA2_256: 'sha256',
  SHA2_384: 'sha384',
  SHA2_512: 'sha512',
}
const DIGEST_SIZE: Readonly<Record<RekorDigestAlgorithm, number>> = { sha256: 32, sha384: 48, sha512: 64 }

function digestOf(algorithm: RekorDigestAlgorithm, data: Uint8Array): Uint8Array {
  return algorithm === 'sha256' ? sha256(data) : algorithm === 'sha384' ? sha384(data) : sha512(data)
}

/** Rekor v1 `{algorithm, value: hex}`. */
function v1Digest(v: unknown, where: string): RekorDigest {
  const o = obj(v, where)
  const name = str(o.algorithm, `${where}.algorithm`)
  if (!Object.hasOwn(V1_ALGORITHMS, name)) mismatch(`${where}.algorithm ${JSON.stringify(name)} is not supported`)
  const algorithm = V1_ALGORITHMS[name]!
  const hex = str(o.value, `${where}.value`)
  if (!/^[0-9a-f]*$/.test(hex) || hex.length !== DIGEST_SIZE[algorithm] * 2) mismatch(`${where}.value is malformed`)
  return { algorithm, digest: fromHex(hex) }
}

/** Rekor v2 `HashOutput {algorithm: enum name, digest: base64}`. */
function v2Digest(v: unknown, where: string): RekorDigest {
  const o = obj(v, where)
  const name = str(o.algorithm, `${where}.algorithm`)
  if (!Object.hasOwn(V2_ALGORITHMS, name)) mismatch(`${where}.algorithm ${JSON.stringify(name)} is not supported`)
  const algorithm = V2_ALGORITHMS[name]!
  const digest = b64(o.digest, `${where}.digest`)
  if (digest.length !== DIGEST_SIZE[algorithm]) mismatch(`${where}.digest has the wrong length`)
  return { algorithm, digest }
}

function text(bytes: Uint8Array, where: string): string {
  try {
    return fromUtf8(bytes, where)
  } catch (cause) {
    mismatch(`${where} is not UTF-8`, cause)
  }
}

/** Rekor v1 keys and certificates are base64 of a PEM block. */
function pemVerifier(v: unknown, where: string): RekorBodySignature['verifier'] {
  const pem = text(b64(v, where), where)
  let block: ReturnType<typeof decodePEM>
  try {
    block = decodePEM(pem)
  } catch (cause) {
    mismatch(`${where} is not a PEM certificate or public key`, cause)
  }
  if (block.label === 'CERTIFICATE') return { type: 'certificate', der: block.bytes }
  if (block.label === 'PUBLIC KEY') return { type: 'publicKey', der: block.bytes }
  mismatch(`${where} has unsupported PEM type ${JSON.stringify(block.label)}`)
}

/** Rekor v2 `Verifier {publicKey{rawBytes} | x509Certificate{rawBytes}, keyDetails}`. */
function v2Verifier(v: unknown, where: string): RekorBodySignature['verifier'] {
  const o = obj(v, where)
  str(o.keyDetails, `${where}.keyDetails`)
  const hasCert = o.x509Certificate !== undefined
  const hasKey = o.publicKey !== undefined
  if (hasCert === hasKey) mismatch(`${where} must name exactly one certificate or public key`)
  if (hasCert) return { type: 'certificate', der: b64(obj(o.x509Certificate, where).rawBytes, `${where}.rawBytes`) }
  return { type: 'publicKey', der: b64(obj(o.publicKey, where).rawBytes, `${where}.rawBytes`) }
}

function v2Signature(v: unknown, where: string): RekorBodySignature {
  const o = obj(v, where)
  return { signature: b64(o.content, `${where}.content`), verifier: v2Verifier(o.verifier, `${where}.verifier`) }
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v) || v.length === 0) mismatch(`${where} is missing`)
  return v
}

function readSpec(kind: string, apiVersion: string, spec: Record<string, unknown>): RekorEntryBody {
  // Each literal begins with its properties, not with `...base`: see src/internal/merged.ts.
  switch (`${kind}/${apiVersion}`) {
    case 'hashedrekord/0.0.1': {
      const sig = obj(spec.signature, 'spec.signature')
      return {
        kind,
        apiVersion,
        digestOf: 'artifact',
        digest: v1Digest(obj(spec.data, 'spec.data').hash, 'spec.data.hash'),
        signatures: [
          {
            signature: b64(sig.content, 'spec.signature.content'),
            verifier: pemVerifier(obj(sig.publicKey, 'spec.signature.publicKey').content, 'spec.signature.publicKey'),
          },
        ],
      }
    }
    case 'dsse/0.0.1':
      return {
        kind,
        apiVersion,
        digestOf: 'payload',
        digest: v1Digest(spec.payloadHash, 'spec.payloadHash'),
        signatures: list(spec.signatures, 'spec.signatures').map((s, i) => {
          const o = obj(s, `spec.signatures[${i}]`)
          return {
            signature: b64(o.signature, `spec.signatures[${i}].signature`),
            verifier: pemVerifier(o.verifier, `spec.signatures[${i}].verifier`),
          }
        }),
      }
    case 'intoto/0.0.2': {
      const content = obj(spec.content, 'spec.content')
      const envelope = obj(content.envelope, 'spec.content.envelope')
      return {
        kind,
        apiVersion,
        digestOf: 'payload',
        digest: v1Digest(content.payloadHash, 'spec.content.payloadHash'),
        payloadType: str(envelope.payloadType, 'spec.content.envelope.payloadType'),
        signatures: list(envelope.signatures, 'spec.content.envelope.signatures').map((s, i) => {
          const where = `spec.content.envelope.signatures[${i}]`
          const o = obj(s, where)
          // intoto 0.0.2 stores the signature base64-encoded twice.
          const inner = text(b64(o.sig, `${where}.sig`), `${where}.sig`)
          return { signature: b64(inner, `${where}.sig`), verifier: pemVerifier(o.publicKey, `${where}.publicKey`) }
        }),
      }
    }
    case 'hashedrekord/0.0.2': {
      const hr = obj(spec.hashedRekordV002, 'spec.hashedRekordV002')
      return {
        kind,
        apiVersion,
        digestOf: 'artifact',
        digest: v2Digest(hr.data, 'spec.hashedRekordV002.data'),
        signatures: [v2Signature(hr.signature, 'spec.hashedRekordV002.signature')],
      }
    }
    case 'dsse/0.0.2': {
      const d = obj(spec.dsseV002, 'spec.dsseV002')
      return {
        kind,
        apiVersion,
        digestOf: 'payload',
        digest: v2Digest(d.payloadHash, 'spec.dsseV002.payloadHash'),
        signatures: list(d.signatures, 'spec.dsseV002.signatures').map((s, i) =>
          v2Signature(s, `spec.dsseV002.signatures[${i}]`),
        ),
      }
    }
    default:
      mismatch(`unsupported entry kind ${kind}/${apiVersion}`)
  }
}

/**
 * Read an entry's `canonicalizedBody` and check it states the kind and version the entry's `kindVersion` claims.
 *
 * @param entry - A parsed entry.
 * @returns The body, reduced to digest, signatures and verifiers.
 * @throws {CountersignError} ERR_TLOG_ENTRY_MISMATCH (`details.check: 'body'`) for a body that is not JSON, names
 *   another kind or version, is of an unsupported kind, or lacks a field.
 * @example
 * ```ts
 * import { parseTransparencyLogEntry, readEntryBody } from 'countersign/rekor'
 * const body = readEntryBody(parseTransparencyLogEntry(bundle.tlogEntries[0]))
 * console.log(body.kind, body.digest.algorithm)
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function readEntryBody(entry: TransparencyLogEntry): RekorEntryBody {
  const json = text(entry.canonicalizedBody, 'body')
  assertJSONText(json, merged(BODY_LIMITS, { maxBytes: json.length }))
  let doc: unknown
  try {
    doc = JSON.parse(json)
  } catch (cause) {
    mismatch('is not JSON', cause)
  }
  assertJSONShape(doc, BODY_LIMITS)
  const body = obj(doc, 'body')
  const { kind, version } = entry.kindVersion
  if (body.kind !== kind || body.apiVersion !== version) {
    // Never `String(value)`: it recurses into nested arrays and has no bound.
    const shown = (v: unknown) => (typeof v === 'string' ? clipText(v, MAX_QUOTED_LENGTH) : quoteClipped(v))
    mismatch(`kind/version ${shown(body.kind)}/${shown(body.apiVersion)} differs from kindVersion ${kind}/${version}`)
  }
  return readSpec(kind, version, obj(body.spec, 'spec'))
}

/**
 * What a body must match: the bundle's content, the key or certificate that verifies its signature, and (for
 * message signatures) the artifact.
 *
 * Exported from `countersign/rekor`.
 */
export interface EntryBodyExpectation {
  /** `bundle.content`: a message signature or a DSSE envelope with exactly one signature. */
  readonly content: BundleContent
  /**
   * The signing certificate (DER leaf: `certificate`, or the first of `x509CertificateChain`) or, for key-signed
   * bundles, the caller's public key (parsed, DER SPKI or PEM).
   */
  readonly verifier: { readonly certificate: Uint8Array } | { readonly publicKey: PublicKey | Uint8Array | string }
  /**
   * The artifact bytes or their digest; required for message signatures (the bundle's `messageDigest` is an
   * unauthenticated hint and is not used). Ignored for DSSE bundles.
   */
  readonly artifact?: Uint8Array | RekorDigest
}

function expectedSignature(content: BundleContent): Uint8Array {
  if (content.type === 'messageSignature') return content.signature
  const sigs = content.envelope.signatures
  if (sigs.length !== 1) mismatch('the bundle DSSE envelope must have exactly one signature')
  return sigs[0]!.sig
}

/** SubjectPublicKeyInfo of a DER certificate: the 7th field of TBSCertificate when `[0] version` is present. */
function certificateSPKI(der: Uint8Array): Uint8Array {
  const ctx = { code: 'ERR_TLOG_ENTRY_MISMATCH', what: 'certificate' } as const
  const tbs = readSequence(readSequence(parseDER(der, ctx), 'Certificate', ctx)[0], 'TBSCertificate', ctx)
  const offset = tbs[0]?.tag === contextTag(0) ? 1 : 0
  const spki = tbs[offset + 5]
  readSequence(spki, 'SubjectPublicKeyInfo', ctx)
  return spki!.raw
}

function spkiOf(verifier: { type: 'certificate' | 'publicKey'; der: Uint8Array }, what: string): Uint8Array {
  try {
    return parsePublicKey(verifier.type === 'certificate' ? certificateSPKI(verifier.der) : verifier.der).spki
  } catch (cause) {
    mismatch(`${what} public key does not parse`, cause)
  }
}

/**
 * Two certificates must be the same DER (sigstore-go). Otherwise the public keys are compared: a key-signed bundle
 * whose entry logged the certificate of that key, and a certificate bundle whose Rekor v2 entry logged the
 * certificate's key (sigstore-js writes these), both name the signer the bundle's signature is checked with.
 */
function compareVerifier(found: RekorBodySignature['verifier'], expected: EntryBodyExpectation['verifier']): void {
  if ('certificate' in expected) {
    if (found.type === 'certificate') {
      if (!equalBytes(found.der, expected.certificate)) mismatch('the logged certificate differs from the bundle')
      return
    }
    const ours = spkiOf({ type: 'certificate', der: expected.certificate }, 'the bundle certificate')
    if (!equalBytes(spkiOf(found, 'the logged'), ours)) mismatch('the logged public key differs from the certificate')
    return
  }
  // The caller's key is the caller's input: a key that does not parse keeps its own error code.
  const k = expected.publicKey
  const ours = typeof k === 'string' || k instanceof Uint8Array ? parsePublicKey(k).spki : k.spki
  if (!equalBytes(spkiOf(found, 'the logged'), ours)) mismatch('the logged key differs from the verification key')
}

function compareDigest(found: RekorDigest, data: Uint8Array | RekorDigest | undefined, what: string): void {
  if (data === undefined) mismatch(`the ${what} is needed to compare the logged digest`)
  let ours: Uint8Array
  if (data instanceof Uint8Array) ours = digestOf(found.algorithm, data)
  else {
    if (data.algorithm !== found.algorithm) {
      mismatch(`the logged digest is ${found.algorithm}, the ${what} digest given is ${data.algorithm}`)
    }
    ours = data.digest
  }
  if (!equalBytes(found.digest, ours)) mismatch(`the logged digest differs from the ${what}`)
}

/**
 * Check that an entry's body logs this bundle: kind and version as `kindVersion` says, exactly one signature equal to
 * the bundle's, logged with the same certificate (DER) or public key (SPKI), and the digest of the same content —
 * the artifact (hashedrekord; for a DSSE bundle in a hashedrekord 0.0.2 entry, the DSSE PAE) or the DSSE payload
 * (dsse, intoto; intoto also keeps the payload type, which must match).
 *
 * @param entry - A parsed entry.
 * @param expected - The bundle's content, verifier and artifact.
 * @returns The body that matched.
 * @throws {CountersignError} ERR_TLOG_ENTRY_MISMATCH (`details.check: 'body'`, `details.reason`) on any difference.
 * @example
 * ```ts
 * import { parseTransparencyLogEntry, verifyEntryBody } from 'countersign/rekor'
 * verifyEntryBody(parseTransparencyLogEntry(bundle.tlogEntries[0]), {
 *   content: bundle.content,
 *   verifier: { certificate: leafDER },
 *   artifact: artifactBytes,
 * })
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function verifyEntryBody(entry: TransparencyLogEntry, expected: EntryBodyExpectation): RekorEntryBody {
  const body = readEntryBody(entry)
  const { content } = expected
  if (body.signatures.length !== 1) mismatch('the body must log exactly one signature')
  const logged = body.signatures[0]!
  if (!equalBytes(logged.signature, expectedSignature(content)))
    mismatch('the logged signature differs from the bundle')
  compareVerifier(logged.verifier, expected.verifier)
  if (content.type === 'messageSignature') {
    if (body.digestOf !== 'artifact') mismatch(`a message signature cannot be logged as ${body.kind}`)
    compareDigest(body.digest, expected.artifact, 'artifact')
    return body
  }
  const { envelope } = content
  if (body.digestOf === 'artifact') {
    // Rekor v2 logs DSSE as a hashedrekord over the PAE (client spec §4.4); Rekor v1 hashedrekord never holds DSSE.
    if (body.apiVersion !== '0.0.2') mismatch(`a DSSE envelope cannot be logged as ${body.kind} ${body.apiVersion}`)
    compareDigest(body.digest, dssePAE(envelope.payloadType, envelope.payload), 'DSSE PAE')
    return body
  }
  compareDigest(body.digest, envelope.payload, 'DSSE payload')
  if (body.payloadType !== undefined && body.payloadType !== envelope.payloadType) {
    mismatch('the logged payload type differs from the bundle envelope')
  }
  return body
}
