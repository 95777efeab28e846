import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { openLayout } from '../../src/node/layout-fs.js'
import { OCI_IMAGE_MANIFEST_MEDIA_TYPE } from '../../src/oci/media-types.js'
import { parseReference, withDigest } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { tinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const run = promisify(execFile)

async function skopeo(...args: string[]): Promise<string> {
  const { stdout } = await run('skopeo', ['--insecure-policy', ...args], { timeout: 60_000 })
  return stdout
}

describe('interoperability with skopeo', () => {
  let reg: TestRegistry
  let tmp: string
  beforeAll(async () => {
    reg = await startRegistry()
    tmp = mkdtempSync(join(tmpdir(), 'countersign-skopeo-'))
  })
  afterAll(async () => {
    await reg?.stop()
    if (tmp) rmSync(tmp, { recursive: true, force: true })
  })

  test('skopeo inspects an image our client pushed', async () => {
    const img = await tinyImage('pushed by countersign')
    const ref = parseReference(`${reg.host}/interop/ours:v1`)
    const client = createRegistryClient()
    await client.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
    await client.pushBlob(ref, img.config, img.configDescriptor.mediaType)
    await client.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)

    const info = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/interop/ours:v1`))
    expect(info.Digest).toBe(img.manifestDigest)
    expect(info.Layers).toEqual([img.layerDescriptor.digest])
    expect(info.Os).toBe('linux')
    expect(info.Architecture).toBe('amd64')
    const raw = await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/interop/ours:v1`)
    expect(raw).toBe(new TextDecoder().decode(img.manifest))
  })

  test('our layout store writes a layout skopeo copies to the registry, and our client reads it back', async () => {
    const img = await tinyImage('written to a layout')
    const dir = join(tmp, 'ours-layout')
    const layout = openLayout(dir, { create: true })
    const any = parseReference('ignored/by-layout:v1')
    await layout.pushBlob(any, img.layer, img.layerDescriptor.mediaType)
    await layout.pushBlob(any, img.config, img.configDescriptor.mediaType)
    await layout.pushManifest(any, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)

    await skopeo(
      'copy',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${dir}:v1`,
      `docker://${reg.host}/interop/from-layout:v1`,
    )

    const client = createRegistryClient()
    const ref = parseReference(`${reg.host}/interop/from-layout:v1`)
    const got = await client.fetchManifest(ref)
    expect(got.descriptor.digest).toBe(img.manifestDigest)
    expect(await client.fetchBlob(ref, img.layerDescriptor.digest)).toEqual(img.layer)
    expect(await client.fetchBlob(ref, img.configDescriptor.digest)).toEqual(img.config)
  })

  test('skopeo writes a layout (and pushes an image) our code reads', async () => {
    const img = await tinyImage('pushed by skopeo')
    const src = join(tmp, 'src-layout')
    const layout = openLayout(src, { create: true })
    const any = parseReference('x:v1')
    await layout.pushBlob(any, img.layer, img.layerDescriptor.mediaType)
    await layout.pushBlob(any, img.config, img.configDescriptor.mediaType)
    await layout.pushManifest(any, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)
    await skopeo(
      'copy',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${src}:v1`,
      `docker://${reg.host}/interop/theirs:v1`,
    )

    // skopeo pulls from the registry into a fresh layout that our layout store then reads.
    const dest = join(tmp, 'skopeo-layout')
    await skopeo(
      'copy',
      '--preserve-digests',
      '--src-tls-verify=false',
      `docker://${reg.host}/interop/theirs:v1`,
      `oci:${dest}:copied`,
    )
    const theirs = openLayout(dest)
    expect(await theirs.listTags(any)).toEqual(['copied'])
    const m = await theirs.fetchManifest(parseReference('x:copied'))
    expect(m.descriptor.digest).toBe(img.manifestDigest)
    expect(await theirs.fetchBlob(any, img.layerDescriptor.digest)).toEqual(img.layer)
    // By digest, too.
    const byDigest = await theirs.fetchManifest(withDigest(any, img.manifestDigest))
    expect(byDigest.bytes).toEqual(img.manifest)
  })
})
