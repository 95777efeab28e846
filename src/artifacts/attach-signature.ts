/**
 * `attach signature` and `attach attestation`: store signatures and attestations made elsewhere, as cosign does —
 * a layer of the legacy `.sig`/`.att` image, or, for a Sigstore bundle, an OCI 1.1 referrer like cosign v3 writes.
 * @module
 */
import { parseStatement } from '../attestation/statement.js'
import { parseBundle } from '../bundle/bundle.js'
import { CountersignError } from '../errors.js'
import { resolveDescriptor } from '../image/resolve.js'
import { fromBase64, fromUtf8, utf8 } from '../internal/bytes.js'
import { goMarshal } from '../internal/go-json.js'
import { isJSONObject } from '../internal/json.js'
import {
  BUNDLE_V03_MEDIA_TYPE,
  DSSE_ENVELOPE_MEDIA_TYPE,
  IN_TOTO_PAYLOAD_TYPE,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX,
  SIMPLE_SIGNING_MEDIA_TYPE,
} from '../oci/media-types.js'
import { repositoryName } from '../oci/reference.js'
import { pushReferrer } from '../oci/referrers.js'
import type { OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
} from '../signature/annotations.js'
import {
  buildBundleReferrerManifest,
  bundleReferrerAnnotations,
  EMPTY_JSON_BLOB,
} from '../signature/bundle-referrer.js'
import { attachmentReference } from '../signature/cosign-tags.js'
import {
  parseJSONObjectStream,
  rekorBundleValue,
  rfc3161TimestampValue,
  ssslEnvelopeJSON,
} from '../signature/go-payloads.js'
import { createSimpleSigningPayload } from '../signature/simple-signing.js'
import { type AttachmentLayer, appendAttachmentLayers, attachmentLayer } from './attachment-image.js'
import { checkAttachmentSize, DEFAULT_MAX_ATTACHMENT_SIZE } from './size-limit.js'

/**
 * Options shared by the attach functions.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachOptions extends StoreCallOptions {
  /** Where the image lives and the attachment goes. */
  readonly store: OCIStore
  /** Store it in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** Refuse payloads, envelopes and bundles larger than this (default 128 MiB). */
  readonly maxSize?: number
  /** Docker schema 2 media types for legacy images (`COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /** Creation time of a bundle referrer (`org.opencontainers.image.created`); default now. */
  readonly created?: Date
  /** Receives warnings (attaching by tag; a bundle about another digest). */
  readonly onWarning?: (message: string) => void
}

/**
 * Options for {@link attachSignature}.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachSignatureOptions extends AttachOptions {
  /** The signed payload; default the simple-signing payload cosign would sign for the image (`--payload`). */
  readonly payload?: Uint8Array
  /** PEM signing certificate (`--certificate`); sets the certificate and chain annotations. */
  readonly certificate?: string
  /** PEM chain, parent first (`--certificate-chain`). */
  readonly certificateChain?: string
  /** DER RFC 3161 timestamp response (`--tsr`). */
  readonly rfc3161Timestamp?: Uint8Array
  /**
   * A cosign "local signed payload" file (`--rekor-response`): JSON with a `rekorBundle` member, written to the
   * bundle annotation.
   */
  readonly rekorResponse?: Uint8Array
}

/**
 * What an attach function wrote.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachResult {
  /** The image digest it is attached to. */
  readonly digest: string
  /** `legacy` (a layer of the `.sig`/`.att` image) or `bundle` (a referrer manifest). */
  readonly format: 'legacy' | 'bundle'
  /** The `.sig`/`.att` tag, or the referrer manifest by digest. */
  readonly reference: Reference
  /** Digest of the manifest written. */
  readonly manifestDigest: string
}

