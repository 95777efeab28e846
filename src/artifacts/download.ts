/**
 * `download signature|sbom|attestation`: read what is attached to an image and print it the way cosign does
 * (docs/formats.md §Download output): bundles as compact JSON lines, legacy signatures as Go-marshalled
 * `SignedPayload` lines, legacy attestations as `{payloadType,payload,signatures}` lines, SBOMs as their raw bytes.
 * @module
 */
import { resolvePredicateType } from '../attestation/predicates.js'
import { parseStatement } from '../attestation/statement.js'
import { type Bundle, parseBundle } from '../bundle/bundle.js'
import { CountersignError, isCountersignError } from '../errors.js'
import { resolveDigest } from '../image/resolve.js'
import { fromBase64, fromUtf8, toBase64 } from '../internal/bytes.js'
import { mapLimit } from '../internal/concurrency.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { decodePEMBlocks } from '../internal/pem.js'
import { listReferrers } from '../oci/referrers.js'
import type { ProgressCallback } from '../oci/registry.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
} from '../signature/annotations.js'
import { bundleLayer } from '../signature/bundle-referrer.js'
import { attachmentReference } from '../signature/cosign-tags.js'
import { compactGoJSON, rekorBundleValue, rfc3161TimestampFromAnnotation } from '../signature/go-payloads.js'
import { signatureLayers } from '../signature/signature-image.js'
import { cosignArtifactType } from './attach-sbom.js'
import { digestForPlatform } from './platform.js'
import { checkAttachmentSize, DEFAULT_MAX_ATTACHMENT_SIZE } from './size-limit.js'

/** cosign refuses to download more than this many signatures or attestations (`maxAllowedSigsOrAtts`). */
const MAX_SIGS_OR_ATTS = 100

/**
 * Options for the download functions.
 *
 * Exported from `countersign/artifacts`.
 */
export interface DownloadOptions extends StoreCallOptions {
  /** Where the image and its attachments live. */
  readonly store: OCIStore
  /** Look in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** Refuse attachments larger than this (default 128 MiB, `COSIGN_MAX_ATTACHMENT_SIZE`). */
  readonly maxSize?: number
  /** For an image index: use the child for this platform (`os/arch[/variant]`, cosign's `--platform`). */
  readonly platform?: string
  /** Download progress of large blobs (the SBOM). */
  readonly onProgress?: ProgressCallback
}

/**
 * A Sigstore bundle found as a referrer.
 *
 * Exported from `countersign/artifacts`.
 */
export interface DownloadedBundle {
  /** The referrer manifest. */
  readonly referrer: Descriptor
  /** The bundle bytes exactly as stored. */
  readonly bytes: Uint8Array
  readonly bundle: Bundle
}

/**
 * One legacy signature, with what cosign's `SignedPayload` holds.
 *
 * Exported from `countersign/artifacts`.
 */
export interface LegacySignature {
  /** The layer of the `.sig` image. */
  readonly layer: Descriptor
  /** The signature annotation as stored. */
  readonly base64Signature: string
  /** The signed payload. */
  readonly payload: Uint8Array
  /** DER of the signing certificate, when the layer has one. */
  readonly certificate?: Uint8Array
  /** DER of the chain certificates, when the layer has a non-empty chain. */
  readonly chain?: readonly Uint8Array[]
  /** The Rekor bundle annotation, parsed. */
  readonly rekorBundle?: unknown
  /** The RFC 3161 timestamp annotation text. */
  readonly rfc3161Timestamp?: string
}

/**
 * What {@link downloadSignatures} found: bundles when there are any (cosign stops there), else legacy signatures.
 *
 * Exported from `countersign/artifacts`.
 */
export type DownloadedSignatures =
  | { readonly format: 'bundle'; readonly digest: string; readonly bundles: readonly DownloadedBundle[] }
  | { readonly format: 'legacy'; readonly digest: string; readonly signatures: readonly LegacySignature[] }

