// Vault transit keys signing images in a real registry (docker-registry) and blobs, verified with the key Vault
// reports and with its exported PEM; rotation keeps old signatures verifiable while the old public key is listed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signBlob } from '../../../src/blob/sign-blob.js'
import { verifyBlob } from '../../../src/blob/verify-blob.js'
import { signImage } from '../../../src/image/sign.js'
import { verifyImage } from '../../../src/image/verify.js'
import { generateKeyPair, parsePublicKey, publicKeyToPEM } from '../../../src/keys/index.js'
import { createHashiVaultKMSProvider } from '../../../src/kms/hashivault/index.js'
import { createKMSSigner, kmsPublicKey } from '../../../src/kms/index.js'
import { parseReference } from '../../../src/oci/reference.js'
import { createRegistryClient } from '../../../src/oci/registry.js'
import { pushTinyImage } from '../../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../../support/registry.js'
import { startVaultServer, type VaultServer } from '../../support/vault-server.js'

const TOKEN = 'hvs.CAESIRegistryTestToken0000000'
let reg: TestRegistry
let vault: VaultServer
let n = 0

const providers = () => [
  createHashiVaultKMSProvider({ env: { VAULT_ADDR: vault.url, VAULT_TOKEN: TOKEN }, sleep: async () => {} }),
]

async function image() {
  const ref = parseReference(`${reg.host}/vault/app-${++n}:v1`)
  const digest = await pushTinyImage(createRegistryClient(), ref, `vault image ${n} ${Math.random()}`)
  return { ...ref, tag: undefined, digest } as typeof ref
}

beforeAll(async () => {
  ;[reg, vault] = await Promise.all([startRegistry(), startVaultServer({ tokens: [TOKEN] })])
  vault.createKey('p256', 'ecdsa-p256')
  vault.createKey('p384', 'ecdsa-p384')
  vault.createKey('ed', 'ed25519')
  vault.createKey('rsa', 'rsa-2048')
})
afterAll(async () => {
  await Promise.all([reg?.stop(), vault?.close()])
})

describe('images signed with a Vault transit key (real registry)', () => {
  it.each(['bundle', 'legacy'] as const)(
    '%s form: verifies with the provider key and the exported PEM; another key fails',
    async (format) => {
      const ref = await image()
      const signer = await createKMSSigner('hashivault://p256', providers())
      await signImage(ref, signer, { store: createRegistryClient(), tlogUpload: false, format })
      const fromVault = await kmsPublicKey('hashivault://p256', providers())
      const fromPEM = parsePublicKey(publicKeyToPEM(fromVault))
      for (const key of [fromVault, fromPEM]) {
        const result = await verifyImage(ref, {
          store: createRegistryClient(),
          keys: [key],
          insecureIgnoreTlog: true,
          signatureFormat: format,
        })
        expect(result.verified).toHaveLength(1)
        expect(result.verified[0]!.format).toBe(format)
      }
      const others = [(await generateKeyPair()).publicKey, await kmsPublicKey('openbao://ed', providers())]
      await expect(
        verifyImage(ref, { store: createRegistryClient(), keys: others, insecureIgnoreTlog: true }),
      ).rejects.toMatchObject({ code: 'ERR_NO_MATCHING_SIGNATURES' })
    },
  )

  it.each([
    ['ed', {}],
    ['rsa', {}],
    ['p384', { hash: 'sha384' as const }],
  ])('%s key: signs and verifies (bundle form)', async (name, verifyOptions) => {
    const ref = await image()
    const signer = await createKMSSigner(`hashivault://${name}`, providers())
    await signImage(ref, signer, { store: createRegistryClient(), tlogUpload: false })
    const key = parsePublicKey(publicKeyToPEM(await signer.publicKey()))
    const result = await verifyImage(ref, {
      store: createRegistryClient(),
      keys: [key],
      insecureIgnoreTlog: true,
      ...verifyOptions,
    })
    expect(result.verified).toHaveLength(1)
  })
})

