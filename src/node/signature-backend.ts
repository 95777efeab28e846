/** Node's synchronous OpenSSL signature verification behind the core's signature-backend contract. @module */
import { constants, createPublicKey, type KeyObject, verify } from 'node:crypto'
import { CountersignError } from '../errors.js'
import { rawPublicKey } from '../keys/parse-public.js'
import type { HashAlgorithm, PublicKey } from '../keys/types.js'
import type { RSAVerifyPadding, SignatureBackend } from '../keys/verify.js'

const NAMED_CURVE = { 'ecdsa-p256': 'P-256', 'ecdsa-p384': 'P-384', 'ecdsa-p521': 'P-521' } as const

// One KeyObject per parsed key object (trusted-root keys live as long as their root; a bundle's leaf key as long as
// its bundle). Keyed by object, never by bytes, so nothing learnt from one bundle carries over to another.
const keyObjects = new WeakMap<PublicKey, KeyObject>()

function keyInvalid(cause: unknown): never {
  throw new CountersignError('ERR_KEY_INVALID', 'OpenSSL rejected the public key', { cause })
}

function importKey(key: PublicKey): KeyObject {
  let cached = keyObjects.get(key)
  if (cached !== undefined) return cached
  try {
    const namedCurve = NAMED_CURVE[key.algorithm as keyof typeof NAMED_CURVE]
    // OpenSSL 3 builds an EC key from its coordinates (JWK) in less than half the time it takes to decode the same
    // key from DER SPKI (createPublicKey searches its decoders), and each bundle brings a new leaf key.
    // parsePublicKey already checked the point is uncompressed and on the curve.
    if (namedCurve !== undefined) {
      const point = rawPublicKey(key)
      const size = (point.length - 1) / 2
      const x = Buffer.from(point.buffer, point.byteOffset + 1, size).toString('base64url')
      const y = Buffer.from(point.buffer, point.byteOffset + 1 + size, size).toString('base64url')
      cached = createPublicKey({ key: { kty: 'EC', crv: namedCurve, x, y }, format: 'jwk' })
    } else {
      cached = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' })
    }
  } catch (cause) {
    keyInvalid(cause)
  }
  keyObjects.set(key, cached)
  return cached
}

const NODE_HASH: Readonly<Record<HashAlgorithm, string>> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' }

/**
 * Signature verification with `node:crypto`'s `verify` and cached `KeyObject`s: the same OpenSSL arithmetic Web
 * Crypto uses in Node, without a libuv thread-pool round trip per signature (a Sigstore bundle needs about five).
 * P-256, RSA and Ed25519 run synchronously; P-384 and P-521, which OpenSSL has no fast code for (a P-384 verify,
 * as on every Fulcio leaf and Sigstore TSA token, costs ~0.8 ms, ten times a P-256 one), go to the thread pool
 * through `verify`'s callback form so they overlap the bundle's other checks. countersign's own checks (strict
 * DER, scalar ranges, PSS salt lengths) run first exactly as with the default backend, so both accept the same
 * signatures. Pass it as `signatureBackend` to `createVerifier` or `verifyBundle`.
 *
 * Exported from `countersign/node` and `countersign/node/signature-backend` (which loads nothing else).
 */
export const nodeSignatureBackend: SignatureBackend = Object.freeze({
  verifyECDSA(key: PublicKey, hash: HashAlgorithm, signature: Uint8Array, data: Uint8Array) {
    const options = { key: importKey(key), dsaEncoding: 'ieee-p1363' as const }
    if (key.algorithm === 'ecdsa-p256') return verify(NODE_HASH[hash], data, options, signature)
    return new Promise<boolean>((resolve, reject) => {
      verify(NODE_HASH[hash], data, options, signature, (error, ok) => (error ? reject(error) : resolve(ok)))
    })
  },
  verifyRSA(key: PublicKey, hash: HashAlgorithm, padding: RSAVerifyPadding, signature: Uint8Array, data: Uint8Array) {
    const object = importKey(key)
    const options =
      padding.type === 'pss'
        ? { key: object, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: padding.saltLength }
        : { key: object, padding: constants.RSA_PKCS1_PADDING }
    return verify(NODE_HASH[hash], data, options, signature)
  },
  verifyEd25519(key: PublicKey, signature: Uint8Array, data: Uint8Array) {
    return verify(null, data, importKey(key), signature)
  },
})
