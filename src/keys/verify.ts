/** Verify a signature with a public key, the way cosign's `verify --key` does. @module */
import { CountersignError } from '../errors.js'
import { toArrayBufferView } from '../internal/bytes.js'
import { bytesToBigInt, curveForAlgorithm, HASH_SIZE, WEBCRYPTO_HASH } from './algorithms.js'
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

async function verifyECDSA(
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
  const r = bytesToBigInt(raw.subarray(0, curve.size))
  const s = bytesToBigInt(raw.subarray(curve.size))
  // Range check as Go does; high S (s > n/2) is deliberately allowed because Go signers emit it.
  if (r === 0n || s === 0n || r >= curve.order || s >= curve.order) return false
  const cryptoKey = await importPublicKey(key, { name: 'ECDSA', namedCurve: curve.namedCurve })
  return getSubtle().verify(
    { name: 'ECDSA', hash: WEBCRYPTO_HASH[hash] },
    cryptoKey,
    toArrayBufferView(raw),
    toArrayBufferView(data),
  )
}

async function verifyRSA(
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
  const sig = toArrayBufferView(signature)
  const message = toArrayBufferView(data)
  if (padding === 'pkcs1v15') {
    const cryptoKey = await importPublicKey(key, { name: 'RSASSA-PKCS1-v1_5', hash: WEBCRYPTO_HASH[hash] })
    return getSubtle().verify({ name: 'RSASSA-PKCS1-v1_5' }, cryptoKey, sig, message)
  }
  const cryptoKey = await importPublicKey(key, { name: 'RSA-PSS', hash: WEBCRYPTO_HASH[hash] })
  // Go verifies PSS with PSSSaltLengthAuto, which accepts any salt length. Web Crypto needs the exact length, so we
  // try the two lengths signers actually use: the hash length (sigstore, openssl default) and the maximum
  // (Go's SignPSS with PSSSaltLengthAuto).
  const hLen = HASH_SIZE[hash]
  const maxSalt = Math.ceil((bits - 1) / 8) - hLen - 2
  for (const saltLength of new Set([hLen, maxSalt])) {
    if (saltLength < 0) continue
    if (await getSubtle().verify({ name: 'RSA-PSS', saltLength }, cryptoKey, sig, message)) return true
  }
  return false
}

async function verifyEd25519(
  key: PublicKey,
  data: Uint8Array,
  signature: Uint8Array,
  prehash: boolean,
): Promise<boolean> {
  if (signature.length !== 64) return false
  const pub = rawPublicKey(key)
  if (prehash) {
    // Ed25519ph (RFC 8032 §5.1, SHA-512 prehash) has no Web Crypto equivalent. noble is loaded only here and in the
    // fallback below, keeping it (and its import-time tables) off the common verification path.
    const { ed25519ph } = await import('@noble/curves/ed25519.js')
    try {
      return ed25519ph.verify(signature, data, pub, { zip215: false })
    } catch {
      return false
    }
  }
  try {
    const cryptoKey = await importPublicKey(key, { name: 'Ed25519' })
    return await getSubtle().verify(
      { name: 'Ed25519' },
      cryptoKey,
      toArrayBufferView(signature),
      toArrayBufferView(data),
    )
  } catch (error) {
    if (!isNotSupported(error)) throw error
  }
  // Runtime without Web Crypto Ed25519: strict RFC 8032 verification like Go's crypto/ed25519.
  const { ed25519 } = await import('@noble/curves/ed25519.js')
  try {
    return ed25519.verify(signature, data, pub, { zip215: false })
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
 * Malformed signatures return `false`; they never throw.
 *
 * @param key - From {@link parsePublicKey}.
 * @param data - The signed message (not a digest).
 * @param signature - The signature bytes.
 * @param options - Hash, RSA padding and Ed25519 variant.
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
  options: VerifyOptions = {},
): Promise<boolean> {
  assertPublicKey(key)
  assertBytes(data, 'data')
  assertBytes(signature, 'signature')
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object')
  const hash = hashOf(options)
  switch (key.algorithm) {
    case 'ecdsa-p256':
    case 'ecdsa-p384':
    case 'ecdsa-p521':
      return verifyECDSA(key, data, signature, hash)
    case 'rsa': {
      const padding = options.rsaPadding ?? 'pkcs1v15'
      if (padding !== 'pkcs1v15' && padding !== 'pss') {
        throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported RSA padding ${String(padding)}`)
      }
      return verifyRSA(key, data, signature, hash, padding)
    }
    case 'ed25519':
      return verifyEd25519(key, data, signature, options.ed25519ph === true)
    default:
      throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported key algorithm ${String(key.algorithm)}`)
  }
}
