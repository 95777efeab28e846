/** Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle`, JSON form): parse and serialise. @module */
import { type DSSEEnvelope, dsseEnvelopeJSON, parseDSSEEnvelope } from '../dsse/envelope.js'
import { CountersignError } from '../errors.js'
import { clipText, MAX_QUOTED_LENGTH, quoteClipped } from '../internal/bounded-text.js'
import { fromBase64, fromUtf8, toBase64, utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { merged } from '../internal/merged.js'
import {
  BUNDLE_V01_MEDIA_TYPE,
  BUNDLE_V02_MEDIA_TYPE,
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
} from '../oci/media-types.js'

/**
 * Largest bundle read from bytes: the registry client's blob limit. A bundle is small JSON around a DSSE payload;
 * only an attached SBOM makes it large (docs/formats.md §Input limits).
 */
const MAX_BUNDLE_BYTES = 128 * 1024 * 1024
const BUNDLE_LIMITS = { code: 'ERR_BUNDLE_INVALID', what: 'bundle', maxDepth: MAX_JSON_DEPTH } as const

const MEDIA_TYPES: Readonly<Record<string, BundleVersion>> = {
  [BUNDLE_V01_MEDIA_TYPE]: '0.1',
  [BUNDLE_V02_MEDIA_TYPE]: '0.2',
  [BUNDLE_V03_LEGACY_MEDIA_TYPE]: '0.3',
  [BUNDLE_V03_MEDIA_TYPE]: '0.3',
}

/** Bundle versions countersign reads. Exported from `countersign/bundle`. */
export type BundleVersion = '0.1' | '0.2' | '0.3'

/**
 * Key or certificate material of a bundle.
 *
 * Exported from `countersign/bundle`.
 */
export type BundleVerificationMaterial =
  | { readonly type: 'publicKey'; readonly hint: string }
  | { readonly type: 'certificate'; readonly certificate: Uint8Array }
  | { readonly type: 'x509CertificateChain'; readonly certificates: readonly Uint8Array[] }

/**
 * What a bundle signs: a DSSE envelope or a message signature.
 *
 * Exported from `countersign/bundle`.
 */
export type BundleContent =
  | { readonly type: 'dsseEnvelope'; readonly envelope: DSSEEnvelope }
  | {
      readonly type: 'messageSignature'
      readonly signature: Uint8Array
      readonly messageDigest?: { readonly algorithm: string; readonly digest: Uint8Array }
    }

/**
 * A parsed bundle. Transparency-log entries and timestamps are kept as received JSON for the Sigstore verifier.
 *
 * Exported from `countersign/bundle`.
 */
export interface Bundle {
  readonly mediaType: string
  readonly version: BundleVersion
  readonly verificationMaterial: BundleVerificationMaterial
  readonly tlogEntries: readonly unknown[]
  readonly timestampVerificationData?: unknown
  readonly content: BundleContent
}

/**
 * Parse a bundle from JSON bytes (or an already parsed object). Signed bytes inside (DSSE payload, signatures) are
 * kept exactly as received.
 *
 * @throws {CountersignError} ERR_BUNDLE_INVALID for malformed JSON, an unknown media type/version, missing parts,
 *   two alternatives of a oneof (key, certificate, chain; envelope, message signature), or a chain in a v0.3 bundle.
 * @example
 * ```ts
 * import { parseBundle } from 'countersign/bundle'
 * const bundle = parseBundle(bytes)
 * ```
 *
 * Exported from `countersign/bundle`.
 */
export function parseBundle(input: Uint8Array | unknown): Bundle {
  let doc = input
  if (input instanceof Uint8Array) {
    assertJSONText(input, merged(BUNDLE_LIMITS, { maxBytes: MAX_BUNDLE_BYTES }))
    try {
      doc = JSON.parse(fromUtf8(input, 'bundle'))
    } catch (cause) {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is not valid JSON', { cause })
    }
  }
  if (!isJSONObject(doc)) throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle is not a JSON object')
  assertJSONShape(doc, BUNDLE_LIMITS)
  const mediaType = doc.mediaType
  const version = typeof mediaType === 'string' ? MEDIA_TYPES[mediaType] : undefined
  if (!version) {
    // A string is shown bare, as before; anything else as clipped JSON, never through `String`, which recurses into
    // nested arrays.
    const shown = typeof mediaType === 'string' ? clipText(mediaType, MAX_QUOTED_LENGTH) : quoteClipped(mediaType)
    throw new CountersignError('ERR_BUNDLE_INVALID', `unsupported bundle media type: ${shown}`)
  }
  const vm = doc.verificationMaterial
  if (!isJSONObject(vm)) throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle has no verificationMaterial')
  const tlogEntries = vm.tlogEntries === undefined ? [] : vm.tlogEntries
  if (!Array.isArray(tlogEntries)) throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle tlogEntries is not a list')
  const verificationMaterial = parseMaterial(vm)
  // sigstore-go (pkg/bundle/bundle.go validate) and the v0.3 spec: a v0.3 bundle carries the leaf alone.
  if (version === '0.3' && verificationMaterial.type === 'x509CertificateChain') {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'a v0.3 bundle cannot carry an x509CertificateChain')
  }
  return {
    mediaType: mediaType as string,
    version,
    verificationMaterial,
    tlogEntries,
    ...(vm.timestampVerificationData !== undefined ? { timestampVerificationData: vm.timestampVerificationData } : {}),
    content: parseContent(doc),
  }
}

