/**
 * A layout's `index.json`: parsing it (keeping the raw document so unknown fields survive a rewrite) and finding an
 * entry by tag, including the entries `cosign save` marks with a `kind` instead of a tag.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import {
  COSIGN_KIND_ANNOTATION,
  COSIGN_KIND_ATTS,
  COSIGN_KIND_IMAGE,
  COSIGN_KIND_IMAGE_INDEX,
  COSIGN_KIND_SIGS,
  COSIGN_TAG_RE,
  REF_NAME_ANNOTATION,
} from './layout-format.js'
import { parseDescriptor } from './manifest.js'
import { OCI_IMAGE_INDEX_MEDIA_TYPE } from './media-types.js'
import type { Descriptor } from './types.js'

const MAX_INDEX_BYTES = 16 * 1024 * 1024

/**
 * A parsed `index.json`.
 *
 * @example
 * ```ts
 * const index: LoadedIndex = parseLayoutIndex(bytes)
 * ```
 */
export interface LoadedIndex {
  /** The raw JSON document, rewritten on update so unknown fields survive. */
  readonly raw: Record<string, unknown>
  /** Raw entries, parallel to `entries`. */
  readonly rawEntries: unknown[]
  readonly entries: Descriptor[]
}

/**
 * The index of a layout that has no `index.json` yet.
 *
 * @example
 * ```ts
 * const index = bytes === undefined ? newLayoutIndex() : parseLayoutIndex(bytes)
 * ```
 */
export function newLayoutIndex(): LoadedIndex {
  return { raw: { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE }, rawEntries: [], entries: [] }
}

/**
 * Parse the bytes of `index.json`.
 *
 * @throws {CountersignError} ERR_OCI_SIZE_LIMIT past 16 MiB; ERR_OCI_MANIFEST_INVALID when it is not an image index.
 * @example
 * ```ts
 * const { entries } = parseLayoutIndex(await fs.readFile('index.json'))
 * ```
 */
export function parseLayoutIndex(bytes: Uint8Array): LoadedIndex {
  if (bytes.length > MAX_INDEX_BYTES) {
    throw new CountersignError('ERR_OCI_SIZE_LIMIT', 'index.json is too large', { details: { reason: 'too-large' } })
  }
  const limits = { code: 'ERR_OCI_MANIFEST_INVALID', what: 'index.json', maxDepth: MAX_JSON_DEPTH } as const
  assertJSONText(bytes, { ...limits, maxBytes: MAX_INDEX_BYTES })
  let raw: unknown
  try {
    raw = JSON.parse(fromUtf8(bytes, 'index.json'))
  } catch (cause) {
    throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json is not valid JSON', { cause })
  }
  assertJSONShape(raw, limits)
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json must be a JSON object')
  }
  const doc = raw as Record<string, unknown>
  if (doc.schemaVersion !== 2)
    throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json schemaVersion must be 2')
  const rawEntries = doc.manifests === undefined || doc.manifests === null ? [] : doc.manifests
  if (!Array.isArray(rawEntries))
    throw new CountersignError('ERR_OCI_MANIFEST_INVALID', 'index.json manifests must be an array')
  const entries = rawEntries.map((e, i) => parseDescriptor(e, `index.json manifests[${i}]`))
  return { raw: doc, rawEntries: [...rawEntries], entries }
}

/**
 * An entry's tag (its `org.opencontainers.image.ref.name`).
 *
 * @example
 * ```ts
 * const tags = index.entries.map(refName).filter((t) => t !== undefined)
 * ```
 */
export function refName(d: Descriptor): string | undefined {
  return d.annotations?.[REF_NAME_ANNOTATION]
}

function kindOf(d: Descriptor): string | undefined {
  return d.annotations?.[COSIGN_KIND_ANNOTATION]
}

/**
 * The `kind` a `cosign save` layout gives the entry of a cosign tag (`sha256-<hex>.sig` / `.att`), or undefined.
 *
 * @example
 * ```ts
 * cosignKindOfTag('sha256-abc.att') // 'dev.cosignproject.cosign/atts'
 * ```
 */
export function cosignKindOfTag(tag: string): string | undefined {
  const cosign = COSIGN_TAG_RE.exec(tag)
  if (cosign === null) return undefined
  return cosign[3] === 'sig' ? COSIGN_KIND_SIGS : COSIGN_KIND_ATTS
}

/**
 * The entry a tag names: an entry with that ref name; for a cosign tag, the entry marked with its `kind` when the
 * layout's signed image has that digest; for `latest`, the only entry or the only image.
 *
 * @example
 * ```ts
 * const listed = findByTag(index.entries, 'latest')
 * ```
 */
export function findByTag(entries: readonly Descriptor[], tag: string): Descriptor | undefined {
  const named = entries.find((e) => refName(e) === tag)
  if (named !== undefined) return named
  const images = () => entries.filter((e) => kindOf(e) === COSIGN_KIND_IMAGE || kindOf(e) === COSIGN_KIND_IMAGE_INDEX)
  const cosign = COSIGN_TAG_RE.exec(tag)
  if (cosign !== null) {
    const signed = `${cosign[1]}:${cosign[2]}`
    const signedImages = images()
    // cosign save stores one image and its signatures; only hand them out for that image's digest.
    if (signedImages.length > 0 && !signedImages.some((e) => e.digest === signed)) return undefined
    const wanted = cosign[3] === 'sig' ? COSIGN_KIND_SIGS : COSIGN_KIND_ATTS
    const marked = entries.filter((e) => kindOf(e) === wanted && refName(e) === undefined)
    return marked.length === 1 ? marked[0] : undefined
  }
  if (tag === 'latest') {
    if (entries.length === 1) return entries[0]
    const latest = images()
    if (latest.length === 1) return latest[0]
  }
  return undefined
}
