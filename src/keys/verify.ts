/** Verify a signature with a public key, the way cosign's `verify --key` does. @module */
import { CountersignError } from '../errors.js'
import { toArrayBufferView } from '../internal/bytes.js'
import { curveForAlgorithm, HASH_SIZE, WEBCRYPTO_HASH } from './algorithms.js'
import { ecdsaDERToP1363 } from './ecdsa-der.js'
import { rawPublicKey } from './parse-public.js'
import type { HashAlgorithm, PublicKey, VerifyOptions } from './types.js'
import { getSubtle, importPublicKey, isNotSupported } from './webcrypto.js'

/** Programmer mistakes are TypeErrors, as in noble; only data problems become `false` or coded errors. */
export function assertPublicKey(key: unknown): asserts key is PublicKey {
  const k = key as Partial<PublicKey> | null
  if (typeof k !== 'object' || k === null || typeof k.algorithm !== 'string' || !(k.spki instanceof Uint8Array)) {
    throw new TypeError('key must be a PublicKey (use parsePublicKey)')
  }
}

export function assertBytes(value: unknown, name: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`)
}

function hashOf(options: VerifyOptions): HashAlgorithm {
  const hash = options.hash ?? 'sha256'
  if (!Object.hasOwn(WEBCRYPTO_HASH, hash))
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported hash ${String(hash)}`)
  return hash
}

/**
 * RSA padding for {@link SignatureBackend.verifyRSA}: PKCS#1 v1.5, or PSS with one exact salt length.
 *
 * Exported from `countersign/keys`.
 */
export type RSAVerifyPadding = { readonly type: 'pkcs1v15' } | { readonly type: 'pss'; readonly saltLength: number }

/**
 * The signature primitives under {@link verifySignature}. countersign does every encoding and policy check itself
 * (strict DER, ECDSA scalar ranges, RSA signature length, PSS salt lengths, Ed25519 length, the Ed25519ph
 * fallback) and only then asks the backend for the curve or modulus arithmetic, so two backends accept exactly the
 * same signatures. The default is Web Crypto (`globalThis.crypto.subtle`); `nodeSignatureBackend` from
 * `countersign/node` runs the same OpenSSL operations synchronously on the calling thread, which avoids a
 * thread-pool round trip per signature.
 *
 * Each method returns whether the signature verifies (a result or a promise of one) and throws (or rejects) only
 * for a key the backend cannot use.
 *
 * Exported from `countersign/keys`.
 */
export interface SignatureBackend {
  /** ECDSA over `data` (hashed with `hash`); `signature` is fixed-width IEEE P1363 `r ‖ s`, already range-checked. */
  verifyECDSA(key: PublicKey, hash: HashAlgorithm, signature: Uint8Array, data: Uint8Array): boolean | Promise<boolean>
  /** RSA over `data`; `signature` is exactly the modulus length. */
  verifyRSA(
    key: PublicKey,
    hash: HashAlgorithm,
    padding: RSAVerifyPadding,
    signature: Uint8Array,
    data: Uint8Array,
  ): boolean | Promise<boolean>
  /**
   * Pure Ed25519 (RFC 8032, strict); `signature` is 64 bytes. May throw a `NotSupportedError` (a runtime without
   * Ed25519), after which countersign verifies with its portable implementation.
   */
  verifyEd25519(key: PublicKey, signature: Uint8Array, data: Uint8Array): boolean | Promise<boolean>
}

/**
 * {@link VerifyOptions} plus the backend to verify with.
 *
 * Exported from `countersign/keys`.
 */
export interface SignatureVerifyOptions extends VerifyOptions {
  /** Signature primitives (default: Web Crypto). */
  readonly backend?: SignatureBackend | undefined
}

