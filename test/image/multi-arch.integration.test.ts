import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { generateKeyPair } from '../../src/keys/index.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import type { Reference } from '../../src/oci/types.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushMultiArchImage } from '../support/multi-arch.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

describe('multi-arch: sign --recursive on a two-platform index (real docker-registry)', () => {
  let reg: TestRegistry
  beforeAll(async () => {
    reg = await startRegistry()
  })
  afterAll(async () => {
    await reg?.stop()
  })

  it.each(['bundle', 'legacy'] as const)('%s form: the index and every child are signed and verify', async (format) => {
    const store = createRegistryClient()
    const ref: Reference = { registry: reg.host, repository: `multi/${format}`, tag: 'v1' }
    const idx = await pushMultiArchImage(store, ref, `multi ${format}`)
    const key = await generateKeyPair()
    const warnings: string[] = []
    const result = await signImage(ref, createKeySigner(key), {
      store,
      tlogUpload: false,
      format,
      recursive: true,
      annotations: { build: '42' },
      onWarning: (m) => warnings.push(m),
    })
    expect(result.format).toBe(format)
    expect(result.digest).toBe(idx.digest)
    expect(result.children?.map((c) => c.digest)).toEqual(idx.children.map((c) => c.digest))
    expect(warnings).toHaveLength(1) // signing by tag, once, for the index

    const verify = (r: Reference) =>
      verifyImage(r, {
        store,
        keys: [key.publicKey],
        insecureIgnoreTlog: true,
        signatureFormat: format,
        annotations: { build: '42' },
      })
    // Verifying an index checks the index's own signatures (cosign semantics).
    const top = await verify(ref)
    expect(top.digest).toBe(idx.digest)
    expect(top.verified).toHaveLength(1)
    for (const child of idx.children) {
      const r = await verify({ registry: ref.registry, repository: ref.repository, digest: child.digest })
      expect(r.digest).toBe(child.digest)
      expect(r.verified).toHaveLength(1)
      expect(r.verified[0]!.format).toBe(format)
    }
  })

  it('without recursive only the index is signed; its children have no signatures', async () => {
    const store = createRegistryClient()
    const ref: Reference = { registry: reg.host, repository: 'multi/flat', tag: 'v1' }
    const idx = await pushMultiArchImage(store, ref, 'flat')
    const key = await generateKeyPair()
    const result = await signImage(ref, createKeySigner(key), { store, tlogUpload: false })
    expect(result.children).toBeUndefined()
    await verifyImage(ref, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
    for (const child of idx.children) {
      await expect(
        verifyImage(
          { registry: ref.registry, repository: ref.repository, digest: child.digest },
          { store, keys: [key.publicKey], insecureIgnoreTlog: true },
        ),
      ).rejects.toMatchObject({ code: 'ERR_NO_SIGNATURES' })
    }
  })

  it('recursive on a plain image signs just that image', async () => {
    const store = createRegistryClient()
    const ref: Reference = { registry: reg.host, repository: 'multi/single', tag: 'v1' }
    const idx = await pushMultiArchImage(store, ref, 'single')
    const child: Reference = { registry: ref.registry, repository: ref.repository, digest: idx.children[0]!.digest }
    const key = await generateKeyPair()
    const result = await signImage(child, createKeySigner(key), { store, tlogUpload: false, recursive: true })
    expect(result.children).toBeUndefined()
    expect(result.digest).toBe(child.digest)
    await verifyImage(child, { store, keys: [key.publicKey], insecureIgnoreTlog: true })
  })
})
