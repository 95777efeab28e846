/** Parse and validate OCI / Docker schema 2 manifests and indexes. Pure: no I/O. @module */
import { CountersignError } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { isDigest } from './digest.js'
import {
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from './media-types.js'
import type { Descriptor, ImageIndex, ImageManifest } from './types.js'

/**
 * Largest manifest countersign reads (4 MiB, as distribution and ggcr limit manifests).
 *
 * @example
 * ```ts
 * import { MAX_MANIFEST_BYTES } from 'countersign/oci'
 * MAX_MANIFEST_BYTES // 4194304
 * ```
 *
 * Exported from `countersign/oci`.
 */
export const MAX_MANIFEST_BYTES: number = 4 * 1024 * 1024

type JSONObject = Record<string, unknown>

function invalid(message: string, cause?: unknown): CountersignError {
  return new CountersignError('ERR_OCI_MANIFEST_INVALID', message, cause === undefined ? undefined : { cause })
}

function isObject(v: unknown): v is JSONObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function optionalString(o: JSONObject, key: string, where: string): string | undefined {
  const v = o[key]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw invalid(`${where}.${key} must be a string`)
  return v
}

function parseAnnotations(v: unknown, where: string): Readonly<Record<string, string>> | undefined {
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) throw invalid(`${where}.annotations must be an object`)
  const out: Record<string, string> = {}
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(`${where}.annotations values must be strings`)
    // Object.defineProperty keeps a hostile "__proto__" key an ordinary property.
    Object.defineProperty(out, k, { value: val, enumerable: true, writable: true, configurable: true })
  }
  return out
}

/**
 * Validate one descriptor object.
 *
 * @throws {CountersignError} ERR_OCI_MANIFEST_INVALID when it is malformed.
 * @example
 * ```ts
 * import { parseDescriptor } from 'countersign/oci'
 * parseDescriptor({ mediaType: 'application/json', digest: 'sha256:' + '0'.repeat(64), size: 2 })
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function parseDescriptor(v: unknown, where = 'descriptor'): Descriptor {
  if (!isObject(v)) throw invalid(`${where} must be an object`)
  const mediaType = v.mediaType
  if (typeof mediaType !== 'string' || mediaType.length === 0) throw invalid(`${where}.mediaType must be a string`)
  if (!isDigest(v.digest)) throw invalid(`${where}.digest is not a valid sha256/sha512 digest`)
  const size = v.size
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`)
  }
  const d: { -readonly [K in keyof Descriptor]: Descriptor[K] } = { mediaType, digest: v.digest, size }
  const annotations = parseAnnotations(v.annotations, where)
  if (annotations !== undefined) d.annotations = annotations
  const artifactType = optionalString(v, 'artifactType', where)
  if (artifactType !== undefined) d.artifactType = artifactType
  if (v.platform !== undefined && v.platform !== null) {
    if (!isObject(v.platform)) throw invalid(`${where}.platform must be an object`)
    d.platform = v.platform
  }
  if (v.urls !== undefined && v.urls !== null) {
    if (!Array.isArray(v.urls) || !v.urls.every((u) => typeof u === 'string')) {
      throw invalid(`${where}.urls must be an array of strings`)
    }
    d.urls = [...(v.urls as string[])]
  }
  return d
}

function parseDescriptorArray(v: unknown, where: string): Descriptor[] {
  if (v === null || v === undefined) return []
  if (!Array.isArray(v)) throw invalid(`${where} must be an array`)
  return v.map((item, i) => parseDescriptor(item, `${where}[${i}]`))
}

function stripParameters(mediaType: string | undefined): string | undefined {
  if (mediaType === undefined) return undefined
  const semi = mediaType.indexOf(';')
  return (semi >= 0 ? mediaType.slice(0, semi) : mediaType).trim().toLowerCase()
}

/**
 * True when a parsed document is an index (has `manifests`), false for an image manifest.
 *
 * @example
 * ```ts
 * import { isImageIndex } from 'countersign/oci'
 * if (isImageIndex(fetched.manifest)) console.log(fetched.manifest.manifests.length)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function isImageIndex(m: ImageManifest | ImageIndex): m is ImageIndex {
  return Array.isArray((m as ImageIndex).manifests)
}

/**
 * The media type to use for a manifest's descriptor: its own `mediaType` field, else the transport hint when
 * it is a manifest or index type, else the OCI type matching its shape.
 *
 * @example
 * ```ts
 * import { manifestMediaType, parseManifest } from 'countersign/oci'
 * manifestMediaType(parseManifest(bytes)) // OCI_IMAGE_MANIFEST_MEDIA_TYPE for a manifest without `mediaType`
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function manifestMediaType(m: ImageManifest | ImageIndex, hint?: string): string {
  if (m.mediaType !== undefined) return m.mediaType
  const h = stripParameters(hint)
  if (isImageIndex(m)) return h !== undefined && isIndexMediaType(h) ? h : OCI_IMAGE_INDEX_MEDIA_TYPE
  return h !== undefined && isManifestMediaType(h) ? h : OCI_IMAGE_MANIFEST_MEDIA_TYPE
}

/**
 * Parse manifest bytes into an image manifest or index, validating the JSON shape: `schemaVersion` 2,
 * descriptors with a media type, a valid digest and a non-negative safe-integer size.
 *
 * @param bytes - The manifest exactly as stored (the digest covers these bytes).
 * @param mediaTypeHint - The `Content-Type` it came with, if any.
 * @throws {CountersignError} ERR_OCI_MANIFEST_INVALID for bad JSON, a bad shape or a schema 1 manifest;
 * ERR_OCI_SIZE_LIMIT when larger than {@link MAX_MANIFEST_BYTES}.
 * @example
 * ```ts
 * import { OCI_IMAGE_MANIFEST_MEDIA_TYPE, parseManifest } from 'countersign/oci'
 * const m = parseManifest(bytes, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
 * ```
 *
 * Exported from `countersign/oci`.
 */
