/**
 * `attach sbom`: store an SBOM next to an image, unsigned, in cosign's legacy `.sbom` tag or (cosign's experimental
 * `--registry-referrers-mode=oci-1-1`) as an OCI 1.1 referrer (docs/formats.md §Attachment tags, §OCI 1.1 referrer
 * modes).
 * @module
 */
import { CountersignError } from '../errors.js'
import { resolveDescriptor } from '../image/resolve.js'
import { utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import type { HasherFactory } from '../oci/blob-download.js'
import { sha256Digest } from '../oci/digest.js'
import {
  COSIGN_ARTIFACT_TYPE_PREFIX,
  CYCLONEDX_JSON_MEDIA_TYPE,
  CYCLONEDX_XML_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  SPDX_JSON_MEDIA_TYPE,
  SPDX_MEDIA_TYPE,
  SYFT_MEDIA_TYPE,
} from '../oci/media-types.js'
import { pushReferrer } from '../oci/referrers.js'
import type { ProgressCallback } from '../oci/registry.js'
import type { Descriptor, OCIStore, Reference, Repository, StoreCallOptions } from '../oci/types.js'
import { attachmentReference } from '../signature/cosign-tags.js'
import { buildSignatureImage } from '../signature/signature-image.js'
import { type AttachmentContent, contentSize, isStreamedContent } from './attachment-content.js'
import { attachmentLayer, pushBlobWithProgress, writeSingleLayerImage } from './attachment-image.js'
import { checkAttachmentSize, DEFAULT_MAX_ATTACHMENT_SIZE } from './size-limit.js'

/**
 * The OCI 1.1 artifact type cosign gives an attachment kind (`sig`, `sbom`, `att`, …):
 * `application/vnd.dev.cosign.artifact.<name>.v1+json`.
 *
 * @example
 * ```ts
 * import { cosignArtifactType } from 'countersign/artifacts'
 * cosignArtifactType('sbom') // 'application/vnd.dev.cosign.artifact.sbom.v1+json'
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function cosignArtifactType(name: string): string {
  return `${COSIGN_ARTIFACT_TYPE_PREFIX}${name}.v1+json`
}

/**
 * Options for {@link sbomMediaType}.
 *
 * Exported from `countersign/artifacts`.
 */
export interface SBOMMediaTypeOptions {
  /** `json`, `xml` or `text` (cosign's `--input-format`). */
  readonly inputFormat?: string
  /** The SBOM's file name: a `.json` suffix means JSON when no input format is given. */
  readonly fileName?: string
}

/**
 * The layer media type for an SBOM of `type` (`spdx`, `cyclonedx`, `syft`), exactly as cosign's
 * `AttachSBOMOptions.MediaType` picks it.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for an unknown type or an input format the type does not have.
 * @example
 * ```ts
 * import { sbomMediaType } from 'countersign/artifacts'
 * sbomMediaType('spdx', { fileName: 'sbom.spdx.json' }) // 'text/spdx+json'
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export function sbomMediaType(type: string, options: SBOMMediaTypeOptions = {}): string {
  const format = options.inputFormat ?? ''
  const looksLikeJSON = options.fileName?.endsWith('.json') === true
  const bad = (expected: string) =>
    new CountersignError('ERR_INVALID_INPUT', `invalid SBOM input format: "${format}", expected (${expected})`)
  switch (type) {
    case 'cyclonedx':
      if (format !== '' && format !== 'xml' && format !== 'json') throw bad('json|xml')
      return format === 'json' || looksLikeJSON ? CYCLONEDX_JSON_MEDIA_TYPE : CYCLONEDX_XML_MEDIA_TYPE
    case 'spdx':
      if (format !== '' && format !== 'text' && format !== 'json') throw bad('json|text')
      return format === 'json' || looksLikeJSON ? SPDX_JSON_MEDIA_TYPE : SPDX_MEDIA_TYPE
    case 'syft':
      if (format !== '' && format !== 'json') throw bad('json')
      return SYFT_MEDIA_TYPE
    default:
      throw new CountersignError('ERR_INVALID_INPUT', `unknown SBOM type: "${type}", expected (spdx|cyclonedx|syft)`)
  }
}

/**
 * Options for {@link attachSBOM}.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachSBOMOptions extends StoreCallOptions {
  /** Where the image lives and the SBOM goes. */
  readonly store: OCIStore
  /** The layer media type (see {@link sbomMediaType}). */
  readonly mediaType: string
  /**
   * `legacy` (default): an image at tag `sha256-<hex>.sbom`, replacing what was there. `referrer`: an OCI 1.1
   * referrer with artifactType `application/vnd.dev.cosign.artifact.sbom.v1+json` (cosign's `oci-1-1` mode).
   */
  readonly mode?: 'legacy' | 'referrer'
  /** Store it in another repository (cosign's `COSIGN_REPOSITORY`). */
  readonly signatureRepository?: Repository
  /** Refuse SBOMs larger than this (default 128 MiB, cosign's `COSIGN_MAX_ATTACHMENT_SIZE`). */
  readonly maxSize?: number
  /** Docker schema 2 media types for the legacy image (`COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /** Upload progress of the SBOM blob. */
  readonly onProgress?: ProgressCallback
  /** Receives warnings (attaching by tag). */
  readonly onWarning?: (message: string) => void
  /**
   * Incremental SHA-256 for streamed content given without a digest; default `@noble/hashes` (on Node,
   * `nodeHasher` from `countersign/node` is several times faster).
   */
  readonly hasher?: HasherFactory
}

