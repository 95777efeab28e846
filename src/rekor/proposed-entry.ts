/**
 * Rekor v1 proposed entries (the body of `POST /api/v1/log/entries`), built as sigstore-go (cosign v3) and sigstore-js
 * send them: `hashedrekord` 0.0.1 for message signatures, `dsse` 0.0.1 or `intoto` 0.0.2 for DSSE envelopes.
 *
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js'
import canonicalize from 'canonicalize'
import type { BundleContent } from '../bundle/bundle.js'
import type { LogEntryKind, LogSigner } from '../contracts/transparency-log.js'
import { type DSSEEnvelope, serializeDSSEEnvelope } from '../dsse/envelope.js'
import { CountersignError } from '../errors.js'
import { toBase64, toHex, utf8 } from '../internal/bytes.js'
import { encodePEM } from '../internal/pem.js'

/** Rekor's `{algorithm, value}` with a lower-case hex value. */
interface HexDigest {
  readonly algorithm: 'sha256' | 'sha384' | 'sha512'
  readonly value: string
}

/**
 * `hashedrekord` 0.0.1: the artifact digest, the signature and the signer's PEM certificate or public key.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorHashedRekordEntry {
  readonly apiVersion: '0.0.1'
  readonly kind: 'hashedrekord'
  readonly spec: {
    readonly data: { readonly hash: HexDigest }
    /** `content`: base64 signature; `publicKey.content`: base64 of the PEM certificate or public key. */
    readonly signature: { readonly content: string; readonly publicKey: { readonly content: string } }
  }
}

/**
 * `dsse` 0.0.1: the envelope as a JSON string plus the verifiers (base64 PEM). Rekor replaces this with the envelope
 * and payload hashes and the signatures when it logs the entry.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorDSSEEntry {
  readonly apiVersion: '0.0.1'
  readonly kind: 'dsse'
  readonly spec: { readonly proposedContent: { readonly envelope: string; readonly verifiers: readonly string[] } }
}

/**
 * `intoto` 0.0.2: the envelope with payload and signature base64-encoded twice (Rekor's schema types them as bytes
 * holding the DSSE base64 strings), the signer's base64 PEM inside the signature, and the envelope and payload hashes.
 *
 * Exported from `countersign/rekor`.
 */
export interface RekorIntotoEntry {
  readonly apiVersion: '0.0.2'
  readonly kind: 'intoto'
  readonly spec: {
    readonly content: {
      readonly envelope: {
        readonly payloadType: string
        readonly payload: string
        readonly signatures: readonly { readonly sig: string; readonly publicKey: string; readonly keyid?: string }[]
      }
      readonly hash: HexDigest
      readonly payloadHash: HexDigest
    }
  }
}

/**
 * A Rekor v1 proposed entry countersign sends.
 *
 * Exported from `countersign/rekor`.
 */
export type RekorProposedEntry = RekorHashedRekordEntry | RekorDSSEEntry | RekorIntotoEntry

/** Bundle `messageDigest.algorithm` names (protobuf-specs HashAlgorithm) → Rekor v1 names and digest sizes. */
const DIGESTS: Readonly<Record<string, readonly [HexDigest['algorithm'], number]>> = {
  SHA2_256: ['sha256', 32],
  SHA2_384: ['sha384', 48],
  SHA2_512: ['sha512', 64],
}

function invalid(message: string): never {
  throw new CountersignError('ERR_INVALID_INPUT', `Rekor entry: ${message}`)
}

/** The signer as Rekor v1 wants it: a PEM block (certificate or PKIX public key) as Go's pem.Encode writes it. */
function signerPEM(signer: LogSigner): string {
  if (signer.type === 'certificate') return encodePEM('CERTIFICATE', signer.certificate)
  if (signer.type === 'publicKey') return encodePEM('PUBLIC KEY', signer.spki)
  return invalid('the signer must be a certificate or a public key')
}

function hashedRekord(content: Extract<BundleContent, { type: 'messageSignature' }>, pem: string) {
  const md = content.messageDigest
  if (md === undefined) invalid('a message signature needs its messageDigest for a hashedrekord entry')
  const known = Object.hasOwn(DIGESTS, md.algorithm) ? DIGESTS[md.algorithm] : undefined
  if (known === undefined) invalid(`digest algorithm ${JSON.stringify(md.algorithm)} cannot be logged in Rekor v1`)
  if (md.digest.length !== known[1]) invalid(`the ${md.algorithm} digest has the wrong length`)
  if (content.signature.length === 0) invalid('the signature is empty')
  return {
    apiVersion: '0.0.1',
    kind: 'hashedrekord',
    spec: {
      data: { hash: { algorithm: known[0], value: toHex(md.digest) } },
      signature: { content: toBase64(content.signature), publicKey: { content: toBase64(utf8(pem)) } },
    },
  } satisfies RekorHashedRekordEntry
}

