/**
 * Azure Key Vault keys (`azurekms://…`) as signers, for verification and for `generate-key-pair --kms`.
 *
 * Exported from `countersign/kms/azure`.
 * @module
 */
export type { AccessToken as BearerToken, AccessTokenSource as BearerTokenSource } from '../access-token.js'
export {
  type AzureClientCredentialsOptions,
  type AzureCredentialOptions,
  type AzureDefaultCredentialsOptions,
  type AzureManagedIdentityOptions,
  createAzureClientCredentials,
  createAzureDefaultCredentials,
  createAzureManagedIdentityCredentials,
} from './credentials.js'
export {
  type AzureKMSProvider,
  type AzureKMSProviderOptions,
  createAzureKMSProvider,
} from './provider.js'
export { type AzureKMSKeyReference, parseAzureKMSURI } from './uri.js'
