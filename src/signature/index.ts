/**
 * cosign's legacy signature format: simple-signing payloads, the `.sig` image and its annotations.
 *
 * Exported from `countersign/signature`.
 * @module
 */

export { SIMPLE_SIGNING_MEDIA_TYPE } from '../oci/media-types.js'
export {
  BUNDLE_ANNOTATION,
  CERTIFICATE_ANNOTATION,
  CHAIN_ANNOTATION,
  hasAnnotations,
  parseAnnotationFlags,
  RFC3161_TIMESTAMP_ANNOTATION,
  SIGNATURE_ANNOTATION,
} from './annotations.js'
export {
  BUNDLE_CONTENT_ANNOTATION,
  BUNDLE_PREDICATE_TYPE_ANNOTATION,
  type BundleReferrerInput,
  buildBundleReferrerManifest,
  bundleLayer,
  bundleReferrerAnnotations,
  CREATED_ANNOTATION,
  EMPTY_JSON_BLOB,
} from './bundle-referrer.js'
export { type CIEnvironment, ciAnnotations } from './ci-annotations.js'
export { type AttachmentKind, attachmentReference, attachmentTag } from './cosign-tags.js'
export {
  type BuildSignatureImageOptions,
  buildSignatureImage,
  type ExistingSignatureConfig,
  MAX_SIGNATURE_LAYERS,
  readSignatureConfig,
  type SignatureImage,
  signatureLayers,
} from './signature-image.js'
export {
  COSIGN_SIGNATURE_TYPE,
  createSimpleSigningPayload,
  parseSimpleSigningPayload,
  type SimpleSigningPayload,
} from './simple-signing.js'