/**
 * Read an image's signatures as cosign's `download signature`: Sigstore bundle referrers first; when there are none
 * (or listing referrers fails), every layer of the legacy `.sig` image.
 *
 * @throws {CountersignError} ERR_NO_SIGNATURES (`no signatures associated`); ERR_OCI_SIZE_LIMIT for more than 100
 *   signatures or a payload over the limit; ERR_OCI_MANIFEST_INVALID for a layer without the signature annotation;
 *   ERR_OCI_NOT_FOUND (image tag missing); store errors.
 * @example
 * ```ts
 * import { downloadSignatures, formatDownloadedSignatures } from 'countersign/artifacts'
 * const found = await downloadSignatures(ref, { store })
 * for (const line of formatDownloadedSignatures(found)) console.log(line)
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function downloadSignatures(ref: Reference, options: DownloadOptions): Promise<DownloadedSignatures> {
  const call = callOf(options)
  const digest = await digestOf(ref, options, call)
  const bundles = await readBundles(options.store, options.signatureRepository ?? ref, digest, options, call)
  if (bundles.length > 0) return { format: 'bundle', digest, bundles }
  const sigRef = attachmentReference(ref, digest, 'sig', options.signatureRepository)
  const layers = await attachmentLayers(options.store, sigRef, call)
  if (layers === undefined || layers.length === 0) {
    throw new CountersignError('ERR_NO_SIGNATURES', `${describe(ref)}: no signatures associated`, {
      details: { digest },
    })
  }
  if (layers.length > MAX_SIGS_OR_ATTS) {
    throw new CountersignError(
      'ERR_OCI_SIZE_LIMIT',
      `maximum number of signatures on an image is ${MAX_SIGS_OR_ATTS}, found ${layers.length}`,
    )
  }
  const max = options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE
  const signatures = await mapLimit(layers, 4, async (layer): Promise<LegacySignature> => {
    const ann = layer.annotations ?? {}
    const base64Signature = ann[SIGNATURE_ANNOTATION]
    if (base64Signature === undefined) {
      throw new CountersignError(
        'ERR_OCI_MANIFEST_INVALID',
        `signature layer ${layer.digest} is missing "${SIGNATURE_ANNOTATION}" annotation`,
      )
    }
    checkAttachmentSize(layer.size, max)
    const payload = await options.store.fetchBlob(sigRef, layer.digest, { ...call, maxSize: max })
    const certs = (pem: string | undefined) => (pem ? decodePEMBlocks(pem).map((b) => b.bytes) : undefined)
    const certificate = certs(ann[CERTIFICATE_ANNOTATION])?.[0]
    const chain = certs(ann[CHAIN_ANNOTATION])
    const bundle = ann[BUNDLE_ANNOTATION]
    let rekorBundle: unknown
    if (bundle) {
      try {
        rekorBundle = JSON.parse(bundle)
      } catch (cause) {
        throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'unmarshaling bundle: invalid JSON', { cause })
      }
    }
    return {
      layer,
      base64Signature,
      payload,
      ...(certificate !== undefined ? { certificate } : {}),
      ...(chain !== undefined ? { chain } : {}),
      ...(rekorBundle !== undefined ? { rekorBundle } : {}),
      ...(ann[RFC3161_TIMESTAMP_ANNOTATION] ? { rfc3161Timestamp: ann[RFC3161_TIMESTAMP_ANNOTATION] } : {}),
    }
  })
  return { format: 'legacy', digest, signatures }
}

/**
 * The lines cosign's `download signature` prints for `found` (without newlines): each bundle as compact JSON with
 * Go's escaping, or each legacy signature as Go's `json.Marshal(SignedPayload)` —
 * `{"Base64Signature","Payload","Cert","Chain","Bundle","RFC3161Timestamp"}`. A certificate is printed as
 * `{"Raw":"<base64 DER>"}` only (Go would print every parsed `x509.Certificate` field).
 *
 * @example
 * ```ts
 * import { formatDownloadedSignatures } from 'countersign/artifacts'
 * process.stdout.write(formatDownloadedSignatures(found).map((l) => l + '\n').join(''))
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function formatDownloadedSignatures(found: DownloadedSignatures): string[] {
  if (found.format === 'bundle') return found.bundles.map((b) => formatBundleLine(b.bytes))
  return found.signatures.map((s) =>
    goMarshal(
      goObject([
        ['Base64Signature', s.base64Signature],
        ['Payload', toBase64(s.payload)],
        ['Cert', s.certificate === undefined ? null : goObject([['Raw', toBase64(s.certificate)]])],
        ['Chain', s.chain === undefined ? null : s.chain.map((c) => goObject([['Raw', toBase64(c)]]))],
        ['Bundle', s.rekorBundle === undefined ? null : rekorBundleValue(s.rekorBundle)],
        [
          'RFC3161Timestamp',
          s.rfc3161Timestamp === undefined ? null : rfc3161TimestampFromAnnotation(s.rfc3161Timestamp),
        ],
      ]),
    ),
  )
}

/** A bundle as cosign prints it: `json.Marshal` of the parsed bundle — compact, key order kept, Go escaping. */
function formatBundleLine(bytes: Uint8Array): string {
  // compactGoJSON recurses: bound the depth first (docs/formats.md §Input limits).
  const limits = { code: 'ERR_BUNDLE_INVALID', what: 'bundle', maxDepth: MAX_JSON_DEPTH } as const
  assertJSONText(bytes, { ...limits, maxBytes: bytes.length })
  const doc: unknown = JSON.parse(fromUtf8(bytes, 'bundle'))
  assertJSONShape(doc, limits)
  return compactGoJSON(doc)
}