/** Web Crypto: the default backend, available in browsers, Deno, Bun and Node. */
export const webCryptoBackend: SignatureBackend = {
  async verifyECDSA(key, hash, signature, data) {
    const curve = curveForAlgorithm(key.algorithm)!
    const cryptoKey = await importPublicKey(key, { name: 'ECDSA', namedCurve: curve.namedCurve })
    return getSubtle().verify(
      { name: 'ECDSA', hash: WEBCRYPTO_HASH[hash] },
      cryptoKey,
      toArrayBufferView(signature),
      toArrayBufferView(data),
    )
  },
  async verifyRSA(key, hash, padding, signature, data) {
    const name = padding.type === 'pss' ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5'
    const cryptoKey = await importPublicKey(key, { name, hash: WEBCRYPTO_HASH[hash] })
    return getSubtle().verify(
      padding.type === 'pss' ? { name, saltLength: padding.saltLength } : { name },
      cryptoKey,
      toArrayBufferView(signature),
      toArrayBufferView(data),
    )
  },
  async verifyEd25519(key, signature, data) {
    const cryptoKey = await importPublicKey(key, { name: 'Ed25519' })
    return getSubtle().verify({ name: 'Ed25519' }, cryptoKey, toArrayBufferView(signature), toArrayBufferView(data))
  },
}

/** `s` (big-endian bytes) is in [1, order): compared bytewise, without building bigints. */
function inScalarRange(s: Uint8Array, orderBytes: Uint8Array): boolean {
  let nonZero = false
  let cmp = 0
  for (let i = 0; i < s.length; i++) {
    const b = s[i]!
    if (b !== 0) nonZero = true
    if (cmp === 0 && b !== orderBytes[i]) cmp = b < orderBytes[i]! ? -1 : 1
  }
  return nonZero && cmp < 0
}

const orderCache = new Map<bigint, Uint8Array>()

function orderBytes(order: bigint, size: number): Uint8Array {
  let bytes = orderCache.get(order)
  if (bytes === undefined) {
    bytes = new Uint8Array(size)
    let x = order
    for (let i = size - 1; i >= 0; i--) {
      bytes[i] = Number(x & 0xffn)
      x >>= 8n
    }
    orderCache.set(order, bytes)
  }
  return bytes
}

async function verifyECDSA(
  backend: SignatureBackend,
  key: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  hash: HashAlgorithm,
): Promise<boolean> {
  const curve = curveForAlgorithm(key.algorithm)!
  let raw: Uint8Array
  try {
    // cosign (sigstore ECDSAVerifier → ecdsa.VerifyASN1) only accepts DER, never raw r‖s; neither do we.
    raw = ecdsaDERToP1363(signature, curve.size)
  } catch {
    return false
  }
  // Range check as Go does; high S (s > n/2) is deliberately allowed because Go signers emit it.
  const n = orderBytes(curve.order, curve.size)
  if (!inScalarRange(raw.subarray(0, curve.size), n) || !inScalarRange(raw.subarray(curve.size), n)) return false
  return backend.verifyECDSA(key, hash, raw, data)
}

async function verifyRSA(
  backend: SignatureBackend,
  key: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  hash: HashAlgorithm,
  padding: 'pkcs1v15' | 'pss',
): Promise<boolean> {
  const bits = key.rsaBits
  if (bits === undefined) throw new TypeError('RSA PublicKey is missing rsaBits (use parsePublicKey)')
  // Go's rsa.VerifyPKCS1v15/VerifyPSS require the signature to be exactly the modulus length.
  if (signature.length !== Math.ceil(bits / 8)) return false
  if (padding === 'pkcs1v15') return backend.verifyRSA(key, hash, { type: 'pkcs1v15' }, signature, data)
  // Go verifies PSS with PSSSaltLengthAuto, which accepts any salt length. Web Crypto needs the exact length, so we
  // try the two lengths signers actually use: the hash length (sigstore, openssl default) and the maximum
  // (Go's SignPSS with PSSSaltLengthAuto). Every backend gets the same two tries, so all accept the same set.
  const hLen = HASH_SIZE[hash]
  const maxSalt = Math.ceil((bits - 1) / 8) - hLen - 2
  for (const saltLength of new Set([hLen, maxSalt])) {
    if (saltLength < 0) continue
    if (await backend.verifyRSA(key, hash, { type: 'pss', saltLength }, signature, data)) return true
  }
  return false
}

