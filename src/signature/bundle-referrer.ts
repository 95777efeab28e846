/**
 * cosign v3's storage for Sigstore bundles: an OCI 1.1 referrer manifest whose one layer is the bundle
 * (docs/formats.md §Bundle referrers), byte-for-byte in cosign's key order.
 * @module
 */
import { utf8 } from '../internal/bytes.js'
import { goMarshal, goObject } from '../internal/go-json.js'
import {
  BUNDLE_V03_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
  SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX,
} from '../oci/media-types.js'
import type { Descriptor, ImageIndex, ImageManifest } from '../oci/types.js'

/** The 2-byte `{}` config blob of artifact manifests. Exported from `countersign/signature`. */
export const EMPTY_JSON_BLOB: Uint8Array = /* @__PURE__ */ utf8('{}')
/** Annotation naming what a bundle holds (`dsse-envelope`). Exported from `countersign/signature`. */
export const BUNDLE_CONTENT_ANNOTATION = 'dev.sigstore.bundle.content'
/** Annotation with the predicate type of the bundled statement. Exported from `countersign/signature`. */
export const BUNDLE_PREDICATE_TYPE_ANNOTATION = 'dev.sigstore.bundle.predicateType'
/** OCI creation-time annotation. Exported from `countersign/signature`. */
export const CREATED_ANNOTATION = 'org.opencontainers.image.created'

/**
 * Inputs of {@link buildBundleReferrerManifest}.
 *
 * Exported from `countersign/signature`.
 */
export interface BundleReferrerInput {
  /** Descriptor of the uploaded bundle blob. */
  readonly bundle: Descriptor
  /** Descriptor of the uploaded `{}` config blob. */
  readonly emptyConfig: Descriptor
  /** The signed image (mediaType, size, digest from a HEAD). */
  readonly subject: Descriptor
  /** The statement's predicate type. */
  readonly predicateType: string
  /** Creation time, written as UTC RFC 3339 without fractions. */
  readonly created: Date
}

/**
 * The referrer manifest cosign v3 pushes for a bundle, as bytes. Key order is go-containerregistry's `v1.Manifest`
 * followed by cosign's top-level `artifactType`; the config descriptor also carries `artifactType`, as cosign's does.
 *
 * @example
 * ```ts
 * import { buildBundleReferrerManifest } from 'countersign/signature'
 * const bytes = buildBundleReferrerManifest({ bundle, emptyConfig, subject, predicateType, created: new Date() })
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function buildBundleReferrerManifest(input: BundleReferrerInput): Uint8Array {
  const desc = (d: Descriptor, artifactType?: string) =>
    goObject([
      ['mediaType', d.mediaType],
      ['size', d.size],
      ['digest', d.digest],
      ['artifactType', artifactType],
    ])
  return utf8(
    goMarshal(
      goObject([
        ['schemaVersion', 2],
        ['mediaType', OCI_IMAGE_MANIFEST_MEDIA_TYPE],
        ['config', desc(input.emptyConfig, BUNDLE_V03_MEDIA_TYPE)],
        ['layers', [desc(input.bundle)]],
        ['annotations', bundleReferrerAnnotations(input.predicateType, input.created)],
        ['subject', desc(input.subject)],
        ['artifactType', BUNDLE_V03_MEDIA_TYPE],
      ]),
    ),
  )
}

/**
 * The annotations cosign puts on a bundle referrer manifest (a Go map, so written with sorted keys).
 *
 * @example
 * ```ts
 * import { bundleReferrerAnnotations } from 'countersign/signature'
 * bundleReferrerAnnotations('https://sigstore.dev/cosign/sign/v1', new Date())
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function bundleReferrerAnnotations(predicateType: string, created: Date): Record<string, string> {
  return {
    [BUNDLE_CONTENT_ANNOTATION]: 'dsse-envelope',
    [BUNDLE_PREDICATE_TYPE_ANNOTATION]: predicateType,
    [CREATED_ANNOTATION]: created.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }
}

/**
 * The bundle layer of a referrer manifest, as cosign's reader picks it: exactly one layer, whose media type starts
 * with `application/vnd.dev.sigstore.bundle`. Anything else → `undefined` (cosign skips such referrers silently).
 *
 * @example
 * ```ts
 * import { bundleLayer } from 'countersign/signature'
 * const layer = bundleLayer(fetched.manifest)
 * ```
 *
 * Exported from `countersign/signature`.
 */
export function bundleLayer(manifest: ImageManifest | ImageIndex): Descriptor | undefined {
  if (!('layers' in manifest) || manifest.layers.length !== 1) return undefined
  const layer = manifest.layers[0]!
  return layer.mediaType.startsWith(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX) ? layer : undefined
}
