// End to end with the real registry: images and blobs signed by AWS KMS keys (through the SigV4-checking test KMS)
// verify with the provider's public key and with the exported PEM; another key's signature does not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlob } from '../../../src/blob/sign-blob.js'
import { verifyBlob } from '../../../src/blob/verify-blob.js'
import { signImage } from '../../../src/image/sign.js'
import { verifyImage } from '../../../src/image/verify.js'
import { parsePublicKey, publicKeyToPEM, verifySignature } from '../../../src/keys/index.js'
import { createAWSKMSProvider } from '../../../src/kms/aws/provider.js'
import { parseReference } from '../../../src/oci/reference.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import { type AWSKMSServer, startAWSKMSServer } from '../../support/aws-kms-server.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'

let reg: TestRegistry
let kms: AWSKMSServer

beforeAll(async () => {
  ;[reg, kms] = await Promise.all([startRegistry(), startAWSKMSServer({ region: 'us-east-2' })])
  kms.addKey('ECC_NIST_P256', { alias: 'alias/release' })
  kms.addKey('ECC_NIST_P256', { alias: 'alias/other' })
  kms.addKey('RSA_2048', { alias: 'alias/pss', signingAlgorithms: ['RSASSA_PSS_SHA_256'] })
})
afterAll(async () => {
  await Promise.all([reg?.stop(), kms?.close()])
})

const aws = () =>
  createAWSKMSProvider({ credentials: kms.credential, region: kms.region, endpoint: kms.url, sleep: async () => {} })

async function image(name: string) {
  const ref = parseReference(`${reg.host}/kms/${name}:v1`)
  await pushTinyImage(createRegistryClient(), ref, `${name} ${Math.random()}`)
  return ref
}

describe.each(['bundle', 'legacy'] as const)('%s form in the real registry', (format) => {
  it('signed with awskms:///alias/release: verifies with the provider key and the exported PEM; the other key fails', async () => {
    const ref = await image(`ecdsa-${format}`)
    const provider = aws()
    const signer = await provider.createSigner('awskms:///alias/release')
    await signImage(ref, signer, { store: createRegistryClient(), tlogUpload: false, format })
    const key = await provider.publicKey('awskms:///alias/release')
    const pem = publicKeyToPEM(key)
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----/)
    for (const k of [key, parsePublicKey(pem)]) {
      const result = await verifyImage(ref, {
        store: createRegistryClient(),
        keys: [k],
        insecureIgnoreTlog: true,
        signatureFormat: format,
      })
      expect(result.verified).toHaveLength(1)
    }
    const other = await provider.publicKey('awskms:///alias/other')
    await expect(
      verifyImage(ref, {
        store: createRegistryClient(),
        keys: [other],
        insecureIgnoreTlog: true,
        signatureFormat: format,
      }),
    ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
  })
})

it('an RSA-PSS key signs an image that verifies with PSS (and not as PKCS#1 v1.5)', async () => {
  const ref = await image('pss')
  const provider = aws()
  const signer = await provider.createSigner('awskms:///alias/pss')
  expect(signer.algorithm).toBe('rsa-pss-sha256')
  await signImage(ref, signer, { store: createRegistryClient(), tlogUpload: false, format: 'legacy' })
  const key = parsePublicKey(publicKeyToPEM(await provider.publicKey('awskms:///alias/pss')))
  const options = { store: createRegistryClient(), keys: [key], insecureIgnoreTlog: true }
  await expect(verifyImage(ref, { ...options, verifyOptions: { rsaPadding: 'pss' } })).resolves.toMatchObject({
    verified: [expect.anything()],
  })
  await expect(verifyImage(ref, options)).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
})

it('sign-blob with a KMS key: the bundle verifies with the provider key, not with another key or other data', async () => {
  const provider = aws()
  const data = new TextEncoder().encode(`blob ${Math.random()}`)
  const signed = await signBlob(data, await provider.createSigner('awskms:///alias/release'), { tlogUpload: false })
  const key = await provider.publicKey('awskms:///alias/release')
  await expect(
    verifyBlob(data, { keys: [key], bundle: signed.bundle, insecureIgnoreTlog: true }),
  ).resolves.toMatchObject({ source: 'bundle', keyIndex: 0 })
  await expect(
    verifyBlob(data, {
      keys: [parsePublicKey(publicKeyToPEM(key))],
      signature: signed.signature,
      insecureIgnoreTlog: true,
    }),
  ).resolves.toMatchObject({ source: 'signature' })
  const other = await provider.publicKey('awskms:///alias/other')
  await expect(
    verifyBlob(data, { keys: [other], bundle: signed.bundle, insecureIgnoreTlog: true }),
  ).rejects.toMatchObject({ code: 'ERR_SIGNATURE_INVALID' })
  await expect(
    verifyBlob(new TextEncoder().encode('other'), {
      keys: [key],
      signature: signed.signature,
      insecureIgnoreTlog: true,
    }),
  ).rejects.toMatchObject({ code: 'ERR_SIGNATURE_INVALID' })
  expect(await verifySignature(key, data, signed.signature)).toBe(true)
})
