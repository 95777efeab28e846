/** Build a tiny valid OCI image (config + one uncompressed tar layer) for tests. */
import { gzipSync } from 'node:zlib'
import { computeDigest } from '../../src/oci/digest.js'
import {
  OCI_IMAGE_CONFIG_MEDIA_TYPE,
  OCI_IMAGE_LAYER_GZIP_MEDIA_TYPE,
  OCI_IMAGE_MANIFEST_MEDIA_TYPE,
} from '../../src/oci/media-types.js'
import type { Descriptor, OCIStore, Reference } from '../../src/oci/types.js'

const enc = new TextEncoder()

/** A ustar archive holding one regular file. */
export function tarWithFile(name: string, content: Uint8Array): Uint8Array {
  const header = new Uint8Array(512)
  const put = (s: string, off: number, len: number) => header.set(enc.encode(s).subarray(0, len), off)
  const octal = (n: number, len: number) => n.toString(8).padStart(len - 1, '0')
  put(name, 0, 100)
  put(octal(0o644, 8), 100, 8)
  put(octal(0, 8), 108, 8)
  put(octal(0, 8), 116, 8)
  put(octal(content.length, 12), 124, 12)
  put(octal(0, 12), 136, 12)
  put('        ', 148, 8)
  put('0', 156, 1)
  put('ustar\u0000', 257, 6)
  put('00', 263, 2)
  let sum = 0
  for (const b of header) sum += b
  put(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8)
  const padded = Math.ceil(content.length / 512) * 512
  const out = new Uint8Array(512 + padded + 1024)
  out.set(header, 0)
  out.set(content, 512)
  return out
}

export interface TinyImage {
  readonly config: Uint8Array
  readonly configDescriptor: Descriptor
  readonly layer: Uint8Array
  readonly layerDescriptor: Descriptor
  readonly manifest: Uint8Array
  readonly manifestDigest: string
}

export async function tinyImage(text = 'hello countersign\n'): Promise<TinyImage> {
  // gzip, so skopeo copies it as-is instead of compressing it (which would change the manifest digest).
  const tar = tarWithFile('hello.txt', enc.encode(text))
  const layer = new Uint8Array(gzipSync(tar))
  const layerDigest = await computeDigest(layer)
  const diffID = await computeDigest(tar)
  const config = enc.encode(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: [diffID] },
      history: [{ created_by: 'countersign test' }],
    }),
  )
  const configDescriptor = {
    mediaType: OCI_IMAGE_CONFIG_MEDIA_TYPE,
    digest: await computeDigest(config),
    size: config.length,
  }
  const layerDescriptor = { mediaType: OCI_IMAGE_LAYER_GZIP_MEDIA_TYPE, digest: layerDigest, size: layer.length }
  const manifest = enc.encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_IMAGE_MANIFEST_MEDIA_TYPE,
      config: configDescriptor,
      layers: [layerDescriptor],
    }),
  )
  return { config, configDescriptor, layer, layerDescriptor, manifest, manifestDigest: await computeDigest(manifest) }
}

/** Build {@link tinyImage} with `text` and push it (layer, config, manifest) to `ref` in `store`; returns its digest. */
export async function pushTinyImage(store: OCIStore, ref: Reference, text?: string): Promise<string> {
  const img = await tinyImage(text)
  await store.pushBlob(ref, img.layer, img.layerDescriptor.mediaType)
  await store.pushBlob(ref, img.config, img.configDescriptor.mediaType)
  return (await store.pushManifest(ref, img.manifest, OCI_IMAGE_MANIFEST_MEDIA_TYPE)).digest
}
