/**
 * Multi-arch indexes with skopeo (containers/image) and docker-registry 2.8: an index we push is copied by
 * `skopeo copy --all` byte for byte, and an index skopeo pushes from a layout we wrote is read back by our client.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { openLayout } from '../../src/node/layout-fs.js'
import { computeDigest } from '../../src/oci/digest.js'
import { isImageIndex } from '../../src/oci/manifest.js'
import {
  OCI_IMAGE_CONFIG_MEDIA_TYPE,
  OCI_IMAGE_INDEX_MEDIA_TYPE,
  OCI_IMAGE_LAYER_GZIP_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { Descriptor, OCIStore, Reference } from '../../src/oci/types.js'
import { startFakeRegistry } from '../support/fake-registry.js'
import { tarWithFile } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'
import { text } from './referrers-helpers.js'

const run = promisify(execFile)
const enc = new TextEncoder()

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { timeout: 60_000 })
  return stdout
}

const PLATFORMS = [
  { os: 'linux', architecture: 'amd64' },
  { os: 'linux', architecture: 'arm64', variant: 'v8' },
] as const

/** Push a two-platform image (layers, configs, platform manifests, then the index) to `ref`; returns the index. */
async function pushMultiArch(store: OCIStore, ref: Reference, label: string) {
  const children: Descriptor[] = []
  for (const platform of PLATFORMS) {
    // gzip layers, so skopeo copies blobs as they are and digests stay put.
    const tar = tarWithFile('arch.txt', enc.encode(`${label} ${platform.architecture}\n`))
    const layer = new Uint8Array(gzipSync(tar))
    const config = enc.encode(
      JSON.stringify({
        ...platform,
        config: {},
        rootfs: { type: 'layers', diff_ids: [await computeDigest(tar)] },
      }),
    )
    const layerD = await store.pushBlob(ref, layer, OCI_IMAGE_LAYER_GZIP_MEDIA_TYPE)
    const configD = await store.pushBlob(ref, config, OCI_IMAGE_CONFIG_MEDIA_TYPE)
    const manifest = enc.encode(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
        config: { mediaType: configD.mediaType, digest: configD.digest, size: configD.size },
        layers: [{ mediaType: layerD.mediaType, digest: layerD.digest, size: layerD.size }],
      }),
    )
    const pushed = await store.pushManifest(
      { registry: ref.registry, repository: ref.repository, digest: await computeDigest(manifest) },
      manifest,
      OCI_IMAGE_MANIFEST_MEDIA_TYPE,
    )
    children.push({ mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size, platform })
  }
  const bytes = enc.encode(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX_MEDIA_TYPE, manifests: children }),
  )
  const index = await store.pushManifest(ref, bytes, OCI_IMAGE_INDEX_MEDIA_TYPE)
  return { bytes, digest: index.digest, children }
}

describe('multi-arch indexes and skopeo', () => {
  let reg: TestRegistry
  let tmp: string
  beforeAll(async () => {
    reg = await startRegistry()
    tmp = mkdtempSync(join(tmpdir(), 'countersign-skopeo-index-'))
  })
  afterAll(async () => {
    await reg?.stop()
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  test('skopeo copy --all copies an index we pushed to another repository, unchanged', async () => {
    const client = createRegistryClient()
    const src = parseReference(`${reg.host}/multi/ours:v1`)
    const ours = await pushMultiArch(client, src, 'ours')
    await skopeo(
      'copy',
      '--all',
      '--preserve-digests',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${reg.host}/multi/ours:v1`,
      `docker://${reg.host}/multi/copied:v1`,
    )
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/multi/copied:v1`)
    expect(raw).toBe(text(ours.bytes))
    // And each platform manifest arrived too.
    const copied = parseReference(`${reg.host}/multi/copied:v1`)
    for (const child of ours.children) {
      const m = await client.fetchManifest({ ...copied, digest: child.digest })
      expect(m.descriptor.size).toBe(child.size)
    }
    const arm = JSON.parse(
      await skopeo('inspect', '--tls-verify=false', '--override-arch=arm64', `docker://${reg.host}/multi/copied:v1`),
    )
    expect(arm.Architecture).toBe('arm64')
  })

  test('skopeo copy --all from an OCI layout we wrote; our client reads the index and every child', async () => {
    const dir = join(tmp, 'layout')
    const layout = openLayout(dir, { create: true })
    const built = await pushMultiArch(layout, parseReference('localhost/any:multi'), 'from layout')
    await skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${dir}:multi`, `docker://${reg.host}/multi/pushed:v2`)

    const client = createRegistryClient()
    const ref = parseReference(`${reg.host}/multi/pushed:v2`)
    const index = await client.fetchManifest(ref)
    expect(index.descriptor.mediaType).toBe(OCI_IMAGE_INDEX_MEDIA_TYPE)
    if (!isImageIndex(index.manifest)) throw new Error('expected an index')
    expect(index.manifest.manifests.map((d) => d.platform)).toEqual(PLATFORMS)
    expect(index.descriptor.digest).toBe(built.digest)
    for (const [i, child] of index.manifest.manifests.entries()) {
      const m = await client.fetchManifest({ ...ref, digest: child.digest })
      if (isImageIndex(m.manifest)) throw new Error('expected an image manifest')
      const config = JSON.parse(text(await client.fetchBlob(ref, m.manifest.config.digest)))
      expect(config.architecture).toBe(PLATFORMS[i]!.architecture)
      const layer = await client.fetchBlob(ref, m.manifest.layers[0]!.digest)
      expect(layer.length).toBe(m.manifest.layers[0]!.size)
    }
  })

  test('the fake registry speaks enough distribution for skopeo (chunked uploads, index push, inspect)', async () => {
    const fake = await startFakeRegistry()
    try {
      const dir = join(tmp, 'layout-for-fake')
      const built = await pushMultiArch(openLayout(dir, { create: true }), parseReference('localhost/any:m'), 'fake')
      await skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${dir}:m`, `docker://${fake.host}/multi/fake:v1`)
      expect(fake.requests.some((r) => r.method === 'PATCH' || r.method === 'POST')).toBe(true)
      const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${fake.host}/multi/fake:v1`)
      expect(raw).toBe(text(built.bytes))
      const index = await createRegistryClient().fetchManifest(parseReference(`${fake.host}/multi/fake:v1`))
      expect(index.descriptor.digest).toBe(built.digest)
    } finally {
      await fake.stop()
    }
  })
})
