// The shared KMS entry: which references are KMS keys, and dispatch to the provider of their scheme.
import { describe, expect, it } from 'vitest'
import type { PublicKey } from '../../src/keys/types.js'
import { createKMSSigner, isKMSReference, KMS_SCHEMES, kmsPublicKey, kmsScheme } from '../../src/kms/index.js'
import type { KMSProvider, KMSSigner } from '../../src/kms/types.js'

describe('kmsScheme / isKMSReference', () => {
  it.each([
    ['awskms:///alias/release', 'awskms'],
    ['awskms://localhost:4566/1234abcd-12ab-34cd-56ef-1234567890ab', 'awskms'],
    ['gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1', 'gcpkms'],
    ['azurekms://myvault.vault.azure.net/release', 'azurekms'],
    ['hashivault://release', 'hashivault'],
    ['openbao://release', 'openbao'],
  ])('%s → %s', (uri, scheme) => {
    expect(kmsScheme(uri)).toBe(scheme)
    expect(isKMSReference(uri)).toBe(true)
  })

  it.each([
    'cosign.pub',
    '/keys/cosign.pub',
    'https://example.com/cosign.pub',
    'k8s://ns/secret',
    'pkcs11:token=x',
    'HASHIVAULT://release',
    'hashivault:/release',
    ' awskms:///alias/x',
    '',
  ])('%j is not a KMS reference', (ref) => {
    expect(kmsScheme(ref)).toBeUndefined()
    expect(isKMSReference(ref)).toBe(false)
  })

  it('lists cosign’s schemes', () => {
    expect(KMS_SCHEMES).toEqual(['awskms', 'gcpkms', 'azurekms', 'hashivault', 'openbao'])
  })
})

describe('createKMSSigner / kmsPublicKey dispatch by scheme', () => {
  const key = (name: string): PublicKey => ({ algorithm: 'ed25519', spki: new TextEncoder().encode(name) })
  const stub = (scheme: string): KMSProvider & { calls: string[] } => {
    const calls: string[] = []
    return {
      scheme,
      calls,
      createSigner: async (uri) => {
        calls.push(`signer ${uri}`)
        return { uri, algorithm: 'ed25519', scheme } as unknown as KMSSigner
      },
      publicKey: async (uri) => {
        calls.push(`publicKey ${uri}`)
        return key(scheme)
      },
    }
  }

  it('routes each scheme to its provider, openbao:// to the hashivault provider, and custom schemes too', async () => {
    const providers = [stub('awskms'), stub('gcpkms'), stub('azurekms'), stub('hashivault'), stub('myhsm')]
    for (const [uri, scheme] of [
      ['awskms:///alias/a', 'awskms'],
      ['gcpkms://projects/p/locations/l/keyRings/r/cryptoKeys/k', 'gcpkms'],
      ['azurekms://v.vault.azure.net/k', 'azurekms'],
      ['hashivault://k', 'hashivault'],
      ['openbao://k', 'hashivault'],
      ['myhsm://slot/3', 'myhsm'],
    ] as const) {
      const signer = await createKMSSigner(uri, providers)
      expect((signer as unknown as { scheme: string }).scheme).toBe(scheme)
      expect(signer.uri).toBe(uri)
      expect(await kmsPublicKey(uri, providers)).toEqual(key(scheme))
    }
    expect(providers[3]!.calls).toEqual([
      'signer hashivault://k',
      'publicKey hashivault://k',
      'signer openbao://k',
      'publicKey openbao://k',
    ])
  })

  it('a provider registered for openbao itself wins over the alias', async () => {
    const vault = stub('hashivault')
    const bao = stub('openbao')
    await createKMSSigner('openbao://k', [vault, bao])
    expect(bao.calls).toEqual(['signer openbao://k'])
    expect(vault.calls).toEqual([])
  })

  it('passes options through', async () => {
    let seen: unknown
    const p: KMSProvider = {
      scheme: 'hashivault',
      createSigner: async (_uri, options) => {
        seen = options
        return {} as KMSSigner
      },
      publicKey: async () => key('x'),
    }
    const options = { timeoutMs: 5 }
    await createKMSSigner('hashivault://k', [p], options)
    expect(seen).toBe(options)
  })

  it('unknown or unconfigured schemes fail with ERR_INVALID_INPUT naming what is missing', async () => {
    const providers = [stub('hashivault')]
    await expect(createKMSSigner('awskms:///alias/a', providers)).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringContaining('countersign/kms/aws'),
      details: { scheme: 'awskms', reason: 'unknown-scheme' },
    })
    await expect(kmsPublicKey('foo://bar', providers)).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringMatching(/unknown KMS scheme foo:\/\/.*hashivault:\/\//),
    })
    await expect(createKMSSigner('hashivault://k', [])).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringContaining('countersign/kms/hashivault'),
    })
    await expect(createKMSSigner('cosign.pub', providers)).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      details: { reason: 'no-scheme' },
    })
    await expect(createKMSSigner(42 as unknown as string, providers)).rejects.toBeInstanceOf(TypeError)
  })
})