const MATERIALS = ['publicKey', 'certificate', 'x509CertificateChain'] as const

function parseMaterial(vm: Record<string, unknown>): BundleVerificationMaterial {
  // A protobuf oneof (protojson refuses a second alternative; null means unset): a bundle carrying a key and a
  // certificate would be verified with one and read by a consumer as the other.
  const present = MATERIALS.filter((k) => vm[k] !== undefined && vm[k] !== null)
  if (present.length > 1) {
    throw new CountersignError(
      'ERR_BUNDLE_INVALID',
      `bundle verification material has more than one of ${present.join(', ')}`,
    )
  }
  try {
    if (isJSONObject(vm.publicKey)) {
      return { type: 'publicKey', hint: typeof vm.publicKey.hint === 'string' ? vm.publicKey.hint : '' }
    }
    if (isJSONObject(vm.certificate) && typeof vm.certificate.rawBytes === 'string') {
      return { type: 'certificate', certificate: fromBase64(vm.certificate.rawBytes) }
    }
    const chain = isJSONObject(vm.x509CertificateChain) ? vm.x509CertificateChain.certificates : undefined
    if (Array.isArray(chain) && chain.length > 0) {
      return {
        type: 'x509CertificateChain',
        certificates: chain.map((c) => {
          if (!isJSONObject(c) || typeof c.rawBytes !== 'string') throw new Error('certificate without rawBytes')
          return fromBase64(c.rawBytes)
        }),
      }
    }
  } catch (cause) {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle verification material is malformed', { cause })
  }
  throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle has no public key, certificate or certificate chain')
}

function parseContent(doc: Record<string, unknown>): BundleContent {
  // The content is a protobuf oneof: a bundle carrying both would let a verifier check one and a consumer use the other.
  if (doc.dsseEnvelope !== undefined && doc.messageSignature !== undefined && doc.messageSignature !== null) {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle has both dsseEnvelope and messageSignature')
  }
  if (doc.dsseEnvelope !== undefined) {
    let envelope: DSSEEnvelope
    try {
      envelope = parseDSSEEnvelope(doc.dsseEnvelope)
    } catch (cause) {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle DSSE envelope is malformed', { cause })
    }
    if (envelope.signatures.length !== 1) {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle DSSE envelope must have exactly one signature')
    }
    return { type: 'dsseEnvelope', envelope }
  }
  const ms = doc.messageSignature
  if (isJSONObject(ms) && typeof ms.signature === 'string') {
    try {
      const md = isJSONObject(ms.messageDigest) ? ms.messageDigest : undefined
      return {
        type: 'messageSignature',
        signature: fromBase64(ms.signature),
        ...(md && typeof md.algorithm === 'string' && typeof md.digest === 'string'
          ? { messageDigest: { algorithm: md.algorithm, digest: fromBase64(md.digest) } }
          : {}),
      }
    } catch (cause) {
      throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle message signature is malformed', { cause })
    }
  }
  throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle has neither dsseEnvelope nor messageSignature')
}

/**
 * Serialise a bundle v0.3 in protojson field order (`mediaType, verificationMaterial{publicKey|certificate|
 * x509CertificateChain, tlogEntries, timestampVerificationData}, dsseEnvelope|messageSignature`), omitting empty
 * fields as protojson does. Log entries and timestamps are written back as given.
 *
 * @example
 * ```ts
 * import { serializeBundle } from 'countersign/bundle'
 * const bytes = serializeBundle(bundle)
 * ```
 *
 * Exported from `countersign/bundle`.
 */
export function serializeBundle(bundle: Omit<Bundle, 'version'>): Uint8Array {
  const vm = bundle.verificationMaterial
  const material =
    vm.type === 'publicKey'
      ? ['publicKey', goObject([['hint', vm.hint || undefined]])]
      : vm.type === 'certificate'
        ? ['certificate', goObject([['rawBytes', toBase64(vm.certificate)]])]
        : [
            'x509CertificateChain',
            goObject([['certificates', vm.certificates.map((c) => goObject([['rawBytes', toBase64(c)]]))]]),
          ]
  const c = bundle.content
  const content =
    c.type === 'dsseEnvelope'
      ? ['dsseEnvelope', dsseEnvelopeJSON(c.envelope)]
      : [
          'messageSignature',
          goObject([
            [
              'messageDigest',
              c.messageDigest
                ? goObject([
                    ['algorithm', c.messageDigest.algorithm],
                    ['digest', toBase64(c.messageDigest.digest)],
                  ])
                : undefined,
            ],
            ['signature', toBase64(c.signature)],
          ]),
        ]
  return utf8(
    goMarshal(
      goObject([
        ['mediaType', bundle.mediaType],
        [
          'verificationMaterial',
          goObject([
            material as [string, unknown],
            ['tlogEntries', bundle.tlogEntries.length > 0 ? bundle.tlogEntries : undefined],
            ['timestampVerificationData', bundle.timestampVerificationData],
          ]),
        ],
        content as [string, unknown],
      ]),
      { escapeHTML: false },
    ),
  )
}
