/**
 * Azure Key Vault keys (`azurekms://…`) as signers, for verification and for `generate-key-pair --kms`.
 *
 * Exported from `countersign/kms/azure`.
 * @module
 */
export type { AccessToken as BearerToken, AccessTokenSource as BearerTokenSource } from '../access-token.js'
export {
  type AzureClientCertificate,
  type AzureClientCertificateOptions,
  createAzureClientCertificateCredentials,
} from './client-certificate.js'
export {
  type AzureClientCredentialsOptions,
  type AzureCredentialOptions,
  createAzureClientCredentials,
} from './credentials.js'
export {
  type AzureCLITokenSource,
  type AzureDefaultCredentialsOptions,
  createAzureDefaultCredentials,
} from './default-chain.js'
export {
  type AzureArcKeyReader,
  type AzureManagedIdentityOptions,
  createAzureManagedIdentityCredentials,
} from './managed-identity.js'
export {
  type AzureKMSProvider,
  type AzureKMSProviderOptions,
  createAzureKMSProvider,
} from './provider.js'
export { type AzureKMSKeyReference, parseAzureKMSURI } from './uri.js'
