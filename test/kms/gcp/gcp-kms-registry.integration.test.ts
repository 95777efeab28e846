// Sign an image in a real registry (distribution) and a blob with a Cloud KMS key served by the in-process
// Cloud KMS; verify with the provider's public key and with the exported PEM; another key does not verify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlob } from '../../../src/blob/sign-blob.js'
import { verifyBlob } from '../../../src/blob/verify-blob.js'
import { signImage } from '../../../src/image/sign.js'
import { verifyImage } from '../../../src/image/verify.js'
import { generateKeyPair, parsePublicKey, publicKeyToPEM } from '../../../src/keys/index.js'
import { createGCPKMSProvider } from '../../../src/kms/gcp/index.js'
import { parseReference } from '../../../src/oci/reference.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import { type GCPKMSServer, startGCPKMSServer } from '../../support/gcp-kms-server.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'

let reg: TestRegistry
let kms: GCPKMSServer
const KEY = 'projects/countersign-test/locations/global/keyRings/release/cryptoKeys/images'

beforeAll(async () => {
  ;[reg, kms] = await Promise.all([startRegistry(), startGCPKMSServer()])
  kms.addKey(KEY)
  kms.addKey(`${KEY}-p384`, 'EC_SIGN_P384_SHA384')
})
afterAll(async () => {
  await Promise.all([reg?.stop(), kms?.close()])
})

const provider = () =>
  createGCPKMSProvider({ endpoint: kms.url, credentials: async () => ({ token: kms.issueToken() }) })

describe('gcpkms:// signing against a real registry', () => {
  for (const format of ['bundle', 'legacy'] as const) {
    it(`${format} form: verifies with the KMS public key and the exported PEM; another key fails`, async () => {
      const ref = parseReference(`${reg.host}/gcp/${format}:v1`)
      await pushTinyImage(createRegistryClient(), ref, `gcp ${format}`)
      const uri = `gcpkms://${KEY}`
      const signer = await provider().createSigner(uri)
      await signImage(ref, signer, { store: createRegistryClient(), tlogUpload: false, format })
      const kmsKey = await provider().publicKey(uri)
      const fromPEM = parsePublicKey(publicKeyToPEM(kmsKey))
      for (const key of [kmsKey, fromPEM]) {
        const result = await verifyImage(ref, {
          store: createRegistryClient(),
          keys: [key],
          insecureIgnoreTlog: true,
          signatureFormat: format,
        })
        expect(result.verified).toHaveLength(1)
      }
      const other = await generateKeyPair()
      await expect(
        verifyImage(ref, { store: createRegistryClient(), keys: [other.publicKey], insecureIgnoreTlog: true }),
      ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    })
  }

  it('a P-384 key signs with SHA-384 and verifies with hash sha384', async () => {
    const ref = parseReference(`${reg.host}/gcp/p384:v1`)
    await pushTinyImage(createRegistryClient(), ref, 'gcp p384')
    const signer = await provider().createSigner(`gcpkms://${KEY}-p384`)
    expect(signer.algorithm).toBe('ecdsa-p384-sha384')
    await signImage(ref, signer, { store: createRegistryClient(), tlogUpload: false, format: 'legacy' })
    const key = await signer.publicKey()
    const result = await verifyImage(ref, {
      store: createRegistryClient(),
      keys: [key],
      insecureIgnoreTlog: true,
      hash: 'sha384',
    })
    expect(result.verified).toHaveLength(1)
  })

  it('sign-blob with the KMS key verifies by key (bundle and raw signature)', async () => {
    const signer = await provider().createSigner(`gcpkms://${KEY}`)
    const data = new TextEncoder().encode(`blob ${Math.random()}`)
    const signed = await signBlob(data, signer, { tlogUpload: false })
    const key = parsePublicKey(publicKeyToPEM(await signer.publicKey()))
    await expect(
      verifyBlob(data, { keys: [key], bundle: signed.bundle, insecureIgnoreTlog: true }),
    ).resolves.toMatchObject({
      source: 'bundle',
    })
    await expect(
      verifyBlob(data, { keys: [key], signature: signed.signature, insecureIgnoreTlog: true }),
    ).resolves.toBeDefined()
    await expect(
      verifyBlob(new TextEncoder().encode('tampered'), {
        keys: [key],
        signature: signed.signature,
        insecureIgnoreTlog: true,
      }),
    ).rejects.toBeDefined()
  })
})
