import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attestImage } from '../../src/image/attest.js'
import { verifyImageAttestations } from '../../src/image/verify-attestation.js'
import { generateKeyPair, type PrivateKey } from '../../src/keys/index.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const WRITERS = 8

describe.each(['bundle', 'legacy'] as const)(
  '%s form: 8 attesters at once lose no attestation (real registry)',
  (format) => {
    let reg: TestRegistry
    let keys: PrivateKey[]
    beforeAll(async () => {
      reg = await startRegistry()
      keys = await Promise.all(Array.from({ length: WRITERS }, () => generateKeyPair()))
    })
    afterAll(async () => {
      await reg?.stop()
    })

    it('every attestation is there afterwards', async () => {
      const ref = parseReference(`${reg.host}/race/att-${format}:v1`)
      await pushTinyImage(createRegistryClient(), ref, `race ${format}`)
      // Each writer has its own client, as separate processes would.
      await Promise.all(
        keys.map((k, i) =>
          attestImage(ref, createKeySigner(k), {
            store: createRegistryClient(),
            format,
            predicateType: 'https://example.com/race/v1',
            predicate: { writer: i },
            tlogUpload: false,
          }),
        ),
      )
      const result = await verifyImageAttestations(ref, {
        store: createRegistryClient(),
        keys: keys.map((k) => k.publicKey),
        insecureIgnoreTlog: true,
        signatureFormat: format,
        predicateType: 'https://example.com/race/v1',
      })
      expect(result.verified).toHaveLength(WRITERS)
      expect(new Set(result.verified.map((c) => c.keyIndex)).size).toBe(WRITERS)
    })
  },
)
