/** OCI and Docker media type constants. @module */

/**
 * OCI image manifest media type.
 *
 * @example
 * ```ts
 * import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const OCI_IMAGE_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json'

/**
 * OCI image index media type.
 *
 * @example
 * ```ts
 * import { OCI_IMAGE_INDEX_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const OCI_IMAGE_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json'

/**
 * OCI image config media type.
 *
 * @example
 * ```ts
 * import { OCI_IMAGE_CONFIG_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const OCI_IMAGE_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json'

/**
 * OCI empty descriptor media type (the `{}` blob used as config of artifacts).
 *
 * @example
 * ```ts
 * import { OCI_EMPTY_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const OCI_EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json'

/**
 * OCI uncompressed tar layer media type.
 *
 * @example
 * ```ts
 * import { OCI_IMAGE_LAYER_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const OCI_IMAGE_LAYER_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar'

/**
 * OCI gzip tar layer media type.
 *
 * @example
 * ```ts
 * import { OCI_IMAGE_LAYER_GZIP_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const OCI_IMAGE_LAYER_GZIP_MEDIA_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip'

/**
 * Docker image manifest schema 2 media type.
 *
 * @example
 * ```ts
 * import { DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json'

/**
 * Docker manifest list media type.
 *
 * @example
 * ```ts
 * import { DOCKER_MANIFEST_LIST_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DOCKER_MANIFEST_LIST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.list.v2+json'

/**
 * Docker image config media type.
 *
 * @example
 * ```ts
 * import { DOCKER_CONFIG_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DOCKER_CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json'

/**
 * Docker gzip layer media type.
 *
 * @example
 * ```ts
 * import { DOCKER_LAYER_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DOCKER_LAYER_MEDIA_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip'

/**
 * Docker schema 1 manifest media type (unsupported; recognised only to reject it clearly).
 *
 * @example
 * ```ts
 * import { DOCKER_MANIFEST_SCHEMA1_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DOCKER_MANIFEST_SCHEMA1_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v1+json'

/**
 * Docker signed schema 1 manifest media type (unsupported; recognised only to reject it clearly).
 *
 * @example
 * ```ts
 * import { DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v1+prettyjws'

/**
 * Digest of the two-byte OCI empty JSON blob `{}`.
 *
 * @example
 * ```ts
 * import { EMPTY_JSON_DIGEST, EMPTY_JSON_SIZE, OCI_EMPTY_MEDIA_TYPE } from 'countersign/oci'
 * const config = { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: EMPTY_JSON_DIGEST, size: EMPTY_JSON_SIZE }
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'

/**
 * Size of the OCI empty JSON blob `{}`.
 *
 * @example
 * ```ts
 * import { EMPTY_JSON_SIZE } from 'countersign/oci'
 * EMPTY_JSON_SIZE // 2
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const EMPTY_JSON_SIZE = 2

/**
 * The `Accept` header value for manifest requests: OCI and Docker schema 2 manifests and indexes.
 *
 * @example
 * ```ts
 * import { MANIFEST_ACCEPT_HEADER } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const MANIFEST_ACCEPT_HEADER: string = [
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE,
  DOCKER_MANIFEST_LIST_MEDIA_TYPE,
].join(', ')

/**
 * True for OCI image index and Docker manifest list media types.
 *
 * @example
 * ```ts
 * import { isIndexMediaType } from 'countersign/oci'
 * isIndexMediaType('application/vnd.oci.image.index.v1+json') // true
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function isIndexMediaType(mediaType: string | undefined): boolean {
  return mediaType === OCI_IMAGE_INDEX_MEDIA_TYPE || mediaType === DOCKER_MANIFEST_LIST_MEDIA_TYPE
}

/**
 * True for OCI image manifest and Docker schema 2 manifest media types (not indexes, not schema 1).
 *
 * @example
 * ```ts
 * import { isManifestMediaType } from 'countersign/oci'
 * isManifestMediaType('application/vnd.docker.distribution.manifest.v2+json') // true
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function isManifestMediaType(mediaType: string | undefined): boolean {
  return mediaType === OCI_IMAGE_MANIFEST_MEDIA_TYPE || mediaType === DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE
}

/**
 * True for Docker schema 1 manifest media types.
 *
 * @example
 * ```ts
 * import { isSchema1MediaType } from 'countersign/oci'
 * isSchema1MediaType('application/vnd.docker.distribution.manifest.v1+prettyjws') // true
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function isSchema1MediaType(mediaType: string | undefined): boolean {
  return mediaType === DOCKER_MANIFEST_SCHEMA1_MEDIA_TYPE || mediaType === DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE
}
