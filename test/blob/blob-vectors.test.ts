/** Third-party message-signature bundles (test/vectors/blob-bundles/SOURCE.md) verified by key, tlog ignored. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { verifyBlob } from '../../src/blob/index.js'
import { parsePublicKey } from '../../src/keys/index.js'

const dir = new URL('../vectors/blob-bundles/', import.meta.url)
const read = (c: string, f: string) => new Uint8Array(readFileSync(new URL(`${c}/${f}`, dir)))
const ignore = { insecureIgnoreTlog: true } as const

describe('message-signature bundles signed by key', () => {
  it.each(['conformance-managed-key-happy-path', 'sigstore-go-public-key-validity-unbounded-key'])(
    '%s verifies with key.pub; a changed artifact does not',
    async (c) => {
      const keys = [parsePublicKey(read(c, 'key.pub'))]
      const bundle = read(c, 'bundle.sigstore.json')
      const artifact = read(c, 'artifact')
      const r = await verifyBlob(artifact, { keys, bundle, ...ignore })
      expect(r).toMatchObject({ source: 'bundle', keyIndex: 0 })
      const changed = new Uint8Array([...artifact, 0x0a])
      await expect(verifyBlob(changed, { keys, bundle, ...ignore })).rejects.toMatchObject({
        code: 'ERR_SIGNATURE_INVALID',
      })
    },
  )

  it('conformance-managed-key-wrong-key_fail: the corrupted key.pub is refused before any verification', () => {
    const c = 'conformance-managed-key-wrong-key_fail'
    expect(() => parsePublicKey(read(c, 'key.pub'))).toThrow(expect.objectContaining({ name: 'CountersignError' }))
  })

  it('a key-signed conformance bundle does not verify under another vector’s key', async () => {
    const keys = [parsePublicKey(read('sigstore-go-public-key-validity-unbounded-key', 'key.pub'))]
    const c = 'conformance-managed-key-happy-path'
    await expect(
      verifyBlob(read(c, 'artifact'), { keys, bundle: read(c, 'bundle.sigstore.json'), ...ignore }),
    ).rejects.toMatchObject({ code: 'ERR_SIGNATURE_INVALID' })
  })
})

describe('bundles verify-blob must refuse under a key', () => {
  const keys = [parsePublicKey(read('conformance-managed-key-happy-path', 'key.pub'))]

  it('a certificate-signed message signature (keyless material)', async () => {
    const c = 'sigstore-js-client-v0.3-message-signature'
    await expect(
      verifyBlob(read(c, 'artifact'), { keys, bundle: read(c, 'bundle.sigstore.json'), ...ignore }),
    ).rejects.toMatchObject({
      code: 'ERR_SIGNATURE_INVALID',
      message: 'failed to verify signature: expected key signature, not certificate',
    })
  })

  it('a DSSE bundle points to verify-blob-attestation', async () => {
    const c = 'sigstore-js-client-v0.1-dsse-public-key'
    await expect(
      verifyBlob(new Uint8Array(), { keys, bundle: read(c, 'bundle.sigstore.json'), ...ignore }),
    ).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID', message: expect.stringContaining('verify-blob-attestation') })
  })
})
