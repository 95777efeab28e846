/**
 * Node.js adapters: key files, password prompts, Docker credentials and OCI layouts on disk.
 * Only the `node` export condition resolves this subpath, so browser bundlers fail loudly instead of polyfilling.
 *
 * Exported from `countersign/node`.
 * @module
 */

export {
  type AdmissionServer,
  type AdmissionServerOptions,
  type PolicyFile,
  startAdmissionServer,
} from './admission-server.js'
export { type AWSCredentialProcessOptions, createAWSCredentialProcess } from './aws-credential-process.js'
export {
  type AWSNodeCredentialsOptions,
  awsKMSProviderFromEnvironment,
  createAWSNodeCredentials,
  resolveAWSRegion,
} from './aws-credentials.js'
export {
  type AWSRemoteCredentialsOptions,
  awsContainerCredentialsFromEnv,
  awsInstanceMetadataCredentials,
} from './aws-remote-credentials.js'
export { type AzureArcKeyReaderOptions, createAzureArcKeyReader } from './azure-arc-key.js'
export { type AzureCLITokenSourceOptions, createAzureCLITokenSource } from './azure-cli-credentials.js'
export { loadAzureClientCertificate } from './azure-client-certificate.js'
export {
  type AzureKMSProviderFromEnvironmentOptions,
  azureFederatedTokenReader,
  azureKMSProviderFromEnvironment,
} from './azure-credentials.js'
export {
  createDockerConfigCredentials,
  createStaticCredentials,
  type DockerConfigCredentialsOptions,
  normalizeRegistryHost,
} from './docker-config.js'
export { createNodeFetch, type NodeFetchOptions } from './fetch.js'
export { type FileContent, type FileContentOptions, openFileContent } from './file-content.js'
export {
  createGoogleDefaultCredentials,
  type GCPKMSProviderFromEnvironmentOptions,
  type GoogleDefaultCredentialsOptions,
  gcpKMSProviderFromEnvironment,
} from './gcp-credentials.js'
export { createGCPExecutableRunner, readGCPCredentialSourceFile } from './gcp-external-account.js'
export { nodeHasher } from './hasher.js'
export {
  loadPrivateKeyFile,
  loadPublicKeyFile,
  type WriteKeyPairOptions,
  type WriteKeyPairResult,
  writeKeyPair,
} from './key-files.js'
export { createNodeLayoutFileSystem, type OpenLayoutOptions, openLayout } from './layout-fs.js'
export { type LoginInteractivelyOptions, loginInteractively } from './oidc-login.js'
export { type ReadPasswordOptions, readPassword } from './password.js'
export { createPodmanAuthCredentials, type PodmanAuthCredentialsOptions } from './podman-auth.js'
export { nodeScrypt } from './scrypt.js'
export { nodeSignatureBackend } from './signature-backend.js'
export {
  createTUFTrustProvider,
  type TUFTrust,
  type TUFTrustProvider,
  type TUFTrustProviderOptions,
} from './tuf/provider.js'
export { PUBLIC_GOOD_TUF_MIRROR, publicGoodTUFRoot } from './tuf/public-good.js'
export { type HashiVaultEnvironmentOptions, hashiVaultKMSProviderFromEnvironment } from './vault-credentials.js'
export { createVerifierPool, type VerifierPool, type VerifierPoolOptions } from './verifier-pool.js'
export type { PoolBundlePolicy, PooledVerificationResult, PoolVerifierOptions } from './verifier-pool-protocol.js'
