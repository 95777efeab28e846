// Sign and verify an image kept in an OCI layout in memory: no registry, no files.
// Run after `npm run build`: npx tsx examples/sign-and-verify-layout.ts

import { signImage } from '../src/image/sign.js'
import { verifyImage } from '../src/image/verify.js'
import { generateKeyPair } from '../src/keys/index.js'
import { createLayoutStore, createMemoryFileSystem } from '../src/oci/index.js'
import { createKeySigner } from '../src/signers/index.js'

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
