/** OIDs and per-curve parameters shared by the key parsers, signers and verifiers. Internal. @module */
import { toHex } from '../internal/bytes.js'
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
  /** Field prime p. */
  readonly p: bigint
  /** Curve coefficient a (p - 3 on every NIST prime curve). */
  readonly a: bigint
  /** Curve coefficient b. */
  readonly b: bigint
  /** Group order n. */
  readonly order: bigint
}

// Domain parameters from SEC 2 v2 §2.4.2, §2.5.1, §2.6.1 (= FIPS 186-4 D.1.2.3–D.1.2.5). Hard-coded rather than read
// from @noble/curves so that public-key validation does not load noble, whose nist module builds precomputed tables
// at import (~40 ms of cold start on the verify path).
const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn
const P384_P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn
const P521_P = (1n << 521n) - 1n

/** The three curves cosign accepts (goodkey rejects P-224 and everything else). */
export const CURVES: Readonly<Record<CurveInfo['algorithm'], CurveInfo>> = /* @__PURE__ */ Object.freeze({
  'ecdsa-p256': {
    algorithm: 'ecdsa-p256',
    oid: '1.2.840.10045.3.1.7',
    namedCurve: 'P-256',
    size: 32,
    p: P256_P,
    a: P256_P - 3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    order: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  },
  'ecdsa-p384': {
    algorithm: 'ecdsa-p384',
    oid: '1.3.132.0.34',
    namedCurve: 'P-384',
    size: 48,
    p: P384_P,
    a: P384_P - 3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    order: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  },
  'ecdsa-p521': {
    algorithm: 'ecdsa-p521',
    oid: '1.3.132.0.35',
    namedCurve: 'P-521',
    size: 66,
    p: P521_P,
    a: P521_P - 3n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    order:
      0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
  },
})

/**
 * Whether (x, y) is an affine point on `curve`: both coordinates reduced (0 ≤ x, y < p) and y² ≡ x³ + a·x + b (mod p).
 * The point at infinity has no affine form, so it never passes. With cofactor 1 (all three curves) this is the whole
 * of SEC 1 §3.2.2.1 public-key validation, the check Go's `elliptic.Unmarshal` makes.
 */
export function isOnCurve(curve: CurveInfo, x: bigint, y: bigint): boolean {
  const { p, a, b } = curve
  if (x < 0n || y < 0n || x >= p || y >= p) return false
  return (y * y - (((x * x + a) * x + b) % p)) % p === 0n
}

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

/**
 * Big-endian bytes → bigint. One `BigInt('0x…')` parse instead of a shift per byte: a process's first public-key
 * parse runs this in V8's interpreter, where 96 BigInt shifts per P-384 point cost about a millisecond.
 */
export function bytesToBigInt(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${toHex(b)}`)
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