export function parseManifest(bytes: Uint8Array, mediaTypeHint?: string): ImageManifest | ImageIndex {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('"bytes" must be a Uint8Array')
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new CountersignError('ERR_OCI_SIZE_LIMIT', `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, {
      details: { reason: 'too-large' },
    })
  }
  const hint = stripParameters(mediaTypeHint)
  if (isSchema1MediaType(hint)) throw invalid('schema 1 manifests are not supported')
  const limits = { code: 'ERR_OCI_MANIFEST_INVALID', what: 'manifest', maxDepth: MAX_JSON_DEPTH } as const
  assertJSONText(bytes, { ...limits, maxBytes: MAX_MANIFEST_BYTES })
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(bytes, 'manifest'))
  } catch (cause) {
    throw invalid('manifest is not valid JSON', cause)
  }
  assertJSONShape(doc, limits)
  if (!isObject(doc)) throw invalid('manifest must be a JSON object')
  const mediaType = optionalString(doc, 'mediaType', 'manifest')
  if (doc.schemaVersion === 1 || isSchema1MediaType(mediaType)) throw invalid('schema 1 manifests are not supported')
  if (doc.schemaVersion !== 2) throw invalid('manifest schemaVersion must be 2')

  const hasManifests = doc.manifests !== undefined
  const hasImageFields = doc.config !== undefined || doc.layers !== undefined
  if (hasManifests && hasImageFields) throw invalid('manifest has both "manifests" and "config"/"layers"')
  // The content's own mediaType wins; a transport hint of the other kind signals confusion.
  const declared = mediaType ?? hint
  let isIndex: boolean
  if (isIndexMediaType(declared)) isIndex = true
  else if (isManifestMediaType(declared)) isIndex = false
  else isIndex = hasManifests
  if (mediaType !== undefined && hint !== undefined) {
    const hintKind = isIndexMediaType(hint) ? 'index' : isManifestMediaType(hint) ? 'manifest' : undefined
    if (hintKind !== undefined && hintKind !== (isIndex ? 'index' : 'manifest')) {
      throw invalid(`manifest mediaType ${JSON.stringify(mediaType)} contradicts content type ${JSON.stringify(hint)}`)
    }
  }
  const artifactType = optionalString(doc, 'artifactType', 'manifest')
  const annotations = parseAnnotations(doc.annotations, 'manifest')
  const subject =
    doc.subject === undefined || doc.subject === null ? undefined : parseDescriptor(doc.subject, 'subject')
  const common = {
    schemaVersion: 2 as const,
    ...(mediaType !== undefined ? { mediaType } : {}),
    ...(artifactType !== undefined ? { artifactType } : {}),
  }
  const tail = {
    ...(subject !== undefined ? { subject } : {}),
    ...(annotations !== undefined ? { annotations } : {}),
  }
  if (isIndex) {
    if (hasImageFields) throw invalid('an index must not have "config" or "layers"')
    if (!Array.isArray(doc.manifests)) throw invalid('index.manifests must be an array')
    return { ...common, manifests: parseDescriptorArray(doc.manifests, 'manifests'), ...tail }
  }
  if (hasManifests) throw invalid('an image manifest must not have "manifests"')
  if (doc.config === undefined) throw invalid('manifest.config is missing')
  const config = parseDescriptor(doc.config, 'config')
  return { ...common, config, layers: parseDescriptorArray(doc.layers, 'layers'), ...tail }
}