/**
 * Attach an externally made signature (base64 text) to an image's `.sig` image, as cosign's `attach signature`:
 * one new layer holding the payload, annotated with the signature and any certificate, chain, Rekor bundle and
 * timestamp. Existing signatures are kept.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for an empty or non-base64 signature or a malformed Rekor response;
 *   ERR_OCI_SIZE_LIMIT; ERR_OCI_NOT_FOUND (image missing); store errors.
 * @example
 * ```ts
 * import { attachSignature } from 'countersign/artifacts'
 * await attachSignature(ref, base64Signature, { store, payload })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function attachSignature(
  ref: Reference,
  signature: string,
  options: AttachSignatureOptions,
): Promise<AttachResult> {
  // cosign stores the file as read; Go's base64 decoder skips line breaks, so a trailing newline is dropped here.
  const b64 = signature.replace(/[\r\n]+/g, '')
  if (b64 === '') throw new CountersignError('ERR_INVALID_INPUT', 'empty signature')
  fromBase64(b64)
  const call = options.signal ? { signal: options.signal } : {}
  const subject = await resolveDescriptor(ref, options.store, options.onWarning, call)
  const payload = options.payload ?? createSimpleSigningPayload(repositoryName(ref), subject.digest)
  checkAttachmentSize(payload.length, options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE)
  const annotations: Record<string, string> = { [SIGNATURE_ANNOTATION]: b64 }
  if (options.certificate !== undefined && options.certificate !== '') {
    annotations[CERTIFICATE_ANNOTATION] = options.certificate
    // cosign sets the chain whenever a certificate is given, even to "".
    annotations[CHAIN_ANNOTATION] = options.certificateChain ?? ''
  }
  if (options.rfc3161Timestamp !== undefined && options.rfc3161Timestamp.length > 0) {
    annotations[RFC3161_TIMESTAMP_ANNOTATION] = goMarshal(rfc3161TimestampValue(options.rfc3161Timestamp))
  }
  if (options.rekorResponse !== undefined) {
    let doc: unknown
    try {
      doc = JSON.parse(fromUtf8(options.rekorResponse, 'rekor response'))
    } catch (cause) {
      throw new CountersignError('ERR_INVALID_INPUT', 'the Rekor response is not valid JSON', { cause })
    }
    if (!isJSONObject(doc)) throw new CountersignError('ERR_INVALID_INPUT', 'the Rekor response is not a JSON object')
    if (doc.rekorBundle !== undefined && doc.rekorBundle !== null) {
      annotations[BUNDLE_ANNOTATION] = goMarshal(rekorBundleValue(doc.rekorBundle))
    }
  }
  const layer = await attachmentLayer(payload, SIMPLE_SIGNING_MEDIA_TYPE, annotations)
  return appendLegacy(ref, subject.digest, 'sig', [layer], options)
}

/**
 * Attach a Sigstore bundle as an OCI 1.1 referrer, as cosign v3's `attach signature --bundle` and `attach
 * attestation` do: the bundle must hold a DSSE envelope with an in-toto statement, whose predicate type becomes the
 * manifest's `dev.sigstore.bundle.predicateType`. The bundle is stored as given (never re-serialised).
 *
 * @throws {CountersignError} ERR_BUNDLE_INVALID (not a bundle, or no DSSE envelope: `bundle does not have DSSE
 *   envelope`); ERR_INVALID_INPUT (the statement does not parse); ERR_OCI_SIZE_LIMIT; store errors.
 * @example
 * ```ts
 * import { attachBundle } from 'countersign/artifacts'
 * await attachBundle(ref, await readFile('sig.sigstore.json'), { store })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function attachBundle(
  ref: Reference,
  bundleBytes: Uint8Array,
  options: AttachOptions,
): Promise<AttachResult> {
  checkAttachmentSize(bundleBytes.length, options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE)
  const bundle = parseBundle(bundleBytes)
  if (bundle.content.type !== 'dsseEnvelope') {
    throw new CountersignError('ERR_BUNDLE_INVALID', 'bundle does not have DSSE envelope')
  }
  const statement = parseStatement(bundle.content.envelope.payload)
  const call = options.signal ? { signal: options.signal } : {}
  const subject = await resolveDescriptor(ref, options.store, options.onWarning, call)
  const hex = subject.digest.slice(subject.digest.indexOf(':') + 1)
  if (!statement.subject.some((s) => Object.values(s.digest ?? {}).includes(hex))) {
    options.onWarning?.(`the bundle's statement does not name ${subject.digest}; it will not verify for this image`)
  }
  const target: Repository = options.signatureRepository ?? ref
  const [emptyConfig, bundleDescriptor] = await Promise.all([
    options.store.pushBlob(target, EMPTY_JSON_BLOB, OCI_EMPTY_MEDIA_TYPE, call),
    options.store.pushBlob(target, bundleBytes, BUNDLE_V03_MEDIA_TYPE, call),
  ])
  const subjectDescriptor = { mediaType: subject.mediaType, size: subject.size, digest: subject.digest }
  const created = options.created ?? new Date()
  const manifest = buildBundleReferrerManifest({
    bundle: bundleDescriptor,
    emptyConfig,
    subject: subjectDescriptor,
    predicateType: statement.predicateType,
    created,
  })
  const pushed = await pushReferrer(options.store, target, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE, {
    subject: subjectDescriptor,
    artifactType: BUNDLE_V03_MEDIA_TYPE,
    annotations: bundleReferrerAnnotations(statement.predicateType, created),
    ...call,
  })
  return {
    digest: subject.digest,
    format: 'bundle',
    reference: { registry: target.registry, repository: target.repository, digest: pushed.digest },
    manifestDigest: pushed.digest,
  }
}

/**
 * Attach attestations made elsewhere, as cosign's `attach attestation`: `input` is either a Sigstore bundle
 * (stored as a referrer, see {@link attachBundle}) or one or more DSSE envelopes (JSON objects one after another),
 * each appended as a layer of the `.att` image. Envelopes must carry an in-toto payload and at least one signature;
 * they are stored as go-securesystemslib marshals them (`payloadType, payload, signatures[{keyid, sig}]`).
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for malformed JSON, `invalid payloadType … on envelope`, or an
 *   envelope without signatures; ERR_OCI_SIZE_LIMIT; store errors.
 * @example
 * ```ts
 * import { attachAttestations } from 'countersign/artifacts'
 * await attachAttestations(ref, await readFile('attestation.intoto.jsonl'), { store })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function attachAttestations(
  ref: Reference,
  input: Uint8Array,
  options: AttachOptions,
): Promise<AttachResult> {
  const max = options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE
  const objects = parseJSONObjectStream(fromUtf8(input, 'attestation'), 'attestation')
  const first = objects[0]!
  if (
    objects.length === 1 &&
    typeof first.mediaType === 'string' &&
    first.mediaType.startsWith(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX)
  ) {
    return attachBundle(ref, input, options)
  }
  const layers: AttachmentLayer[] = []
  for (const env of objects) {
    if (env.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `invalid payloadType ${String(env.payloadType ?? '')} on envelope. Expected ${IN_TOTO_PAYLOAD_TYPE}`,
      )
    }
    if (!Array.isArray(env.signatures) || env.signatures.length === 0) {
      throw new CountersignError('ERR_INVALID_INPUT', 'could not attach attestation without having signatures')
    }
    const bytes = utf8(ssslEnvelopeJSON(env))
    checkAttachmentSize(bytes.length, max)
    layers.push(await attachmentLayer(bytes, DSSE_ENVELOPE_MEDIA_TYPE, { [SIGNATURE_ANNOTATION]: '' }))
  }
  const call = options.signal ? { signal: options.signal } : {}
  const subject = await resolveDescriptor(ref, options.store, options.onWarning, call)
  return appendLegacy(ref, subject.digest, 'att', layers, options)
}

async function appendLegacy(
  ref: Reference,
  digest: string,
  kind: 'sig' | 'att',
  layers: readonly AttachmentLayer[],
  options: AttachOptions,
): Promise<AttachResult> {
  const tagRef = attachmentReference(ref, digest, kind, options.signatureRepository)
  const written = await appendAttachmentLayers(options.store, tagRef, layers, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
  })
  return { digest, format: 'legacy', reference: tagRef, manifestDigest: written }
}