/**
 * A legacy attestation as cosign's `AttestationPayload` decodes it from the `.att` layer.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttestationPayload {
  readonly payloadType: string
  /** Base64 of the statement, as stored. */
  readonly payload: string
  readonly signatures: ReadonlyArray<{ readonly keyid: string; readonly sig: string }>
}

/**
 * What {@link downloadAttestations} found.
 *
 * Exported from `countersign/artifacts`.
 */
export interface DownloadedAttestations {
  readonly digest: string
  /** Bundle referrers (signatures and attestations alike, as cosign), filtered by predicate type when asked. */
  readonly bundles: readonly DownloadedBundle[]
  /** Layers of the `.att` image, filtered by predicate type when asked. */
  readonly attestations: readonly AttestationPayload[]
}

/**
 * Options for {@link downloadAttestations}.
 *
 * Exported from `countersign/artifacts`.
 */
export interface DownloadAttestationsOptions extends DownloadOptions {
  /** Only this predicate type: a URI or one of cosign's short names (`custom`, `slsaprovenance`, `spdx`, …). */
  readonly predicateType?: string
}

/**
 * Read an image's attestations as cosign's `download attestation`: bundle referrers, then the `.att` layers, each
 * filtered by predicate type when one is given.
 *
 * @throws {CountersignError} ERR_NO_SIGNATURES `no attestations with predicate type '…' found` when a predicate type
 *   was given and nothing matched; ERR_OCI_SIZE_LIMIT (more than 100, or over the size limit); ERR_INVALID_INPUT for
 *   an `.att` layer that is not an envelope; store errors.
 * @example
 * ```ts
 * import { downloadAttestations, formatDownloadedAttestations } from 'countersign/artifacts'
 * const found = await downloadAttestations(ref, { store, predicateType: 'slsaprovenance' })
 * console.log(formatDownloadedAttestations(found).join('\n'))
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function downloadAttestations(
  ref: Reference,
  options: DownloadAttestationsOptions,
): Promise<DownloadedAttestations> {
  const call = callOf(options)
  const wanted = options.predicateType ? resolvePredicateType(options.predicateType) : undefined
  const digest = await digestOf(ref, options, call)
  const all = await readBundles(options.store, options.signatureRepository ?? ref, digest, options, call)
  const bundles = all.filter((b) => {
    if (wanted === undefined) return true
    if (b.bundle.content.type !== 'dsseEnvelope') return false
    try {
      return parseStatement(b.bundle.content.envelope.payload).predicateType === wanted
    } catch {
      return false
    }
  })
  const attRef = attachmentReference(ref, digest, 'att', options.signatureRepository)
  const layers = (await attachmentLayers(options.store, attRef, call)) ?? []
  if (layers.length > MAX_SIGS_OR_ATTS) {
    throw new CountersignError(
      'ERR_OCI_SIZE_LIMIT',
      `maximum number of attestations on an image is ${MAX_SIGS_OR_ATTS}, found ${layers.length}`,
    )
  }
  const max = options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE
  const read = await mapLimit(layers, 4, async (layer) => {
    checkAttachmentSize(layer.size, max)
    const raw = await options.store.fetchBlob(attRef, layer.digest, { ...call, maxSize: max })
    const att = parseAttestationPayload(raw)
    if (wanted !== undefined) {
      let statementType: string
      try {
        statementType = parseStatement(fromBase64(att.payload)).predicateType
      } catch (cause) {
        throw new CountersignError('ERR_INVALID_INPUT', 'unmarshaling statement: invalid in-toto statement', { cause })
      }
      if (statementType !== wanted) return undefined
    }
    return att
  })
  const attestations = read.filter((a): a is AttestationPayload => a !== undefined)
  if (wanted !== undefined && bundles.length === 0 && attestations.length === 0) {
    throw new CountersignError('ERR_NO_SIGNATURES', `no attestations with predicate type '${wanted}' found`, {
      details: { digest },
    })
  }
  return { digest, bundles, attestations }
}

/**
 * The lines cosign's `download attestation` prints: bundles as compact JSON, then each `.att` envelope as
 * `{"payloadType","payload","signatures":[{"keyid","sig"}]}`.
 *
 * @example
 * ```ts
 * import { formatDownloadedAttestations } from 'countersign/artifacts'
 * formatDownloadedAttestations(found).forEach((l) => console.log(l))
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function formatDownloadedAttestations(found: DownloadedAttestations): string[] {
  return [
    ...found.bundles.map((b) => formatBundleLine(b.bytes)),
    ...found.attestations.map((a) =>
      goMarshal(
        goObject([
          ['payloadType', a.payloadType],
          ['payload', a.payload],
          [
            'signatures',
            a.signatures.map((s) =>
              goObject([
                ['keyid', s.keyid],
                ['sig', s.sig],
              ]),
            ),
          ],
        ]),
      ),
    ),
  ]
}

function parseAttestationPayload(raw: Uint8Array): AttestationPayload {
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(raw, 'attestation'))
  } catch (cause) {
    throw new CountersignError('ERR_INVALID_INPUT', 'unmarshaling payload: not JSON', { cause })
  }
  if (!isJSONObject(doc)) throw new CountersignError('ERR_INVALID_INPUT', 'unmarshaling payload: not a JSON object')
  const str = (v: unknown) => (typeof v === 'string' ? v : '')
  return {
    payloadType: str(doc.payloadType),
    payload: str(doc.payload),
    signatures: (Array.isArray(doc.signatures) ? doc.signatures : []).map((s: unknown) => {
      const o = isJSONObject(s) ? s : {}
      return { keyid: str(o.keyid), sig: str(o.sig) }
    }),
  }
}

/**
 * An SBOM as {@link downloadSBOM} found it.
 *
 * Exported from `countersign/artifacts`.
 */
