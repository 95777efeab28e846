// Sign and verify an image kept in an OCI layout in memory: no registry, no files, no network.
// Run with plain Node once the package is built (`npm run build` in a checkout): node examples/sign-and-verify-layout.mjs
import { generateKeyPair } from 'countersign/keys'
import { createLayoutStore, createMemoryFileSystem } from 'countersign/oci'
import { signImage } from 'countersign/sign'
import { createKeySigner } from 'countersign/signers'
import { verifyImage } from 'countersign/verify'

const store = createLayoutStore(createMemoryFileSystem())
const repo = { registry: 'localhost', repository: 'example' }
const enc = new TextEncoder()
const config = await store.pushBlob(repo, enc.encode('{}'), 'application/vnd.oci.image.config.v1+json')
const manifest = enc.encode(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: config.mediaType, digest: config.digest, size: config.size },
    layers: [],
  }),
)
const image = await store.pushManifest({ ...repo, tag: 'v1' }, manifest, 'application/vnd.oci.image.manifest.v1+json')

const key = await generateKeyPair()
await signImage({ ...repo, digest: image.digest }, createKeySigner(key), { store, tlogUpload: false })
const result = await verifyImage({ ...repo, tag: 'v1' }, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
console.log(`verified ${result.verified.length} signature(s) on ${result.digest}`)