function onlySignature(envelope: DSSEEnvelope) {
  if (envelope.signatures.length !== 1) invalid('the DSSE envelope must have exactly one signature')
  return envelope.signatures[0]!
}

function dsse(envelope: DSSEEnvelope, pem: string) {
  onlySignature(envelope)
  return {
    apiVersion: '0.0.1',
    kind: 'dsse',
    // sigstore-go sends json.Marshal of the protobuf envelope: payload, payloadType, signatures[{sig[, keyid]}].
    spec: { proposedContent: { envelope: serializeDSSEEnvelope(envelope), verifiers: [toBase64(utf8(pem))] } },
  } satisfies RekorDSSEEntry
}

function intoto(envelope: DSSEEnvelope, pem: string) {
  const sig = onlySignature(envelope)
  const payloadB64 = toBase64(envelope.payload)
  const sigB64 = toBase64(sig.sig)
  // An empty keyid is left out, as Rekor drops it: the stored body must match what verifiers rebuild.
  const keyid = sig.keyid ? { keyid: sig.keyid } : {}
  // Rekor cannot recompute `hash` (it depends on the serialisation), so it keeps the client's. sigstore-js hashes the
  // RFC 8785 form of the envelope with single-base64 payload and signature and the PEM (not base64) key.
  const envelopeHash = canonicalize({
    payloadType: envelope.payloadType,
    payload: payloadB64,
    signatures: [{ sig: sigB64, publicKey: pem, ...keyid }],
  })
  return {
    apiVersion: '0.0.2',
    kind: 'intoto',
    spec: {
      content: {
        envelope: {
          payloadType: envelope.payloadType,
          payload: toBase64(utf8(payloadB64)),
          signatures: [{ sig: toBase64(utf8(sigB64)), publicKey: toBase64(utf8(pem)), ...keyid }],
        },
        hash: { algorithm: 'sha256', value: toHex(sha256(utf8(envelopeHash!))) },
        payloadHash: { algorithm: 'sha256', value: toHex(sha256(envelope.payload)) },
      },
    },
  } satisfies RekorIntotoEntry
}

/**
 * Build the Rekor v1 proposed entry for a bundle's content: `hashedrekord` 0.0.1 for a message signature (its
 * `messageDigest` is logged, so it must be present); for a DSSE envelope with one signature, `dsse` 0.0.1 (default,
 * what cosign v3 and sigstore-go upload) or `intoto` 0.0.2 (sigstore-js `legacyCompatibility`). `kind` only chooses
 * between the DSSE kinds; a message signature is always a hashedrekord.
 *
 * @param content - `bundle.content`.
 * @param signer - The leaf certificate or public key that verifies the signature.
 * @param options - `kind` for DSSE envelopes.
 * @returns The proposed entry, ready to be sent as JSON.
 * @throws {CountersignError} ERR_INVALID_INPUT for a message signature without a usable digest, a DSSE envelope
 *   without exactly one signature, or `kind: 'hashedrekord'` for a DSSE envelope.
 * @example
 * ```ts
 * import { createRekorProposedEntry } from 'countersign/rekor'
 * const proposed = createRekorProposedEntry(bundle.content, { type: 'certificate', certificate, algorithm })
 * console.log(proposed.kind) // "hashedrekord" or "dsse"
 * ```
 *
 * Exported from `countersign/rekor`.
 */
export function createRekorProposedEntry(
  content: BundleContent,
  signer: LogSigner,
  options: { readonly kind?: LogEntryKind } = {},
): RekorProposedEntry {
  const pem = signerPEM(signer)
  if (content.type === 'messageSignature') return hashedRekord(content, pem)
  if (content.type !== 'dsseEnvelope') invalid('unknown bundle content')
  const kind = options.kind ?? 'dsse'
  if (kind === 'dsse') return dsse(content.envelope, pem)
  if (kind === 'intoto') return intoto(content.envelope, pem)
  return invalid(`a DSSE envelope cannot be logged as ${JSON.stringify(kind)} in Rekor v1 (use dsse or intoto)`)
}