export interface DownloadedSBOM {
  readonly digest: string
  /** The SBOM layer's media type (`Found SBOM of media type: …`). */
  readonly mediaType: string
  /** The SBOM bytes, digest-checked. */
  readonly data: Uint8Array
  /** The manifest it came from: a referrer (by digest) or the `.sbom` tag. */
  readonly reference: Reference
}

/**
 * Read the SBOM attached to an image as cosign's `download sbom`: the last referrer with artifactType
 * `application/vnd.dev.cosign.artifact.sbom.v1+json` if any, else the `.sbom` tag; the attachment must have exactly
 * one layer.
 *
 * @throws {CountersignError} ERR_OCI_NOT_FOUND `no sbom attached to reference`; ERR_OCI_SIZE_LIMIT over the limit
 *   (checked on the declared size before downloading); ERR_OCI_MANIFEST_INVALID `expected exactly one layer in
 *   attachment, got N`; store errors.
 * @example
 * ```ts
 * import { downloadSBOM } from 'countersign/artifacts'
 * const { mediaType, data } = await downloadSBOM(ref, { store })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function downloadSBOM(ref: Reference, options: DownloadOptions): Promise<DownloadedSBOM> {
  const call = callOf(options)
  const digest = await digestOf(ref, options, call)
  const repo = options.signatureRepository ?? ref
  let source: Reference | undefined
  try {
    const found = await listReferrers(options.store, repo, digest, {
      ...call,
      artifactType: cosignArtifactType('sbom'),
    })
    const last = found[found.length - 1]
    if (last !== undefined) source = { registry: repo.registry, repository: repo.repository, digest: last.digest }
  } catch (e) {
    if (isCountersignError(e, 'ERR_ABORTED')) throw e
  }
  source ??= attachmentReference(ref, digest, 'sbom', options.signatureRepository)
  const layers = await attachmentLayers(options.store, source, call)
  if (layers === undefined) {
    throw new CountersignError('ERR_OCI_NOT_FOUND', 'no sbom attached to reference', { details: { digest } })
  }
  if (layers.length !== 1) {
    throw new CountersignError(
      'ERR_OCI_MANIFEST_INVALID',
      `expected exactly one layer in attachment, got ${layers.length}`,
    )
  }
  const layer = layers[0]!
  const max = options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE
  checkAttachmentSize(layer.size, max)
  const fetchOptions: StoreCallOptions & { maxSize: number; onProgress?: ProgressCallback } = {
    ...call,
    maxSize: max,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  }
  const data = await options.store.fetchBlob(source, layer.digest, fetchOptions)
  if (options.store.kind !== 'registry') options.onProgress?.(data.length, data.length)
  return { digest, mediaType: layer.mediaType, data, reference: source }
}

function callOf(options: StoreCallOptions): StoreCallOptions {
  return options.signal ? { signal: options.signal } : {}
}

function describe(ref: Reference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`
}

async function digestOf(ref: Reference, options: DownloadOptions, call: StoreCallOptions): Promise<string> {
  const digest = await resolveDigest(ref, options.store, undefined, call)
  return digestForPlatform(options.store, ref, digest, options.platform, call)
}

/** Layers of the attachment image at `ref`; `undefined` when there is none. */
async function attachmentLayers(
  store: OCIStore,
  ref: Reference,
  call: StoreCallOptions,
): Promise<readonly Descriptor[] | undefined> {
  try {
    return signatureLayers((await store.fetchManifest(ref, call)).manifest)
  } catch (e) {
    if (isCountersignError(e, 'ERR_OCI_NOT_FOUND')) return undefined
    throw e
  }
}

