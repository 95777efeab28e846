/**
 * The fixed parts of an OCI image layout: its file names, the annotations of `index.json` entries (the tag, and the
 * `kind` marks `cosign save` writes), the bytes of a fresh layout, and the path of a blob.
 *
 * @module
 */
import { utf8 } from '../internal/bytes.js'
import { parseDigest } from './digest.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE } from './media-types.js'

/**
 * The index annotation holding an entry's tag.
 *
 * @example
 * ```ts
 * import { REF_NAME_ANNOTATION } from 'countersign/oci'
 * REF_NAME_ANNOTATION // 'org.opencontainers.image.ref.name'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name'

/**
 * The index annotation `cosign save` uses to mark entries (cosign `pkg/oci/layout`).
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_ANNOTATION, COSIGN_KIND_SIGS } from 'countersign/oci'
 * entry.annotations?.[COSIGN_KIND_ANNOTATION] === COSIGN_KIND_SIGS
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_ANNOTATION = 'kind'
/**
 * `kind` of the signed image in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_IMAGE } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_IMAGE = 'dev.cosignproject.cosign/image'
/**
 * `kind` of the signed image index in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_IMAGE_INDEX } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_IMAGE_INDEX = 'dev.cosignproject.cosign/imageIndex'
/**
 * `kind` of the signature image (`.sig`) in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_SIGS } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_SIGS = 'dev.cosignproject.cosign/sigs'
/**
 * `kind` of the attestation image (`.att`) in a `cosign save` layout.
 *
 * @example
 * ```ts
 * import { COSIGN_KIND_ATTS } from 'countersign/oci'
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const COSIGN_KIND_ATTS = 'dev.cosignproject.cosign/atts'

/**
 * The layout marker file.
 *
 * @example
 * ```ts
 * await fs.writeFile(OCI_LAYOUT_FILE, ociLayoutFileContent())
 * ```
 */
export const OCI_LAYOUT_FILE = 'oci-layout'
/**
 * The layout's index of tagged and listed manifests.
 *
 * @example
 * ```ts
 * const bytes = await fs.readFile(INDEX_FILE)
 * ```
 */
export const INDEX_FILE = 'index.json'
/**
 * cosign's tags for a digest's signatures and attestations (`sha256-<hex>.sig` / `.att`): algorithm, hex, suffix.
 *
 * @example
 * ```ts
 * COSIGN_TAG_RE.exec('sha256-abc.sig')?.[3] // 'sig'
 * ```
 */
export const COSIGN_TAG_RE = /^(sha256|sha512)-([a-f0-9]+)\.(sig|att)$/

/**
 * The bytes of a fresh `oci-layout` file.
 *
 * @example
 * ```ts
 * import { ociLayoutFileContent } from 'countersign/oci'
 * await fs.writeFile('oci-layout', ociLayoutFileContent())
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function ociLayoutFileContent(): Uint8Array {
  return utf8('{"imageLayoutVersion":"1.0.0"}')
}

/**
 * The bytes of an empty `index.json`.
 *
 * @example
 * ```ts
 * import { emptyLayoutIndexContent } from 'countersign/oci'
 * await fs.writeFile('index.json', emptyLayoutIndexContent())
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function emptyLayoutIndexContent(): Uint8Array {
  return utf8(JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: [] }))
}

/**
 * Where a blob lives in a layout: `blobs/<alg>/<hex>`.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a malformed digest (so the path cannot escape `blobs/`).
 * @example
 * ```ts
 * blobPath('sha256:' + 'ab'.repeat(32)) // 'blobs/sha256/abab…'
 * ```
 */
export function blobPath(digest: string): string {
  // parseDigest validates the hex, so the path cannot escape blobs/.
  const { algorithm, hex } = parseDigest(digest)
  return `blobs/${algorithm}/${hex}`
}
