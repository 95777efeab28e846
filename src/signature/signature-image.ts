/**
 * The legacy cosign signature image (`sha256-<hex>.sig`): config and manifest bytes exactly as cosign's
 * go-containerregistry code writes them (docs/formats.md §Legacy signature image), and reading its layers back.
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8, utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import {
  DOCKER_CONFIG_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE,
  OCI_IMAGE_CONFIG_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../oci/media-types.js'
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.js'

/** Go's zero time, as go-containerregistry writes an unset `created`. */
const ZERO_TIME = '0001-01-01T00:00:00Z'

/** cosign refuses to grow a signature image past this many layers (`maxLayers`). Exported from `countersign/signature`. */
export const MAX_SIGNATURE_LAYERS = 1000

/**
 * The bytes of a signature image, ready to push.
 *
 * Exported from `countersign/signature`.
 */
export interface SignatureImage {
  readonly config: Uint8Array
  readonly configDescriptor: Descriptor
  readonly manifest: Uint8Array
  readonly manifestMediaType: string
}

/**
 * Options for {@link buildSignatureImage}.
 *
 * Exported from `countersign/signature`.
 */
export interface BuildSignatureImageOptions {
  /** Use Docker schema 2 media types (cosign's `COSIGN_DOCKER_MEDIA_TYPES=1`). */
  readonly dockerMediaTypes?: boolean
  /** Top-level config `created` (cosign's `--record-creation-timestamp`); Go's zero time otherwise. */
  readonly created?: string
  /** Config history kept from the existing image, one entry per earlier layer. */
  readonly history?: readonly unknown[]
  /** A SHA-256 function returning `sha256:<hex>`. */
  readonly digest: (bytes: Uint8Array) => Promise<string>
}

/**
 * Build the config and manifest of a signature image holding `layers` (payload descriptors with their
 * annotations). Keys are in Go struct order, annotation keys sorted, no whitespace: the digests equal cosign's.
 *
 * @example
 * ```ts
 * import { buildSignatureImage } from 'countersign/signature'
 * import { sha256Digest } from 'countersign/oci'
 * const img = await buildSignatureImage([layer], { digest: sha256Digest })
 * ```
 *
 * Exported from `countersign/signature`.
 */
export async function buildSignatureImage(
  layers: readonly Descriptor[],
  options: BuildSignatureImageOptions,
): Promise<SignatureImage> {
  if (layers.length > MAX_SIGNATURE_LAYERS) {
    throw new CountersignError('ERR_INVALID_INPUT', `signature image would exceed ${MAX_SIGNATURE_LAYERS} layers`)
  }
  const history = layers.map((_, i) => marshalHistory(options.history?.[i]))
  const config = utf8(
    goMarshal(
      goObject([
        ['architecture', ''],
        ['created', options.created ?? ZERO_TIME],
        ['history', history.length > 0 ? history : undefined],
        ['os', ''],
        [
          'rootfs',
          goObject([
            ['type', 'layers'],
            // Layers are stored uncompressed, so each diff_id is the layer digest.
            ['diff_ids', layers.map((l) => l.digest)],
          ]),
        ],
        ['config', goObject([])],
      ]),
    ),
  )
  const configDescriptor: Descriptor = {
    mediaType: options.dockerMediaTypes ? DOCKER_CONFIG_MEDIA_TYPE : OCI_IMAGE_CONFIG_MEDIA_TYPE,
    size: config.length,
    digest: await options.digest(config),
  }
  const manifestMediaType = options.dockerMediaTypes
    ? DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE
    : OCI_IMAGE_MANIFEST_MEDIA_TYPE
  const manifest = utf8(
    goMarshal(
      goObject([
        ['schemaVersion', 2],
        ['mediaType', manifestMediaType],
        ['config', marshalDescriptor(configDescriptor)],
        ['layers', layers.map(marshalDescriptor)],
      ]),
    ),
  )
  return { config, configDescriptor, manifest, manifestMediaType }
}

/** go-containerregistry's v1.Descriptor field order; annotations are a Go map (sorted keys). */
function marshalDescriptor(d: Descriptor) {
  return goObject([
    ['mediaType', d.mediaType],
    ['size', d.size],
    ['digest', d.digest],
    ['urls', d.urls && d.urls.length > 0 ? d.urls : undefined],
    ['annotations', d.annotations && Object.keys(d.annotations).length > 0 ? d.annotations : undefined],
    ['platform', d.platform],
    ['artifactType', d.artifactType || undefined],
  ])
}

/** go-containerregistry's v1.History: only `created` is always written. */
function marshalHistory(h: unknown) {
  const r = (typeof h === 'object' && h !== null ? h : {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined)
  return goObject([
    ['author', str(r.author)],
    ['created', str(r.created) ?? ZERO_TIME],
    ['created_by', str(r.created_by)],
    ['comment', str(r.comment)],
    ['empty_layer', r.empty_layer === true ? true : undefined],
  ])
}

/**
 * What an existing signature image contributes when a signature is appended.
 *
 * Exported from `countersign/signature`.
 */
export interface ExistingSignatureConfig {
  readonly created?: string
  readonly history: readonly unknown[]
}

/**
 * Read the parts of an existing signature image config that cosign carries over when it appends a layer.
 * A config that is not JSON is treated as empty (cosign would fail; we rebuild it, keeping the layers).
 *
 * @example
 * ```ts
 * import { readSignatureConfig } from 'countersign/signature'
 * const { created, history } = readSignatureConfig(configBytes)
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function readSignatureConfig(bytes: Uint8Array): ExistingSignatureConfig {
  try {
    const doc = JSON.parse(fromUtf8(bytes)) as { created?: unknown; history?: unknown }
    return {
      ...(typeof doc.created === 'string' && doc.created !== ZERO_TIME ? { created: doc.created } : {}),
      history: Array.isArray(doc.history) ? doc.history : [],
    }
  } catch {
    return { history: [] }
  }
}

/**
 * The layer descriptors of a signature manifest; a manifest index or a manifest with too many layers is rejected.
 *
 * @example
 * ```ts
 * import { signatureLayers } from 'countersign/signature'
 * for (const layer of signatureLayers(fetched.manifest)) console.log(layer.digest)
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function signatureLayers(manifest: ImageManifest | ImageIndex): readonly Descriptor[] {
  const layers = (manifest as Partial<ImageManifest>).layers
  if (!Array.isArray(layers)) throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'signature manifest has no layers')
  if (layers.length > MAX_SIGNATURE_LAYERS) {
    throw new CountersignError(
      'ERR_OCI_MANIFEST_INVALID',
      `signature manifest has more than ${MAX_SIGNATURE_LAYERS} layers`,
    )
  }
  return layers
}
