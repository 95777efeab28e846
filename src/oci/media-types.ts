/**
 * Every media type (and DSSE payload type) countersign reads or writes, in one place: OCI and Docker image types,
 * Sigstore bundles, trusted roots and signing configs, DSSE envelopes and in-toto statements, cosign's own types and
 * the SBOM formats `attach sbom` knows. The OCI and Docker ones are exported from `countersign/oci`; the others are
 * exported from the subpath of the format they belong to, or are internal.
 * @module
 */

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

// Sigstore bundles (protobuf-specs `dev.sigstore.bundle.v1.Bundle`).

/**
 * Media type of bundle v0.3, the version cosign v3 writes.
 *
 * @example
 * ```ts
 * import { BUNDLE_V03_MEDIA_TYPE } from 'countersign/bundle'
 * parseBundle(bytes).mediaType === BUNDLE_V03_MEDIA_TYPE
 * ```
 *
 * Exported from `countersign/bundle`.
 */
export const BUNDLE_V03_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json'

/**
 * Media type of bundle v0.1 (sigstore-js and cosign v2 era). Read, never written. Internal.
 *
 * @example
 * ```ts
 * import { BUNDLE_V01_MEDIA_TYPE } from '../oci/media-types.js'
 * const isV01 = doc.mediaType === BUNDLE_V01_MEDIA_TYPE
 * ```
 */
export const BUNDLE_V01_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.1'

/**
 * Media type of bundle v0.2. Read, never written. Internal.
 *
 * @example
 * ```ts
 * import { BUNDLE_V02_MEDIA_TYPE } from '../oci/media-types.js'
 * const isV02 = doc.mediaType === BUNDLE_V02_MEDIA_TYPE
 * ```
 */
export const BUNDLE_V02_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.2'

/**
 * The older `+json;version=0.3` spelling of {@link BUNDLE_V03_MEDIA_TYPE} (protobuf-specs accepts both for the same
 * message). Read, never written. Internal.
 *
 * @example
 * ```ts
 * import { BUNDLE_V03_LEGACY_MEDIA_TYPE } from '../oci/media-types.js'
 * const isV03 = doc.mediaType === BUNDLE_V03_LEGACY_MEDIA_TYPE
 * ```
 */
export const BUNDLE_V03_LEGACY_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle+json;version=0.3'

/**
 * What every Sigstore bundle media type starts with: cosign recognises a bundle layer or file by this prefix,
 * whatever the version or spelling. Internal.
 *
 * @example
 * ```ts
 * import { SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX } from '../oci/media-types.js'
 * const isBundle = layer.mediaType.startsWith(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX)
 * ```
 */
export const SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX = 'application/vnd.dev.sigstore.bundle'

// Sigstore trust files (protobuf-specs `dev.sigstore.trustroot.v1`).

/**
 * Media type of a v0.1 trusted root (what the public-good TUF repository serves).
 *
 * @example
 * ```ts
 * import { TRUSTED_ROOT_MEDIA_TYPE_V01 } from 'countersign/trust'
 * parseTrustedRoot(json).mediaType === TRUSTED_ROOT_MEDIA_TYPE_V01
 * ```
 *
 * Exported from `countersign/trust`.
 */
export const TRUSTED_ROOT_MEDIA_TYPE_V01 = 'application/vnd.dev.sigstore.trustedroot+json;version=0.1'

/**
 * Media type of a v0.2 trusted root (protobuf-specs' newer naming scheme, same message).
 *
 * @example
 * ```ts
 * import { TRUSTED_ROOT_MEDIA_TYPE_V02 } from 'countersign/trust'
 * parseTrustedRoot({ ...json, mediaType: TRUSTED_ROOT_MEDIA_TYPE_V02 })
 * ```
 *
 * Exported from `countersign/trust`.
 */
export const TRUSTED_ROOT_MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.trustedroot.v0.2+json'

/**
 * The legacy `+json;version=0.2` spelling of {@link TRUSTED_ROOT_MEDIA_TYPE_V02}, accepted like the bundle's. Internal.
 *
 * @example
 * ```ts
 * import { TRUSTED_ROOT_MEDIA_TYPE_V02_LEGACY } from '../oci/media-types.js'
 * const known = new Set([TRUSTED_ROOT_MEDIA_TYPE_V01, TRUSTED_ROOT_MEDIA_TYPE_V02, TRUSTED_ROOT_MEDIA_TYPE_V02_LEGACY])
 * ```
 */
