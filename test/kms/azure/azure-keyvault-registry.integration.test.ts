// Sign an image in a real registry and a blob with an Azure Key Vault key served by the in-process vault; verify
// with the provider's public key and the exported PEM. Cross-provider: a Cloud KMS signature does not verify with
// the Key Vault key's PEM and vice versa.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlob } from '../../../src/blob/sign-blob.js'
import { verifyBlob } from '../../../src/blob/verify-blob.js'
import { signImage } from '../../../src/image/sign.js'
import { verifyImage } from '../../../src/image/verify.js'
import { parsePublicKey, publicKeyToPEM } from '../../../src/keys/index.js'
import { createAzureKMSProvider } from '../../../src/kms/azure/index.js'
import { createGCPKMSProvider } from '../../../src/kms/gcp/index.js'
import { parseReference } from '../../../src/oci/reference.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import { type AzureKeyVaultServer, startAzureKeyVaultServer } from '../../support/azure-keyvault-server.js'
import { type GCPKMSServer, startGCPKMSServer } from '../../support/gcp-kms-server.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'

let reg: TestRegistry
let kv: AzureKeyVaultServer
let gcp: GCPKMSServer
const AZURE_URI = 'azurekms://countersign.vault.azure.net/images'
const GCP_KEY = 'projects/countersign-test/locations/global/keyRings/release/cryptoKeys/images'

beforeAll(async () => {
  ;[reg, kv, gcp] = await Promise.all([startRegistry(), startAzureKeyVaultServer(), startGCPKMSServer()])
  kv.addKey('images')
  gcp.addKey(GCP_KEY)
})
afterAll(async () => {
  await Promise.all([reg?.stop(), kv?.close(), gcp?.close()])
})

const azure = () => createAzureKMSProvider({ endpoint: kv.url, credentials: async () => ({ token: kv.issueToken() }) })
const google = () => createGCPKMSProvider({ endpoint: gcp.url, credentials: async () => ({ token: gcp.issueToken() }) })

describe('azurekms:// signing against a real registry', () => {
  for (const format of ['bundle', 'legacy'] as const) {
    it(`${format} form: verifies with the Key Vault public key and the exported PEM`, async () => {
      const ref = parseReference(`${reg.host}/azure/${format}:v1`)
      await pushTinyImage(createRegistryClient(), ref, `azure ${format}`)
      const signer = await azure().createSigner(AZURE_URI)
      await signImage(ref, signer, { store: createRegistryClient(), tlogUpload: false, format })
      const kmsKey = await azure().publicKey(AZURE_URI)
      for (const key of [kmsKey, parsePublicKey(publicKeyToPEM(kmsKey))]) {
        const result = await verifyImage(ref, {
          store: createRegistryClient(),
          keys: [key],
          insecureIgnoreTlog: true,
          signatureFormat: format,
        })
        expect(result.verified).toHaveLength(1)
      }
    })
  }

  it('cross-provider: each signature fails with the other provider key and passes with its own', async () => {
    const ref = parseReference(`${reg.host}/cross/app:v1`)
    await pushTinyImage(createRegistryClient(), ref, 'cross')
    const azureKey = parsePublicKey(publicKeyToPEM(await azure().publicKey(AZURE_URI)))
    const gcpKey = parsePublicKey(publicKeyToPEM(await google().publicKey(`gcpkms://${GCP_KEY}`)))
    // Image signed by Cloud KMS only: the Key Vault key does not verify it.
    await signImage(ref, await google().createSigner(`gcpkms://${GCP_KEY}`), {
      store: createRegistryClient(),
      tlogUpload: false,
    })
    await expect(
      verifyImage(ref, { store: createRegistryClient(), keys: [azureKey], insecureIgnoreTlog: true }),
    ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    await expect(
      verifyImage(ref, { store: createRegistryClient(), keys: [gcpKey], insecureIgnoreTlog: true }),
    ).resolves.toBeDefined()
    // Blobs both ways.
    const data = new TextEncoder().encode(`cross blob ${Math.random()}`)
    const byAzure = await signBlob(data, await azure().createSigner(AZURE_URI), { tlogUpload: false })
    const byGoogle = await signBlob(data, await google().createSigner(`gcpkms://${GCP_KEY}`), { tlogUpload: false })
    await expect(
      verifyBlob(data, { keys: [gcpKey], bundle: byAzure.bundle, insecureIgnoreTlog: true }),
    ).rejects.toBeDefined()
    await expect(
      verifyBlob(data, { keys: [azureKey], bundle: byGoogle.bundle, insecureIgnoreTlog: true }),
    ).rejects.toBeDefined()
    await expect(
      verifyBlob(data, { keys: [azureKey], bundle: byAzure.bundle, insecureIgnoreTlog: true }),
    ).resolves.toBeDefined()
    await expect(
      verifyBlob(data, { keys: [gcpKey], bundle: byGoogle.bundle, insecureIgnoreTlog: true }),
    ).resolves.toBeDefined()
    // With both keys (rotation across providers), the image verifies.
    await expect(
      verifyImage(ref, { store: createRegistryClient(), keys: [azureKey, gcpKey], insecureIgnoreTlog: true }),
    ).resolves.toMatchObject({ verified: [expect.objectContaining({ keyIndex: 1 })] })
  })
})
