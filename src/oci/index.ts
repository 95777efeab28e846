/**
 * OCI references, digests, manifests, the registry client and the image layout store.
 *
 * Exported from `countersign/oci`.
 *
 * @module
 */

export type { RetryOptions } from '../http/transport.js'
export {
  type AuthChallenge,
  type Authenticator,
  type AuthenticatorOptions,
  type AuthScope,
  type BearerToken,
  type Credential,
  type CredentialContext,
  type CredentialProvider,
  chainCredentials,
  createAuthenticator,
  type FetchBearerTokenOptions,
  type FetchLike,
  fetchBearerToken,
  parseWWWAuthenticate,
} from './auth.js'
export type { HasherFactory, IncrementalHash } from './blob-download.js'
export {
  computeDigest,
  type DigestAlgorithm,
  isDigest,
  type ParsedDigest,
  parseDigest,
  sha256Digest,
  verifyDigest,
} from './digest.js'
export {
  COSIGN_KIND_ANNOTATION,
  COSIGN_KIND_ATTS,
  COSIGN_KIND_IMAGE,
  COSIGN_KIND_IMAGE_INDEX,
  COSIGN_KIND_SIGS,
  createLayoutStore,
  emptyLayoutIndexContent,
  type LayoutFileSystem,
  type LayoutStore,
  type LayoutStoreOptions,
  ociLayoutFileContent,
  REF_NAME_ANNOTATION,
} from './layout.js'
export { isImageIndex, MAX_MANIFEST_BYTES, manifestMediaType, parseDescriptor, parseManifest } from './manifest.js'
export * from './media-types.js'
export { createMemoryFileSystem, type MemoryFileSystem } from './memory-fs.js'
export {
  DEFAULT_REGISTRY,
  DEFAULT_TAG,
  type ParseReferenceOptions,
  parseReference,
  parseRepository,
  referenceToString,
  repositoryName,
  withDigest,
  withTag,
} from './reference.js'
export {
  type ListReferrersOptions,
  listReferrers,
  type PushReferrerOptions,
  pushReferrer,
  type RepairReferrersIndexOptions,
  referrersTag,
  repairReferrersIndex,
} from './referrers.js'
export {
  createRegistryClient,
  type ProgressCallback,
  type PushBlobOptions,
  type RegistryClient,
  type RegistryClientOptions,
  type RegistryFetchBlobOptions,
  type RegistryRequestInfo,
} from './registry.js'
export {
  parseRegistryErrors,
  type RegistryErrorContext,
  type RegistryErrorEntry,
  registryError,
  registryErrorFromParts,
} from './registry-errors.js'
export type * from './types.js'
