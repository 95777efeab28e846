/**
 * AWS KMS keys as signers (`awskms://[ENDPOINT]/{key-id | alias/NAME | key ARN | alias ARN}`), with SigV4 request
 * signing and the fetch-only credential sources: environment keys, web identity, STS AssumeRole, SSO role
 * credentials, ECS/EKS container credentials and EC2 instance metadata (IMDSv2). The default chain over them, with
 * the shared config files, token files and `credential_process`, is `awsKMSProviderFromEnvironment` in
 * `countersign/node`.
 *
 * Exported from `countersign/kms/aws`.
 *
 * @module
 */
export type { AWSKeySpec } from './algorithms.js'
export { type AssumeRoleCredentialsOptions, createAssumeRoleCredentials } from './assume-role.js'
export { type ContainerCredentialsOptions, createContainerCredentials } from './container-credentials.js'
export {
  type AWSCredentialProvider,
  type AWSCredentials,
  awsCredentialsFromEnv,
  type CacheAWSCredentialsOptions,
  cacheAWSCredentials,
} from './credentials.js'
export { createIMDSCredentials, type IMDSCredentialsOptions } from './imds.js'
export {
  type AWSCreateKeyOptions,
  type AWSKMSProvider,
  type AWSKMSProviderOptions,
  createAWSKMSProvider,
} from './provider.js'
export {
  getSSORoleCredentials,
  type RefreshedSSOToken,
  type RefreshSSOTokenOptions,
  refreshSSOToken,
  type SSORoleCredentialsOptions,
} from './sso.js'
export { type AWSKMSReference, parseAWSKMSURI } from './uri.js'
export { createWebIdentityCredentials, type WebIdentityCredentialsOptions } from './web-identity.js'
