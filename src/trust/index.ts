/**
 * Sigstore trusted roots: parse `trusted_root.json`, select log keys and authorities by ID and time, build one from
 * its parts (cosign's `trusted-root create`), and the public-good root shipped as data.
 *
 * Exported from `countersign/trust`.
 * @module
 */
export {
  SIGNING_CONFIG_MEDIA_TYPE_V02,
  TRUSTED_ROOT_MEDIA_TYPE_V01,
  TRUSTED_ROOT_MEDIA_TYPE_V02,
} from '../oci/media-types.js'
export {
  type CertificateAuthorityJSON,
  type CreateTrustedRootInput,
  createTrustedRoot,
  type TimeRangeJSON,
  type TransparencyLogJSON,
  type TrustedRootAuthorityInput,
  type TrustedRootCertificate,
  type TrustedRootJSON,
  type TrustedRootLogInput,
  transparencyLogId,
} from './create-trusted-root.js'
export { PUBLIC_GOOD_TRUSTED_ROOT_JSON, publicGoodTrustedRoot } from './public-good.js'
export { PUBLIC_GOOD_SIGNING_CONFIG_JSON, publicGoodSigningConfig } from './public-good-signing-config.js'
export {
  parseSigningConfig,
  type ServiceSelection,
  type SigningConfig,
  type SigningService,
  selectSigningService,
  selectSigningServices,
} from './signing-config.js'
export {
  type CertificateAuthority,
  isValidAt,
  type LogKey,
  parseTrustedRoot,
  selectCertificateAuthorities,
  selectTransparencyLogs,
  type TransparencyLog,
  type TrustedRoot,
  transparencyLogKey,
  type ValidityPeriod,
} from './trusted-root.js'