/**
 * What {@link attachSBOM} wrote.
 *
 * Exported from `countersign/artifacts`.
 */
export interface AttachSBOMResult {
  /** The image digest the SBOM is attached to. */
  readonly digest: string
  /** The `.sbom` tag, or the referrer manifest by digest. */
  readonly reference: Reference
  /** Digest of the manifest written. */
  readonly manifestDigest: string
  /** Descriptor of the SBOM blob. */
  readonly layer: Descriptor
}

/**
 * Attach an SBOM to an image, unsigned, as cosign's `attach sbom` does. The size limit is checked before anything
 * is read or uploaded. Blobs are pushed before the manifest. The SBOM is bytes, or {@link StreamedContent} (a
 * file, say): that is hashed in one pass unless its digest is given and, to a registry, uploaded in chunks read
 * one at a time, so memory does not grow with its size (an OCI layout store gets it read into one buffer). Its
 * bytes are stored as they are, never decoded or parsed.
 *
 * @throws {CountersignError} ERR_OCI_SIZE_LIMIT above `maxSize`; ERR_OCI_NOT_FOUND (`details.target` `image`) when
 *   the image is missing; store errors.
 * @example
 * ```ts
 * import { attachSBOM, sbomMediaType } from 'countersign/artifacts'
 * await attachSBOM(ref, sbomBytes, { store, mediaType: sbomMediaType('spdx', { fileName: 'sbom.spdx.json' }) })
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export async function attachSBOM(
  ref: Reference,
  sbom: AttachmentContent,
  options: AttachSBOMOptions,
): Promise<AttachSBOMResult> {
  if (!(sbom instanceof Uint8Array) && !isStreamedContent(sbom)) {
    throw new TypeError('"sbom" must be a Uint8Array or a StreamedContent ({ size, open })')
  }
  checkAttachmentSize(contentSize(sbom), options.maxSize ?? DEFAULT_MAX_ATTACHMENT_SIZE)
  const call = options.signal ? { signal: options.signal } : {}
  const subject = await resolveDescriptor(ref, options.store, options.onWarning, call)
  const layer = await attachmentLayer(sbom, options.mediaType, undefined, options.hasher)
  const target: Repository = options.signatureRepository ?? ref
  if (options.mode !== 'referrer') {
    const tagRef = attachmentReference(ref, subject.digest, 'sbom', options.signatureRepository)
    const written = await writeSingleLayerImage(options.store, tagRef, layer, {
      ...call,
      ...(options.dockerMediaTypes ? { dockerMediaTypes: true } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    })
    return { digest: subject.digest, reference: tagRef, manifestDigest: written.digest, layer: layer.descriptor }
  }
  const targetRef: Reference = { registry: target.registry, repository: target.repository }
  await pushBlobWithProgress(options.store, targetRef, layer, {
    ...call,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  })
  const artifactType = cosignArtifactType('sbom')
  // ggcr's empty image with the config media type set to the artifact type, the SBOM appended, a subject added:
  // the config blob is the same ConfigFile JSON as a signature image's.
  const image = await buildSignatureImage([layer.descriptor], { digest: sha256Digest })
  const config = await options.store.pushBlob(targetRef, image.config, artifactType, call)
  const subjectDescriptor = { mediaType: subject.mediaType, size: subject.size, digest: subject.digest }
  const desc = (d: Descriptor) =>
    goObject([
      ['mediaType', d.mediaType],
      ['size', d.size],
      ['digest', d.digest],
    ])
  const manifest = utf8(
    goMarshal(
      goObject([
        ['schemaVersion', 2],
        ['mediaType', OCI_IMAGE_MANIFEST_MEDIA_TYPE],
        ['config', desc(config)],
        ['layers', [desc(layer.descriptor)]],
        ['subject', desc(subjectDescriptor)],
      ]),
    ),
  )
  const pushed = await pushReferrer(options.store, target, manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE, {
    subject: subjectDescriptor,
    artifactType,
    annotations: {},
    ...call,
  })
  return {
    digest: subject.digest,
    reference: { ...targetRef, digest: pushed.digest },
    manifestDigest: pushed.digest,
    layer: layer.descriptor,
  }
}
