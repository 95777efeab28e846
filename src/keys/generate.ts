/** Generate new key pairs with Web Crypto. @module */
import { CountersignError } from '../errors.js'
import { curveForAlgorithm } from './algorithms.js'
import { ed25519PrivateKey, parsePKCS8 } from './parse-private.js'
import type { GenerateKeyPairOptions, PrivateKey } from './types.js'
import { getSubtle, isNotSupported } from './webcrypto.js'

async function exportPKCS8(pair: CryptoKeyPair): Promise<PrivateKey> {
  const der = new Uint8Array(await getSubtle().exportKey('pkcs8', pair.privateKey))
  try {
    // Re-parsing normalises whatever the runtime exported (some add EC [0] parameters) to Go's
    // x509.MarshalPKCS8PrivateKey form, so the bytes match what cosign would encrypt.
    return parsePKCS8(der)
  } finally {
    der.fill(0)
  }
}

/**
 * Generate a key pair. The default is ECDSA P-256, what `cosign generate-key-pair` creates; its `pkcs8` is the
 * 138-byte form Go's `x509.MarshalPKCS8PrivateKey` writes. Keys come from `crypto.subtle.generateKey` (Ed25519 falls
 * back to `@noble/curves` where Web Crypto lacks it).
 *
 * @param options - Key family and RSA size.
 * @returns A new {@link PrivateKey}; its public half is `key.publicKey`.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM for an unknown algorithm or RSA size.
 * @example
 * ```ts
 * import { encryptCosignPrivateKey, generateKeyPair, publicKeyToPEM } from 'countersign/keys'
 * const key = await generateKeyPair()
 * const cosignKey = await encryptCosignPrivateKey(key, password)
 * const cosignPub = publicKeyToPEM(key.publicKey)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export async function generateKeyPair(options: GenerateKeyPairOptions = {}): Promise<PrivateKey> {
  const algorithm = options.algorithm ?? 'ecdsa-p256'
  const subtle = getSubtle()
  const curve = curveForAlgorithm(algorithm)
  if (curve) {
    const pair = await subtle.generateKey({ name: 'ECDSA', namedCurve: curve.namedCurve }, true, ['sign', 'verify'])
    return exportPKCS8(pair)
  }
  if (algorithm === 'rsa') {
    const bits = options.rsaBits ?? 2048
    if (bits !== 2048 && bits !== 3072 && bits !== 4096) {
      throw new CountersignError(
        'ERR_UNSUPPORTED_ALGORITHM',
        `unsupported RSA key size ${String(bits)} (2048, 3072 or 4096)`,
      )
    }
    const pair = await subtle.generateKey(
      { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-256' },
      true,
      ['sign', 'verify'],
    )
    return exportPKCS8(pair)
  }
  if (algorithm === 'ed25519') {
    try {
      const pair = (await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair
      return await exportPKCS8(pair)
    } catch (error) {
      if (!isNotSupported(error)) throw error
    }
    // Only runtimes without Web Crypto Ed25519 get here; load noble on demand.
    const { ed25519 } = await import('@noble/curves/ed25519.js')
    const seed = ed25519.utils.randomSecretKey()
    try {
      return ed25519PrivateKey(seed, undefined)
    } finally {
      seed.fill(0)
    }
  }
  throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported key algorithm ${String(algorithm)}`)
}