async function verifyEd25519(
  backend: SignatureBackend,
  key: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  prehash: boolean,
): Promise<boolean> {
  if (signature.length !== 64) return false
  if (prehash) {
    // Ed25519ph (RFC 8032 §5.1, SHA-512 prehash) has no Web Crypto equivalent. noble is loaded only here and in the
    // fallback below, keeping it (and its import-time tables) off the common verification path.
    const { ed25519ph } = await import('@noble/curves/ed25519.js')
    try {
      return ed25519ph.verify(signature, data, rawPublicKey(key), { zip215: false })
    } catch {
      return false
    }
  }
  try {
    return await backend.verifyEd25519(key, signature, data)
  } catch (error) {
    if (!isNotSupported(error)) throw error
  }
  // Runtime without Web Crypto Ed25519: strict RFC 8032 verification like Go's crypto/ed25519.
  const { ed25519 } = await import('@noble/curves/ed25519.js')
  try {
    return ed25519.verify(signature, data, rawPublicKey(key), { zip215: false })
  } catch {
    return false
  }
}

/**
 * Verify `signature` over `data` with a public key. Defaults follow `cosign verify --key`, which loads every key
 * with SHA-256 (`signature.LoadVerifier(pub, crypto.SHA256)`):
 *
 * - ECDSA: DER signature only (as Go's `ecdsa.VerifyASN1`); SHA-256 unless `hash` says otherwise; high-S accepted.
 * - RSA: PKCS#1 v1.5 by default; with `rsaPadding: 'pss'` both salt = hash length and salt = maximum are accepted.
 * - Ed25519: pure Ed25519 by default. cosign's `verify --key` loads Ed25519 keys without `WithED25519ph()`, so it
 *   verifies pure Ed25519 even though `cosign sign --key` signs Ed25519ph by default (sigstore/cosign PR #5074
 *   describes the mismatch). Pass `ed25519ph: true` for prehash signatures (hashedrekord, `sign-blob`).
 *
 * Malformed signatures return `false`; they never throw. `options.backend` swaps the primitives underneath (see
 * {@link SignatureBackend}); the checks above are countersign's own and the same for every backend.
 *
 * @param key - From {@link parsePublicKey}.
 * @param data - The signed message (not a digest).
 * @param signature - The signature bytes.
 * @param options - Hash, RSA padding, Ed25519 variant and backend.
 * @returns Whether the signature is valid.
 * @throws {TypeError} when arguments have the wrong type.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM for an unknown hash or padding; ERR_KEY_INVALID when Web
 *   Crypto refuses the key.
 * @example
 * ```ts
 * import { parsePublicKey, verifySignature } from 'countersign/keys'
 * const ok = await verifySignature(parsePublicKey(pem), payload, derSignature)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export async function verifySignature(
  key: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  options: SignatureVerifyOptions = {},
): Promise<boolean> {
  assertPublicKey(key)
  assertBytes(data, 'data')
  assertBytes(signature, 'signature')
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const hash = hashOf(options)
  const backend = options.backend ?? webCryptoBackend
  switch (key.algorithm) {
    case 'ecdsa-p256':
    case 'ecdsa-p384':
    case 'ecdsa-p521':
      return verifyECDSA(backend, key, data, signature, hash)
    case 'rsa': {
      const padding = options.rsaPadding ?? 'pkcs1v15'
      if (padding !== 'pkcs1v15' && padding !== 'pss') {
        throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported RSA padding ${String(padding)}`)
      }
      return verifyRSA(backend, key, data, signature, hash, padding)
    }
    case 'ed25519':
      return verifyEd25519(backend, key, data, signature, options.ed25519ph === true)
    default:
      throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported key algorithm ${String(key.algorithm)}`)
  }
}