/**
 * cosign's `GetBundles`: every referrer of `digest` (no artifactType filter) holding exactly one bundle layer that
 * parses as a bundle v0.3; anything else is skipped, and a failure to list referrers means "no bundles".
 */
export async function readBundles(
  store: OCIStore,
  repo: Repository,
  digest: string,
  options: { readonly maxSize?: number },
  call: StoreCallOptions,
): Promise<DownloadedBundle[]> {
  let referrers: readonly Descriptor[]
  try {
    referrers = await listReferrers(store, repo, digest, call)
  } catch (e) {
    if (isCountersignError(e, 'ERR_ABORTED')) throw e
    return []
  }
  const max = options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE
  const found = await mapLimit(referrers, 4, async (referrer): Promise<DownloadedBundle | undefined> => {
    try {
      const at = { registry: repo.registry, repository: repo.repository, digest: referrer.digest }
      const layer = bundleLayer((await store.fetchManifest(at, call)).manifest)
      if (layer === undefined) return undefined
      const bytes = await store.fetchBlob(repo, layer.digest, { ...call, maxSize: max })
      const bundle = parseBundle(bytes)
      return bundle.version === '0.3' ? { referrer, bytes, bundle } : undefined
    } catch (e) {
      if (isCountersignError(e, 'ERR_ABORTED')) throw e
      return undefined
    }
  })
  return found.filter((b): b is DownloadedBundle => b !== undefined)
}
