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
// Only the OCI and Docker names: the other media types there belong to (and are exported from) their formats.
export {
  DOCKER_CONFIG_MEDIA_TYPE,
  DOCKER_LAYER_MEDIA_TYPE,
  DOCKER_MANIFEST_LIST_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA1_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE,
  EMPTY_JSON_DIGEST,
  EMPTY_JSON_SIZE,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  MANIFEST_ACCEPT_HEADER,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_IMAGE_CONFIG_MEDIA_TYPE,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_LAYER_GZIP_MEDIA_TYPE,
  OCI_IMAGE_LAYER_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from './media-types.js'
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
