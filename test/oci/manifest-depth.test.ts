// Issue 14: registry JSON (manifests, indexes, a layout's index.json) is bounded to 64 levels before it is read
// (docs/formats.md §Input limits).
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../src/internal/bytes.js'
import { parseLayoutIndex } from '../../src/oci/layout-index.js'
import { parseManifest } from '../../src/oci/manifest.js'
import { expectShapeError, nestedArrays, nestedObjects } from '../support/deep-json.js'

const manifest = {
  schemaVersion: 2,
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'a'.repeat(64)}`, size: 2 },
  layers: [],
}

describe('registry JSON on deeply nested input', () => {
  it('parseManifest refuses 100,000 levels in annotations or layers', async () => {
    for (const hole of [nestedArrays(), nestedObjects()]) {
      const text = JSON.stringify({ ...manifest, annotations: '__HOLE__' }).replace('"__HOLE__"', hole)
      const e = await expectShapeError(() => parseManifest(utf8(text)), 'ERR_OCI_MANIFEST_INVALID', 'too-deep')
      expect(e.message).toBe('manifest is nested too deeply (more than 64 levels)')
    }
    await expectShapeError(() => parseManifest(new Uint8Array(5 * 1024 * 1024)), 'ERR_OCI_SIZE_LIMIT', 'too-large')
  })

  it('parseLayoutIndex refuses 100,000 levels', async () => {
    const text = `{"schemaVersion":2,"manifests":[${nestedObjects()}]}`
    await expectShapeError(() => parseLayoutIndex(utf8(text)), 'ERR_OCI_MANIFEST_INVALID', 'too-deep')
  })

  it('still parses an ordinary manifest', () => {
    expect(parseManifest(utf8(JSON.stringify(manifest)))).toMatchObject({ schemaVersion: 2 })
  })
})
