// Issue 18: errors that list one line per signature or attestation stay bounded however many an image carries (any
// registry user can attach signatures): the first 16 checks, then "… and K more"; details keep every check.
import { describe, expect, it } from 'vitest'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { generateKeyPair } from '../../src/keys/index.js'
import { createLayoutStore } from '../../src/oci/layout.js'
import { createMemoryFileSystem } from '../../src/oci/memory-fs.js'
import type { Reference } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'

describe('ERR_NO_MATCHING_SIGNATURES with many signatures', () => {
  it('lists the first 16 checks then a count; details.checks has them all', async () => {
    const store = createLayoutStore(createMemoryFileSystem())
    const ref: Reference = { registry: 'localhost', repository: 'app', tag: 'v1' }
    await pushTinyImage(store, ref, 'hello')
    const keys = await Promise.all(Array.from({ length: 40 }, () => generateKeyPair()))
    for (const key of keys) await signImage(ref, createKeySigner(key), { store, tlogUpload: false, format: 'legacy' })
    const other = await generateKeyPair()
    const err = await verifyImage(ref, { store, keys: [other.publicKey], insecureIgnoreTlog: true }).catch((e) => e)
    expect(err).toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    expect(err.details.checks).toHaveLength(40)
    const why = 'invalid signature when validating ASN.1 encoded signature'
    expect(err.message).toBe(`no matching signatures: ${new Array(16).fill(why).join('\n ')}\n … and 24 more`)
  })
})
