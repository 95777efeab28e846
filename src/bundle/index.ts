/**
 * Sigstore bundles: parse v0.1–v0.3 and serialise v0.3.
 *
 * Exported from `countersign/bundle`.
 * @module
 */
export { BUNDLE_V03_MEDIA_TYPE } from '../oci/media-types.js'
export {
  type Bundle,
  type BundleContent,
  type BundleVerificationMaterial,
  type BundleVersion,
  parseBundle,
  serializeBundle,
} from './bundle.js'