export const TRUSTED_ROOT_MEDIA_TYPE_V02_LEGACY = 'application/vnd.dev.sigstore.trustedroot+json;version=0.2'

/**
 * The only signing-config media type in use (sigstore-go rejects others too).
 *
 * @example
 * ```ts
 * import { SIGNING_CONFIG_MEDIA_TYPE_V02 } from 'countersign/trust'
 * parseSigningConfig(json).mediaType === SIGNING_CONFIG_MEDIA_TYPE_V02
 * ```
 *
 * Exported from `countersign/trust`.
 */
export const SIGNING_CONFIG_MEDIA_TYPE_V02 = 'application/vnd.dev.sigstore.signingconfig.v0.2+json'

// DSSE and in-toto.

/**
 * The in-toto payload type: the `payloadType` of a DSSE envelope whose payload is an in-toto statement (not a media
 * type of any stored blob, but the same kind of string and checked the same way).
 *
 * @example
 * ```ts
 * import { IN_TOTO_PAYLOAD_TYPE } from 'countersign/dsse'
 * const envelope = await signDSSE(statement, IN_TOTO_PAYLOAD_TYPE, signer)
 * ```
 *
 * Exported from `countersign/dsse`.
 */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'

/**
 * Media type of a layer holding a DSSE envelope (legacy `.att` attestation layers).
 *
 * @example
 * ```ts
 * import { DSSE_ENVELOPE_MEDIA_TYPE } from 'countersign/artifacts'
 * const attestations = manifest.layers.filter((l) => l.mediaType === DSSE_ENVELOPE_MEDIA_TYPE)
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export const DSSE_ENVELOPE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json'

// cosign's own types.

/**
 * Media type of a simple-signing payload layer (legacy `.sig` signature layers).
 *
 * @example
 * ```ts
 * import { SIMPLE_SIGNING_MEDIA_TYPE } from 'countersign/signature'
 * const signatures = manifest.layers.filter((l) => l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE)
 * ```
 *
 * Exported from `countersign/signature`.
 */
export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json'

/**
 * What the OCI 1.1 artifact types cosign gives its attachments start with
 * (`application/vnd.dev.cosign.artifact.<kind>.v1+json`, see `cosignArtifactType`). Internal.
 *
 * @example
 * ```ts
 * import { COSIGN_ARTIFACT_TYPE_PREFIX } from '../oci/media-types.js'
 * const sbomType = `${COSIGN_ARTIFACT_TYPE_PREFIX}sbom.v1+json`
 * ```
 */
export const COSIGN_ARTIFACT_TYPE_PREFIX = 'application/vnd.dev.cosign.artifact.'

// SBOM formats (`attach sbom --type`).

/**
 * SPDX tag-value media type.
 *
 * @example
 * ```ts
 * import { SPDX_MEDIA_TYPE } from 'countersign/artifacts'
 * sbomMediaType('spdx') === SPDX_MEDIA_TYPE
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export const SPDX_MEDIA_TYPE = 'text/spdx'

/**
 * SPDX JSON media type.
 *
 * @example
 * ```ts
 * import { SPDX_JSON_MEDIA_TYPE } from 'countersign/artifacts'
 * sbomMediaType('spdx', { inputFormat: 'json' }) === SPDX_JSON_MEDIA_TYPE
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export const SPDX_JSON_MEDIA_TYPE = 'text/spdx+json'

/**
 * CycloneDX XML media type.
 *
 * @example
 * ```ts
 * import { CYCLONEDX_XML_MEDIA_TYPE } from 'countersign/artifacts'
 * sbomMediaType('cyclonedx') === CYCLONEDX_XML_MEDIA_TYPE
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export const CYCLONEDX_XML_MEDIA_TYPE = 'application/vnd.cyclonedx+xml'

/**
 * CycloneDX JSON media type.
 *
 * @example
 * ```ts
 * import { CYCLONEDX_JSON_MEDIA_TYPE } from 'countersign/artifacts'
 * sbomMediaType('cyclonedx', { inputFormat: 'json' }) === CYCLONEDX_JSON_MEDIA_TYPE
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export const CYCLONEDX_JSON_MEDIA_TYPE = 'application/vnd.cyclonedx+json'

/**
 * Syft JSON media type.
 *
 * @example
 * ```ts
 * import { SYFT_MEDIA_TYPE } from 'countersign/artifacts'
 * sbomMediaType('syft') === SYFT_MEDIA_TYPE
 * ```
 *
 * Exported from `countersign/artifacts`.
 */
export const SYFT_MEDIA_TYPE = 'application/vnd.syft+json'
