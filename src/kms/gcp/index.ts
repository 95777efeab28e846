/**
 * Google Cloud KMS keys (`gcpkms://…`) as signers, for verification and for `generate-key-pair --kms`.
 *
 * Exported from `countersign/kms/gcp`.
 * @module
 */
export type { AccessToken as BearerToken, AccessTokenSource as BearerTokenSource } from '../access-token.js'
export type { GCPKeyAlgorithm } from './algorithms.js'
export { crc32c } from './crc32c.js'
export type { GCPCredentialOptions, GCPExecutableRequest, GCPExecutableRunner } from './credential-options.js'
export { createGCPCredentialsFromJSON, createGCPMetadataCredentials } from './credentials.js'
export { GCP_KMS_ENDPOINT_OVERRIDE_VARIABLE, gcpKMSEndpointFromEnvironment } from './endpoint-override.js'
export {
  createGCPKMSProvider,
  type GCPCreateKeyOptions,
  type GCPKMSProvider,
  type GCPKMSProviderOptions,
} from './provider.js'
export { type GCPKMSKeyReference, parseGCPKMSURI } from './uri.js'
