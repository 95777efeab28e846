import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { sha256Digest } from '../../src/oci/digest.js'
import { SIMPLE_SIGNING_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { SIGNATURE_ANNOTATION } from '../../src/signature/annotations.js'
import { buildSignatureImage, readSignatureConfig } from '../../src/signature/signature-image.js'

const dir = new URL('../vectors/cosign/', import.meta.url)
const read = (name: string) => readFileSync(new URL(name, dir))

describe('legacy signature image', () => {
  it('builds the config and manifest cosign writes, byte for byte', async () => {
    const payload = read('simplesigning-payload.json')
    const sig = read('simplesigning-payload.sig.b64').toString('utf8').trim()
    const image = await buildSignatureImage(
      [
        {
          mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
          size: payload.length,
          digest: await sha256Digest(payload),
          annotations: { [SIGNATURE_ANNOTATION]: sig },
        },
      ],
      { digest: sha256Digest },
    )
    expect(Buffer.from(image.config).equals(read('sig-image-config.json'))).toBe(true)
    expect(image.config.length).toBe(233)
    expect(Buffer.from(image.manifest).toString()).toBe(read('sig-image-manifest.json').toString())
  })

  it('appends: one history entry and diff_id per layer, sorted annotation keys', async () => {
    const layers = [1, 2].map((i) => ({
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      size: i,
      digest: `sha256:${String(i).repeat(64)}`,
      annotations: { z: 'last', [SIGNATURE_ANNOTATION]: 'c2ln', a: 'first' },
    }))
    const image = await buildSignatureImage(layers, { digest: sha256Digest, created: '2024-01-02T03:04:05Z' })
    const config = JSON.parse(Buffer.from(image.config).toString())
    expect(config.history).toHaveLength(2)
    expect(config.rootfs.diff_ids).toEqual(layers.map((l) => l.digest))
    expect(config.created).toBe('2024-01-02T03:04:05Z')
    expect(Buffer.from(image.manifest).toString()).toContain(
      '"annotations":{"a":"first","dev.cosignproject.cosign/signature":"c2ln","z":"last"}',
    )
    expect(readSignatureConfig(image.config)).toEqual({ created: '2024-01-02T03:04:05Z', history: config.history })
  })

  it('uses Docker media types when asked (COSIGN_DOCKER_MEDIA_TYPES)', async () => {
    const image = await buildSignatureImage([], { digest: sha256Digest, dockerMediaTypes: true })
    expect(image.manifestMediaType).toBe('application/vnd.docker.distribution.manifest.v2+json')
    expect(image.configDescriptor.mediaType).toBe('application/vnd.docker.container.image.v1+json')
  })

  it('refuses more than 1000 layers', async () => {
    const layer = { mediaType: SIMPLE_SIGNING_MEDIA_TYPE, size: 1, digest: `sha256:${'0'.repeat(64)}` }
    await expect(buildSignatureImage(Array(1001).fill(layer), { digest: sha256Digest })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
    })
  })
})
