/** Sign data with a private key, producing what cosign would (DER for ECDSA). @module */

import type { SigningAlgorithm } from '../contracts/signer.js'
import { CountersignError } from '../errors.js'
import { toArrayBufferView } from '../internal/bytes.js'
import { curveForAlgorithm } from './algorithms.js'
import { ecdsaP1363ToDER } from './ecdsa-der.js'
import { defaultSigningAlgorithm, signingAlgorithmsFor } from './key-info.js'
import { ed25519Seed } from './parse-private.js'
import type { PrivateKey, SignDataOptions } from './types.js'
import { getSubtle, importPrivateKey, isNotSupported } from './webcrypto.js'

/** A prepared signing operation: the private key is imported on first use and then reused. */
export type SignFunction = (data: Uint8Array) => Promise<Uint8Array>

function assertPrivateKey(key: unknown): asserts key is PrivateKey {
  const k = key as Partial<PrivateKey> | null
  if (
    typeof k !== 'object' ||
    k === null ||
    typeof k.algorithm !== 'string' ||
    !(k.pkcs8 instanceof Uint8Array) ||
    typeof k.publicKey !== 'object'
  ) {
    throw new TypeError('key must be a PrivateKey (use parsePrivateKey or decryptCosignPrivateKey)')
  }
}

/** Resolve and check the algorithm against the key family. */
export function resolveSigningAlgorithm(key: PrivateKey, algorithm?: SigningAlgorithm): SigningAlgorithm {
  const chosen = algorithm ?? defaultSigningAlgorithm(key.publicKey)
  if (!signingAlgorithmsFor(key.publicKey).includes(chosen)) {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `signing algorithm ${String(chosen)} cannot be used with a ${key.algorithm} key`,
    )
  }
  return chosen
}

/** Memoise an async import so concurrent first calls share one import. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined
  return () => {
    pending ??= fn()
    return pending
  }
}

/**
 * Build a signing function for `key` and `algorithm` (already validated). Internal: used by {@link signData} and
 * `createKeySigner`.
 */
export function createSignFunction(key: PrivateKey, algorithm: SigningAlgorithm): SignFunction {
  const sign = rawSignFunction(key, algorithm)
  return async (data) => {
    try {
      return await sign(data)
    } catch (cause) {
      if (cause instanceof CountersignError) throw cause
      // Web Crypto imports some inconsistent keys (an RSA key whose CRT values do not match, found by fuzzing) and
      // only fails when signing, with a bare OperationError.
      throw new CountersignError(
        'ERR_KEY_INVALID',
        `the ${key.algorithm} private key cannot sign: ${(cause as Error)?.name ?? 'error'}: ${(cause as Error)?.message ?? String(cause)}`,
        { cause },
      )
    }
  }
}

function rawSignFunction(key: PrivateKey, algorithm: SigningAlgorithm): SignFunction {
  switch (algorithm) {
    case 'ecdsa-p256-sha256':
    case 'ecdsa-p384-sha384':
    case 'ecdsa-p521-sha512': {
      const curve = curveForAlgorithm(key.algorithm)!
      const hash =
        algorithm === 'ecdsa-p256-sha256' ? 'SHA-256' : algorithm === 'ecdsa-p384-sha384' ? 'SHA-384' : 'SHA-512'
      const cryptoKey = once(() => importPrivateKey(key, { name: 'ECDSA', namedCurve: curve.namedCurve }))
      return async (data) => {
        const raw = await getSubtle().sign({ name: 'ECDSA', hash }, await cryptoKey(), toArrayBufferView(data))
        // Web Crypto returns P1363 r‖s; cosign stores ASN.1 DER (Go ecdsa.SignASN1).
        return ecdsaP1363ToDER(new Uint8Array(raw))
      }
    }
    case 'rsa-pkcs1v15-sha256': {
      const cryptoKey = once(() => importPrivateKey(key, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }))
      return async (data) =>
        new Uint8Array(
          await getSubtle().sign({ name: 'RSASSA-PKCS1-v1_5' }, await cryptoKey(), toArrayBufferView(data)),
        )
    }
    case 'rsa-pss-sha256': {
      const cryptoKey = once(() => importPrivateKey(key, { name: 'RSA-PSS', hash: 'SHA-256' }))
      // Salt = hash length: accepted by Go (PSSSaltLengthAuto), openssl and sigstore verifiers alike.
      return async (data) =>
        new Uint8Array(
          await getSubtle().sign({ name: 'RSA-PSS', saltLength: 32 }, await cryptoKey(), toArrayBufferView(data)),
        )
    }
    case 'ed25519': {
      const cryptoKey = once(async (): Promise<CryptoKey | null> => {
        try {
          return await importPrivateKey(key, { name: 'Ed25519' })
        } catch (error) {
          if (isNotSupported(error)) return null
          throw error
        }
      })
      return async (data) => {
        const ck = await cryptoKey()
        if (ck) return new Uint8Array(await getSubtle().sign({ name: 'Ed25519' }, ck, toArrayBufferView(data)))
        const { ed25519 } = await import('@noble/curves/ed25519.js')
        return ed25519.sign(data, ed25519Seed(key))
      }
    }
    case 'ed25519ph':
      // Web Crypto has no Ed25519ph; RFC 8032 §5.1 with the SHA-512 prehash, via noble (loaded on first use).
      return async (data) => {
        const { ed25519ph } = await import('@noble/curves/ed25519.js')
        return ed25519ph.sign(data, ed25519Seed(key))
      }
    default:
      throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported signing algorithm ${String(algorithm)}`)
  }
}

// signData called repeatedly with the same key object reuses its imported CryptoKey.
const signCache = new WeakMap<PrivateKey, Map<SigningAlgorithm, SignFunction>>()

/**
 * Sign `data` with a private key. ECDSA signatures are ASN.1 DER (as cosign stores them), RSA and Ed25519 raw. The
 * default scheme is {@link defaultSigningAlgorithm}: for Ed25519 that is Ed25519ph, as `cosign sign --key` does;
 * pass `{ algorithm: 'ed25519' }` for pure Ed25519.
 *
 * @param key - From {@link parsePrivateKey}, {@link decryptCosignPrivateKey} or {@link generateKeyPair}.
 * @param data - The message (hashed by the scheme, not by the caller).
 * @param options - The signature scheme.
 * @returns The signature bytes.
 * @throws {TypeError} when arguments have the wrong type.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM when the scheme does not fit the key; ERR_KEY_INVALID when
 *   Web Crypto refuses the key.
 * @example
 * ```ts
 * import { generateKeyPair, signData } from 'countersign/keys'
 * const key = await generateKeyPair()
 * const derSignature = await signData(key, new TextEncoder().encode('hello'))
 * ```
 *
 * Exported from `countersign/keys`.
 */
export async function signData(key: PrivateKey, data: Uint8Array, options: SignDataOptions = {}): Promise<Uint8Array> {
  assertPrivateKey(key)
  if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
  const algorithm = resolveSigningAlgorithm(key, options.algorithm)
  let perKey = signCache.get(key)
  if (!perKey) {
    perKey = new Map()
    signCache.set(key, perKey)
  }
  let fn = perKey.get(algorithm)
  if (!fn) {
    fn = createSignFunction(key, algorithm)
    perKey.set(algorithm, fn)
  }
  return fn(data)
}

export { assertPrivateKey }
