/** OIDs and per-curve parameters shared by the key parsers, signers and verifiers. Internal. @module */
import { p256, p384, p521 } from '@noble/curves/nist.js'
import type { HashAlgorithm, KeyAlgorithm } from './types.js'

/** id-ecPublicKey (RFC 5480). */
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1'
/** rsaEncryption (RFC 8017). */
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1'
/** id-Ed25519 (RFC 8410). */
export const OID_ED25519 = '1.3.101.112'

/** What we need to know about each NIST curve. */
export interface CurveInfo {
  readonly algorithm: 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521'
  readonly oid: string
  /** Web Crypto `namedCurve`. */
  readonly namedCurve: 'P-256' | 'P-384' | 'P-521'
  /** Byte length of a scalar / coordinate (r, s, d, x, y). */
  readonly size: number
  /** Group order n. */
  readonly order: bigint
  readonly noble: typeof p256
}

/** The three curves cosign accepts (goodkey rejects P-224 and everything else). */
export const CURVES: Readonly<Record<CurveInfo['algorithm'], CurveInfo>> = /* @__PURE__ */ Object.freeze({
  'ecdsa-p256': {
    algorithm: 'ecdsa-p256',
    oid: '1.2.840.10045.3.1.7',
    namedCurve: 'P-256',
    size: 32,
    order: p256.Point.CURVE().n,
    noble: p256,
  },
  'ecdsa-p384': {
    algorithm: 'ecdsa-p384',
    oid: '1.3.132.0.34',
    namedCurve: 'P-384',
    size: 48,
    order: p384.Point.CURVE().n,
    noble: p384,
  },
  'ecdsa-p521': {
    algorithm: 'ecdsa-p521',
    oid: '1.3.132.0.35',
    namedCurve: 'P-521',
    size: 66,
    order: p521.Point.CURVE().n,
    noble: p521,
  },
})

/** Curve for an ECDSA key algorithm, or undefined. */
export function curveForAlgorithm(algorithm: KeyAlgorithm): CurveInfo | undefined {
  return algorithm === 'ecdsa-p256' || algorithm === 'ecdsa-p384' || algorithm === 'ecdsa-p521'
    ? CURVES[algorithm]
    : undefined
}

/** Curve for a namedCurve OID, or undefined for curves cosign does not accept. */
export function curveForOID(oid: string): CurveInfo | undefined {
  return Object.values(CURVES).find((c) => c.oid === oid)
}

/** Web Crypto hash names. */
export const WEBCRYPTO_HASH: Readonly<Record<HashAlgorithm, string>> = Object.freeze({
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
})

/** Digest output sizes in bytes. */
export const HASH_SIZE: Readonly<Record<HashAlgorithm, number>> = Object.freeze({ sha256: 32, sha384: 48, sha512: 64 })

/** Smallest and largest RSA modulus cosign's goodkey policy allows. */
export const RSA_MIN_BITS = 2048
export const RSA_MAX_BITS = 4096

/** Big-endian bytes → bigint. */
export function bytesToBigInt(b: Uint8Array): bigint {
  let x = 0n
  for (const v of b) x = (x << 8n) | BigInt(v)
  return x
}

/** bigint → big-endian bytes of exactly `size` bytes (caller guarantees it fits). */
export function bigIntToBytes(x: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size)
  let v = x
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}
