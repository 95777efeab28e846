/**
 * Everything cosign attaches to an image besides signing it: attach SBOMs, signatures and attestations made
 * elsewhere, download them, show the attachment tree, clean them up, and save/load an image with its signatures
 * to and from an OCI layout.
 *
 * Exported from `countersign/artifacts`.
 * @module
 */
export {
  CYCLONEDX_JSON_MEDIA_TYPE,
  CYCLONEDX_XML_MEDIA_TYPE,
  DSSE_ENVELOPE_MEDIA_TYPE,
  SPDX_JSON_MEDIA_TYPE,
  SPDX_MEDIA_TYPE,
  SYFT_MEDIA_TYPE,
} from '../oci/media-types.js'
export {
  type AttachSBOMOptions,
  type AttachSBOMResult,
  attachSBOM,
  cosignArtifactType,
  type SBOMMediaTypeOptions,
  sbomMediaType,
} from './attach-sbom.js'
export {
  type AttachOptions,
  type AttachResult,
  type AttachSignatureOptions,
  attachAttestations,
  attachBundle,
  attachSignature,
} from './attach-signature.js'
export type { AttachmentContent, StreamedContent } from './attachment-content.js'
export {
  type CleanedManifest,
  type CleanOptions,
  type CleanResult,
  type CleanType,
  cleanImage,
  cleanPrompt,
} from './clean.js'
export {
  type AttestationPayload,
  type DownloadAttestationsOptions,
  type DownloadedAttestations,
  type DownloadedBundle,
  type DownloadedSBOM,
  type DownloadedSignatures,
  type DownloadOptions,
  downloadAttestations,
  downloadSBOM,
  downloadSignatures,
  formatDownloadedAttestations,
  formatDownloadedSignatures,
  type LegacySignature,
} from './download.js'
export { type LayoutTransferOptions, type LayoutTransferResult, loadImage, saveImage } from './save-load.js'
export { checkAttachmentSize, DEFAULT_MAX_ATTACHMENT_SIZE, maxAttachmentSize, parseByteSize } from './size-limit.js'
export {
  type AttachmentReferrer,
  type AttachmentTag,
  type AttachmentTree,
  type AttachmentTreeOptions,
  formatAttachmentTree,
  getAttachmentTree,
} from './tree.js'