describe('blobs signed with a Vault transit key', () => {
  it.each(['p256', 'ed', 'rsa'])('%s: signBlob → verifyBlob with the provider key and the PEM', async (name) => {
    const data = new TextEncoder().encode(`blob ${Math.random()}`)
    const signer = await createKMSSigner(`hashivault://${name}`, providers())
    const signed = await signBlob(data, signer, { tlogUpload: false })
    const key = await signer.publicKey()
    for (const k of [key, parsePublicKey(publicKeyToPEM(key))]) {
      await expect(
        verifyBlob(data, { keys: [k], bundle: signed.bundle, insecureIgnoreTlog: true }),
      ).resolves.toMatchObject({ keyIndex: 0 })
      await expect(
        verifyBlob(data, { keys: [k], signature: signed.signature, insecureIgnoreTlog: true }),
      ).resolves.toMatchObject({ keyIndex: 0 })
    }
    await expect(
      verifyBlob(new TextEncoder().encode('tampered'), {
        keys: [key],
        signature: signed.signature,
        insecureIgnoreTlog: true,
      }),
    ).rejects.toBeDefined()
    await expect(
      verifyBlob(data, {
        keys: [(await generateKeyPair()).publicKey],
        signature: signed.signature,
        insecureIgnoreTlog: true,
      }),
    ).rejects.toBeDefined()
  })
})

describe('rotation', () => {
  it('v1 and v2 signatures verify with both versions’ keys; the v1 signature fails with only v2’s key', async () => {
    const vaultProvider = providers()[0]!
    await vaultProvider.createKey('hashivault://rotating')
    const [old, both] = [await image(), await image()]
    const v1 = await createKMSSigner('hashivault://rotating', [vaultProvider])
    await signImage(old, v1, { store: createRegistryClient(), tlogUpload: false })
    await signImage(both, v1, { store: createRegistryClient(), tlogUpload: false })
    const v1PEM = publicKeyToPEM(await v1.publicKey())

    // `vault write -f transit/keys/rotating/rotate`
    const res = await fetch(`${vault.url}/v1/transit/keys/rotating/rotate`, {
      method: 'POST',
      headers: { 'X-Vault-Token': TOKEN },
    })
    expect(res.status).toBe(200)

    const v2 = await createKMSSigner('hashivault://rotating', [vaultProvider])
    await signImage(both, v2, { store: createRegistryClient(), tlogUpload: false })
    const v2PEM = publicKeyToPEM(await v2.publicKey())
    expect(v2PEM).not.toBe(v1PEM)
    expect(publicKeyToPEM(await vaultProvider.publicKey('hashivault://rotating'))).toBe(v2PEM)

    const versions = await vaultProvider.publicKeys('hashivault://rotating')
    expect(versions.map((v) => publicKeyToPEM(v.publicKey))).toEqual([v1PEM, v2PEM])
    const keys = [parsePublicKey(v1PEM), parsePublicKey(v2PEM)]
    const store = createRegistryClient()

    const checkedBoth = await verifyImage(both, { store, keys, insecureIgnoreTlog: true })
    expect(checkedBoth.verified.map((c) => c.keyIndex).sort()).toEqual([0, 1])
    const checkedOld = await verifyImage(old, { store, keys, insecureIgnoreTlog: true })
    expect(checkedOld.verified.map((c) => c.keyIndex)).toEqual([0])
    await expect(verifyImage(old, { store, keys: [keys[1]!], insecureIgnoreTlog: true })).rejects.toMatchObject({
      code: 'ERR_NO_MATCHING_SIGNATURES',
    })
    // The retired version can still be pinned for verification (VAULT_KEY_PREFIX / keyVersion).
    const pinned = await vaultProvider.publicKey('hashivault://rotating', { keyVersion: 1 })
    expect(publicKeyToPEM(pinned)).toBe(v1PEM)
  })
})
