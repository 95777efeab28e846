/** Web Crypto access and per-key CryptoKey caches for the key functions. Internal. @module */

import { CountersignError } from '../errors.js'
import { toArrayBufferView } from '../internal/bytes.js'
import { sha256, sha384, sha512 } from '../internal/sha2.js'
import { rawPublicKey } from './parse-public.js'
import type { HashAlgorithm, PrivateKey, PublicKey } from './types.js'

/** `globalThis.crypto.subtle`, looked up lazily so importing the module never fails. */
export function getSubtle(): SubtleCrypto {
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle
  if (typeof subtle !== 'object' || subtle === null) {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', 'Web Crypto (globalThis.crypto.subtle) is not available')
  }
  return subtle
}

/** Import parameters Web Crypto needs besides the key bytes. */
export type ImportParams =
  | { readonly name: 'ECDSA'; readonly namedCurve: string }
  | { readonly name: 'RSASSA-PKCS1-v1_5' | 'RSA-PSS'; readonly hash: string }
  | { readonly name: 'Ed25519' }

function cacheKey(params: ImportParams): string {
  return 'namedCurve' in params
    ? `${params.name}/${params.namedCurve}`
    : 'hash' in params
      ? `${params.name}/${params.hash}`
      : params.name
}

/**
 * Runtimes without Web Crypto Ed25519 (older browsers) report NotSupportedError; callers then fall back to noble.
 * Anything else means the key itself is bad.
 */
export function isNotSupported(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return (
    name === 'NotSupportedError' || (error instanceof TypeError && /algorithm|support/i.test(String(error.message)))
  )
}

// One import per (key object, parameters): verifying many signatures with one key must not re-parse SPKI each time.
const publicCache = new WeakMap<PublicKey, Map<string, Promise<CryptoKey>>>()

/**
 * The CryptoKey for a public key, imported once per key object and parameter set. A runtime that lacks the
 * algorithm rejects with the original NotSupportedError; a key Web Crypto refuses rejects with ERR_KEY_INVALID.
 */
export function importPublicKey(key: PublicKey, params: ImportParams): Promise<CryptoKey> {
  let perKey = publicCache.get(key)
  if (!perKey) {
    perKey = new Map()
    publicCache.set(key, perKey)
  }
  const id = cacheKey(params)
  let pending = perKey.get(id)
  if (!pending) {
    pending = Promise.resolve()
      .then(() => {
        // An EC point imports three times faster as 'raw' than inside its SPKI (no ASN.1 decoder search); the SPKI
        // was validated by parsePublicKey (named curve, uncompressed point on the curve), so the two are equivalent.
        return params.name === 'ECDSA'
          ? getSubtle().importKey('raw', toArrayBufferView(rawPublicKey(key)), params, false, ['verify'])
          : getSubtle().importKey('spki', toArrayBufferView(key.spki), params, false, ['verify'])
      })
      .catch((cause: unknown) => {
        if (isNotSupported(cause)) throw cause
        throw new CountersignError('ERR_KEY_INVALID', 'Web Crypto rejected the public key', { cause })
      })
    perKey.set(id, pending)
  }
  return pending
}

/** Import a private key for signing (non-extractable). Errors never include key bytes. */
export async function importPrivateKey(key: PrivateKey, params: ImportParams): Promise<CryptoKey> {
  try {
    return await getSubtle().importKey('pkcs8', toArrayBufferView(key.pkcs8), params, false, ['sign'])
  } catch (cause) {
    if (isNotSupported(cause)) throw cause
    throw new CountersignError('ERR_KEY_INVALID', 'Web Crypto rejected the private key', { cause })
  }
}

// Below this size hashing in JS beats Web Crypto, whose every call is a thread-pool round trip (~20 µs even for a
// few bytes, and far more while a P-384 verification holds the pool); noble's SHA-2 is already loaded on the
// verification path (Rekor bodies, Merkle proofs). A 4 KiB Rekor v1 body: 25 µs in JS, 83 µs through an idle pool,
// 348 µs beside a P-384 verification (bench/verify-floor.ts profiles).
const SMALL_DIGEST = 8192

/**
 * SHA-256/384/512 of `data`: synchronously in JS for small inputs, with Web Crypto for large ones. The bytes are
 * the same either way; only the cost differs.
 */
export async function sha2Digest(hash: HashAlgorithm, data: Uint8Array): Promise<Uint8Array> {
  if (data.length <= SMALL_DIGEST)
    return hash === 'sha256' ? sha256(data) : hash === 'sha384' ? sha384(data) : sha512(data)
  const name = hash === 'sha256' ? 'SHA-256' : hash === 'sha384' ? 'SHA-384' : 'SHA-512'
  return new Uint8Array(await getSubtle().digest(name, toArrayBufferView(data)))
}
