import { describe, expect, it, vi } from 'vitest'
import { utf8 } from '../../src/internal/bytes.js'
import { generateKeyPair, keyHint, type PrivateKey, verifySignature } from '../../src/keys/index.js'
import { createKeySigner } from '../../src/signers/index.js'

const DATA = utf8('payload')

describe('createKeySigner', () => {
  it('uses the cosign default algorithm and reports SPKI + hint', async () => {
    const key = await generateKeyPair()
    const signer = createKeySigner(key)
    expect(signer.algorithm).toBe('ecdsa-p256-sha256')
    expect(await signer.keyMaterial()).toEqual({
      type: 'public-key',
      spki: key.publicKey.spki,
      hint: keyHint(key.publicKey),
    })
    const sig = await signer.sign(DATA)
    expect(sig[0]).toBe(0x30)
    expect(await verifySignature(key.publicKey, DATA, sig)).toBe(true)
  })

  it.each([
    ['ecdsa-p384', undefined, 'ecdsa-p384-sha384', { hash: 'sha384' }],
    ['ecdsa-p521', undefined, 'ecdsa-p521-sha512', { hash: 'sha512' }],
    ['ed25519', undefined, 'ed25519ph', { ed25519ph: true }],
    ['ed25519', 'ed25519', 'ed25519', {}],
    ['rsa', undefined, 'rsa-pkcs1v15-sha256', {}],
    ['rsa', 'rsa-pss-sha256', 'rsa-pss-sha256', { rsaPadding: 'pss' }],
  ] as const)('%s with %s signs as %s', async (algorithm, requested, expected, verifyOptions) => {
    const key = await generateKeyPair({ algorithm })
    const signer = createKeySigner(key, requested ? { algorithm: requested } : {})
    expect(signer.algorithm).toBe(expected)
    expect(await verifySignature(key.publicKey, DATA, await signer.sign(DATA), verifyOptions)).toBe(true)
  })

  it('imports the private key into Web Crypto once, non-extractable', async () => {
    const key = await generateKeyPair()
    const spy = vi.spyOn(globalThis.crypto.subtle, 'importKey')
    try {
      const signer = createKeySigner(key)
      await Promise.all([signer.sign(DATA), signer.sign(DATA)])
      await signer.sign(DATA)
      expect(spy).toHaveBeenCalledTimes(1)
      expect(spy.mock.calls[0]![0]).toBe('pkcs8')
      expect(spy.mock.calls[0]![3]).toBe(false)
    } finally {
      spy.mockRestore()
    }
  })

  it('rejects algorithms that do not fit the key and bad arguments', async () => {
    const key = await generateKeyPair()
    expect(() => createKeySigner(key, { algorithm: 'ed25519' })).toThrow(
      expect.objectContaining({ code: 'ERR_UNSUPPORTED_ALGORITHM' }),
    )
    expect(() => createKeySigner({} as PrivateKey)).toThrow(TypeError)
    await expect(createKeySigner(key).sign('x' as unknown as Uint8Array)).rejects.toThrow(TypeError)
  })

  it('honours an aborted signal', async () => {
    const signer = createKeySigner(await generateKeyPair())
    const controller = new AbortController()
    controller.abort()
    await expect(signer.sign(DATA, { signal: controller.signal })).rejects.toThrow()
  })
})
