/**
 * Our blob bundles verify with sigstore-js (@sigstore/bundle 4 + @sigstore/verify 3): a managed public key found
 * by its hint, and thresholds of zero so that no transparency-log entry, timestamp or SCT is demanded — what
 * `cosign verify-blob --key --insecure-ignore-tlog` checks.
 */
import { bundleFromJSON } from '@sigstore/bundle'
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify'
import { describe, expect, it } from 'vitest'
import { blobSigningAlgorithm, signBlob } from '../../src/blob/index.js'
import { utf8 } from '../../src/internal/bytes.js'
import { generateKeyPair, type KeyAlgorithm, keyHint, type PublicKey } from '../../src/keys/index.js'
import { createKeySigner } from '../../src/signers/key-signer.js'

type Root = Parameters<typeof toTrustMaterial>[0]
type Keys = Exclude<Parameters<typeof toTrustMaterial>[1], undefined | ((hint: string) => unknown)>

/** No CAs, logs or TSAs: only the managed key. */
const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
} as unknown as Root

function sigstoreJsVerify(bundleBytes: Uint8Array, artifact: Uint8Array, key: PublicKey) {
  // keyLocator only reads rawBytes (SPKI DER) and validFor.
  const keys = { [keyHint(key)]: { rawBytes: Buffer.from(key.spki) } } as unknown as Keys
  const verifier = new Verifier(toTrustMaterial(EMPTY_ROOT, keys), {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  })
  const bundle = bundleFromJSON(JSON.parse(new TextDecoder().decode(bundleBytes)))
  return verifier.verify(toSignedEntity(bundle, Buffer.from(artifact)))
}

const data = utf8('interop blob\n')

describe.each<KeyAlgorithm>(['ecdsa-p256', 'ecdsa-p384', 'rsa'])(
  'sigstore-js verifies our %s blob bundle',
  (algorithm) => {
    it('accepts it with the managed key, and rejects a changed artifact and another key', async () => {
      const key = await generateKeyPair({ algorithm })
      const signer = createKeySigner(key, { algorithm: blobSigningAlgorithm(key.publicKey, { tlogUpload: false }) })
      const { bundle } = await signBlob(data, signer, { tlogUpload: false })
      const signer_ = sigstoreJsVerify(bundle, data, key.publicKey)
      expect(signer_.key.asymmetricKeyType).toBe(algorithm === 'rsa' ? 'rsa' : 'ec')
      expect(() => sigstoreJsVerify(bundle, utf8('interop blob!\n'), key.publicKey)).toThrow(
        /signature verification failed/,
      )
      const other = await generateKeyPair({ algorithm })
      expect(() => sigstoreJsVerify(bundle, data, other.publicKey)).toThrow(/key not found/)
    })
  },
)

it('sigstore-js cannot verify Ed25519 message signatures at all (it passes a digest name to Node for Ed25519)', async () => {
  // @sigstore/verify MessageSignatureContent.verifySignature → crypto.verify('sha256'|'sha512', …, ed25519Key, …),
  // which Node refuses for Ed25519 keys (ERR_OSSL_INVALID_DIGEST), caught and reported as a bad signature.
  const key = await generateKeyPair({ algorithm: 'ed25519' })
  const signer = createKeySigner(key, { algorithm: 'ed25519' })
  const { bundle } = await signBlob(data, signer, { tlogUpload: false })
  expect(() => sigstoreJsVerify(bundle, data, key.publicKey)).toThrow(/signature verification failed/)
})
