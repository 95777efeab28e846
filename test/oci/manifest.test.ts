import { describe, expect, test } from 'vitest'
import { isImageIndex, MAX_MANIFEST_BYTES, manifestMediaType, parseManifest } from '../../src/oci/manifest.js'
import {
  DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE,
  DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE,
  EMPTY_JSON_DIGEST,
  isIndexMediaType,
  isManifestMediaType,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'

const enc = new TextEncoder()
const j = (v: unknown) => enc.encode(JSON.stringify(v))
const desc = { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2 }

describe('parseManifest', () => {
  test('OCI image manifest', () => {
    const m = parseManifest(
      j({
        schemaVersion: 2,
        mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
        config: desc,
        layers: [{ ...desc, annotations: { a: 'b' } }],
        subject: desc,
        annotations: { x: 'y' },
        extra: 1,
      }),
    )
    expect(isImageIndex(m)).toBe(false)
    expect(m).toEqual({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      config: desc,
      layers: [{ ...desc, annotations: { a: 'b' } }],
      subject: desc,
      annotations: { x: 'y' },
    })
    expect(manifestMediaType(m)).toBe(OCI_IMAGE_MANIFEST_MEDIA_TYPE)
  })
  test('index without mediaType is recognised by shape and hint', () => {
    const m = parseManifest(j({ schemaVersion: 2, manifests: [{ ...desc, platform: { os: 'linux' } }] }))
    expect(isImageIndex(m)).toBe(true)
    expect(manifestMediaType(m)).toBe(OCI_IMAGE_INDEX_MEDIA_TYPE)
    const d = parseManifest(
      j({ schemaVersion: 2, config: desc, layers: [] }),
      `${DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE}; charset=utf-8`,
    )
    expect(manifestMediaType(d, DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE)).toBe(DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE)
  })
  test('schema 1 is rejected clearly', () => {
    expect(() => parseManifest(j({ schemaVersion: 1, name: 'x', fsLayers: [] }))).toThrow(
      'schema 1 manifests are not supported',
    )
    expect(() => parseManifest(j({ schemaVersion: 2 }), DOCKER_MANIFEST_SCHEMA1_SIGNED_MEDIA_TYPE)).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_MANIFEST_INVALID', message: 'schema 1 manifests are not supported' }),
    )
  })
  test.each([
    ['not JSON', enc.encode('{nope')],
    ['not UTF-8', new Uint8Array([0xff, 0xfe])],
    ['array', j([])],
    ['null', j(null)],
    ['schemaVersion 3', j({ schemaVersion: 3, config: desc, layers: [] })],
    ['schemaVersion string', j({ schemaVersion: '2', config: desc, layers: [] })],
    ['missing config', j({ schemaVersion: 2, layers: [] })],
    ['negative size', j({ schemaVersion: 2, config: { ...desc, size: -1 }, layers: [] })],
    ['fractional size', j({ schemaVersion: 2, config: { ...desc, size: 1.5 }, layers: [] })],
    ['huge size', j({ schemaVersion: 2, config: { ...desc, size: 2 ** 60 }, layers: [] })],
    ['string size', j({ schemaVersion: 2, config: { ...desc, size: '2' }, layers: [] })],
    ['bad digest', j({ schemaVersion: 2, config: { ...desc, digest: 'sha256:xyz' }, layers: [] })],
    ['missing mediaType', j({ schemaVersion: 2, config: { digest: desc.digest, size: 2 }, layers: [] })],
    ['layers not array', j({ schemaVersion: 2, config: desc, layers: {} })],
    ['annotation not string', j({ schemaVersion: 2, config: desc, layers: [], annotations: { a: 1 } })],
    ['both kinds', j({ schemaVersion: 2, config: desc, layers: [], manifests: [] })],
    [
      'index type with layers',
      j({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, config: desc, layers: [] }),
    ],
    ['index without manifests', j({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE })],
  ])('rejects %s', (_name, bytes) => {
    expect(() => parseManifest(bytes)).toThrow(expect.objectContaining({ code: 'ERR_OCI_MANIFEST_INVALID' }))
  })
  test('content type contradicting the mediaType field is rejected', () => {
    const bytes = j({ schemaVersion: 2, mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE, config: desc, layers: [] })
    expect(() => parseManifest(bytes, OCI_IMAGE_INDEX_MEDIA_TYPE)).toThrow(
      expect.objectContaining({ code: 'ERR_OCI_MANIFEST_INVALID' }),
    )
  })
  test('__proto__ annotation stays data', () => {
    const m = parseManifest(
      enc.encode(`{"schemaVersion":2,"config":${JSON.stringify(desc)},"layers":[],"annotations":{"__proto__":"x"}}`),
    )
    expect(Object.getPrototypeOf(m.annotations)).toBe(Object.prototype)
    expect(Object.keys(m.annotations ?? {})).toEqual(['__proto__'])
  })
  test('size limit', () => {
    const big = new Uint8Array(MAX_MANIFEST_BYTES + 1)
    expect(() => parseManifest(big)).toThrow(expect.objectContaining({ code: 'ERR_OCI_SIZE_LIMIT' }))
  })
  test('media type predicates', () => {
    expect(isIndexMediaType(OCI_IMAGE_INDEX_MEDIA_TYPE)).toBe(true)
    expect(isIndexMediaType(OCI_IMAGE_MANIFEST_MEDIA_TYPE)).toBe(false)
    expect(isManifestMediaType(DOCKER_MANIFEST_SCHEMA2_MEDIA_TYPE)).toBe(true)
    expect(isManifestMediaType(undefined)).toBe(false)
  })
})
