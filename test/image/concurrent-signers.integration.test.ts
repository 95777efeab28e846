import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signImage } from '../../src/image/sign.js'
import { verifyImage } from '../../src/image/verify.js'
import { generateKeyPair, type PrivateKey } from '../../src/keys/index.js'
import { parseReference } from '../../src/oci/reference.js'
import { createRegistryClient } from '../../src/oci/registry.js'
import { createKeySigner } from '../../src/signers/key-signer.js'
import { pushTinyImage } from '../support/oci-image.js'
import { startRegistry, type TestRegistry } from '../support/registry.js'

const SIGNERS = 10

describe.each(['bundle', 'legacy'] as const)(
  '%s form: 10 signers at once lose no signature (real registry)',
  (format) => {
    let reg: TestRegistry
    let keys: PrivateKey[]
    beforeAll(async () => {
      reg = await startRegistry()
      keys = await Promise.all(Array.from({ length: SIGNERS }, () => generateKeyPair()))
    })
    afterAll(async () => {
      await reg?.stop()
    })

    for (const round of [1, 2, 3]) {
      it(`round ${round}`, async () => {
        const ref = parseReference(`${reg.host}/race/${format}-${round}:v1`)
        await pushTinyImage(createRegistryClient(), ref, `round ${round}`)
        // Each signer has its own client (own auth cache and connections), as separate processes would.
        const results = await Promise.all(
          keys.map((k) =>
            signImage(ref, createKeySigner(k), { store: createRegistryClient(), tlogUpload: false, format }),
          ),
        )
        expect(results.every((r) => r.format === format && !r.deduplicated)).toBe(true)
        const verified = await verifyImage(ref, {
          store: createRegistryClient(),
          keys: keys.map((k) => k.publicKey),
          insecureIgnoreTlog: true,
          signatureFormat: format,
        })
        expect(verified.checks).toHaveLength(SIGNERS)
        expect(new Set(verified.verified.map((c) => c.keyIndex)).size).toBe(SIGNERS)
      })
    }
  },
)
