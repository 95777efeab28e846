// Writes a tiny single-layer OCI image into an OCI layout (creating it if needed) and tags it.
// Usage: node scripts/demo-image.mjs DIR TAG TEXT
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { openLayout } from '../dist/node/index.js'

const [dir, tag, text] = process.argv.slice(2)
const store = openLayout(dir, { create: true })
const repo = { registry: 'localhost', repository: 'demo' }
const enc = new TextEncoder()

// A one-file tar layer: 512-byte header + content padded to 512, then two zero blocks.
function tar(name, body) {
  const header = new Uint8Array(512)
  const put = (s, off) => header.set(enc.encode(s), off)
  put(name, 0)
  put('0000644\0', 100)
  put('0000000\0', 108)
  put('0000000\0', 116)
  put(`${body.length.toString(8).padStart(11, '0')}\0`, 124)
  put('00000000000\0', 136)
  put('        ', 148)
  header[156] = 0x30
  put('ustar\0', 257)
  put('00', 263)
  const sum = header.reduce((a, b) => a + b, 0)
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  const padded = new Uint8Array(Math.ceil(body.length / 512) * 512)
  padded.set(body)
  const out = new Uint8Array(512 + padded.length + 1024)
  out.set(header)
  out.set(padded, 512)
  return out
}

const layer = tar('hello.txt', enc.encode(`${text}\n`))
const layerDesc = await store.pushBlob(repo, layer, 'application/vnd.oci.image.layer.v1.tar')
const config = enc.encode(
  JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['cat', '/hello.txt'] },
    rootfs: { type: 'layers', diff_ids: [layerDesc.digest] },
  }),
)
const configDesc = await store.pushBlob(repo, config, 'application/vnd.oci.image.config.v1+json')
const manifest = enc.encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: configDesc.mediaType, digest: configDesc.digest, size: configDesc.size },
    layers: [{ mediaType: layerDesc.mediaType, digest: layerDesc.digest, size: layerDesc.size }],
  }),
)
const written = await store.pushManifest({ ...repo, tag }, manifest, 'application/vnd.oci.image.manifest.v1+json')
const marker = join(dir, '.demo-first-digest')
if (!existsSync(marker)) writeFileSync(marker, written.digest)
console.log(`wrote ${dir}:${tag} → ${written.digest}`)
