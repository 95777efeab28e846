/**
 * Parse PEM/DER public keys into validated {@link PublicKey} values, mirroring what cosign accepts (Go
 * `x509.ParsePKIXPublicKey`, `ParsePKCS1PublicKey` plus the `goodkey` size/curve policy), and the helpers the
 * private-key parser shares. Deliberately free of `@noble/curves`: this module is on every verification path, and
 * point validation needs only {@link isOnCurve}. Private keys live in `parse-private.ts`.
 *
 * @module
 */
import { CountersignError } from '../errors.js'
import { fromUtf8 } from '../internal/bytes.js'
import {
  type DERContext,
  encodeBitString,
  encodeNull,
  encodeOID,
  encodeSequence,
  parseDER,
  readInteger,
  readNull,
  readOctetAlignedBitString,
  readOID,
  readSequence,
  readUnsignedInteger,
  TAG,
} from '../internal/der.js'
import { decodePEMBlocks, type PEMBlock } from '../internal/pem.js'
import {
  bytesToBigInt,
  type CurveInfo,
  curveForAlgorithm,
  curveForOID,
  isOnCurve,
  OID_EC_PUBLIC_KEY,
  OID_ED25519,
  OID_RSA_ENCRYPTION,
  RSA_MAX_BITS,
  RSA_MIN_BITS,
} from './algorithms.js'
import type { KeyAlgorithm, PrivateKey, PublicKey } from './types.js'

const PUBLIC_CTX: DERContext = { code: 'ERR_KEY_INVALID', what: 'public key' }

export function keyInvalid(message: string): never {
  throw new CountersignError('ERR_KEY_INVALID', message)
}

export function unsupported(message: string): never {
  throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', message)
}

export function makePublicKey(algorithm: KeyAlgorithm, spki: Uint8Array, rsaBits?: number): PublicKey {
  const key: PublicKey = rsaBits === undefined ? { algorithm, spki } : { algorithm, spki, rsaBits }
  return Object.freeze(key)
}

/** Split `input` into PEM text or DER bytes. DER always starts with a SEQUENCE tag; PEM never does. */
export function sniff(input: string | Uint8Array, what: string): { der: Uint8Array } | { blocks: PEMBlock[] } {
  if (input instanceof Uint8Array) {
    if (input.length > 0 && input[0] === TAG.SEQUENCE) return { der: input }
    return { blocks: decodePEMBlocks(fromUtf8(input, what)) }
  }
  if (typeof input !== 'string') throw new TypeError(`${what} must be a string or Uint8Array`)
  return { blocks: decodePEMBlocks(input) }
}
// ---------------------------------------------------------------------------------------------------------------
// Public keys

function ecPublicKey(curve: CurveInfo, point: Uint8Array, spki: Uint8Array): PublicKey {
  // Go's x509 only accepts uncompressed points (elliptic.Unmarshal); so do we.
  if (point.length !== 1 + 2 * curve.size || point[0] !== 0x04) keyInvalid('invalid EC public key point')
  const x = bytesToBigInt(point.subarray(1, 1 + curve.size))
  const y = bytesToBigInt(point.subarray(1 + curve.size))
  if (!isOnCurve(curve, x, y)) keyInvalid('invalid EC public key point')
  return makePublicKey(curve.algorithm, spki)
}

/** Build an RSA SubjectPublicKeyInfo around a PKCS#1 RSAPublicKey and check the modulus size. */
function rsaPublicKeyFromPKCS1(pkcs1: Uint8Array, spki?: Uint8Array): PublicKey {
  const [nNode, eNode, ...rest] = readSequence(parseDER(pkcs1, PUBLIC_CTX), 'RSAPublicKey', PUBLIC_CTX)
  if (rest.length > 0) keyInvalid('public key is malformed: trailing RSAPublicKey fields')
  const n = readUnsignedInteger(nNode, 'RSA modulus', PUBLIC_CTX)
  const e = readInteger(eNode, 'RSA exponent', PUBLIC_CTX)
  return rsaPublicKey(n, e, spki ?? encodeRSASPKI(pkcs1))
}

export function rsaPublicKey(n: Uint8Array, e: bigint, spki: Uint8Array): PublicKey {
  // Go's crypto/rsa rejects exponents outside [2, 2^31-1]; Web Crypto would fail later with a worse message.
  if (e < 2n || e > 0x7fffffffn) keyInvalid('invalid RSA public exponent')
  if (n.length === 0) keyInvalid('invalid RSA modulus')
  const bits = (n.length - 1) * 8 + (32 - Math.clz32(n[0]!))
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
    unsupported(`RSA key size ${bits} is not supported (must be ${RSA_MIN_BITS}..${RSA_MAX_BITS} bits)`)
  }
  return makePublicKey('rsa', spki, bits)
}

export function encodeRSASPKI(pkcs1: Uint8Array): Uint8Array {
  return encodeSequence(encodeSequence(encodeOID(OID_RSA_ENCRYPTION), encodeNull()), encodeBitString(pkcs1))
}

export function encodeECSPKI(curve: CurveInfo, point: Uint8Array): Uint8Array {
  return encodeSequence(encodeSequence(encodeOID(OID_EC_PUBLIC_KEY), encodeOID(curve.oid)), encodeBitString(point))
}

export function encodeEd25519SPKI(publicKey: Uint8Array): Uint8Array {
  return encodeSequence(encodeSequence(encodeOID(OID_ED25519)), encodeBitString(publicKey))
}

/** Parse a DER SubjectPublicKeyInfo. */
export function parseSPKI(der: Uint8Array): PublicKey {
  const spki = new Uint8Array(der)
  const [algNode, keyNode, ...rest] = readSequence(parseDER(spki, PUBLIC_CTX), 'SubjectPublicKeyInfo', PUBLIC_CTX)
  if (rest.length > 0) keyInvalid('public key is malformed: trailing SubjectPublicKeyInfo fields')
  const [oidNode, params, ...more] = readSequence(algNode, 'AlgorithmIdentifier', PUBLIC_CTX)
  if (more.length > 0) keyInvalid('public key is malformed: trailing AlgorithmIdentifier fields')
  const oid = readOID(oidNode, 'algorithm OID', PUBLIC_CTX)
  const bits = readOctetAlignedBitString(keyNode, 'subjectPublicKey', PUBLIC_CTX)
  switch (oid) {
    case OID_EC_PUBLIC_KEY: {
      if (params?.tag !== TAG.OID) unsupported('EC public keys must use a named curve')
      const curveOID = readOID(params, 'curve OID', PUBLIC_CTX)
      const curve = curveForOID(curveOID)
      if (!curve) unsupported(`unsupported elliptic curve ${curveOID} (P-256, P-384 and P-521 are accepted)`)
      return ecPublicKey(curve, bits, spki)
    }
    case OID_ED25519:
      // RFC 8410 §3: the parameters MUST be absent.
      if (params !== undefined) keyInvalid('public key is malformed: Ed25519 parameters must be absent')
      if (bits.length !== 32) keyInvalid('invalid Ed25519 public key length')
      return makePublicKey('ed25519', spki)
    case OID_RSA_ENCRYPTION:
      // Go requires the explicit NULL ("x509: RSA key missing NULL parameters").
      readNull(params, 'RSA parameters', PUBLIC_CTX)
      return rsaPublicKeyFromPKCS1(bits, spki)
    default:
      return unsupported(`unsupported public key algorithm ${oid}`)
  }
}

/**
 * Parse a public key: PEM `PUBLIC KEY` (SubjectPublicKeyInfo), PEM `RSA PUBLIC KEY` (PKCS#1, re-wrapped as SPKI), or
 * DER SubjectPublicKeyInfo bytes. The first PEM block is used, as cosign's `UnmarshalPEMToPublicKey` does.
 *
 * @param input - PEM text, PEM bytes or DER bytes.
 * @returns A frozen {@link PublicKey}.
 * @throws {CountersignError} ERR_INVALID_INPUT for bad PEM or an unexpected PEM label; ERR_KEY_INVALID for malformed
 *   DER or an invalid EC point; ERR_UNSUPPORTED_ALGORITHM for other curves, algorithms, or RSA outside 2048..4096
 *   bits.
 * @example
 * ```ts
 * import { parsePublicKey } from 'countersign/keys'
 * const key = parsePublicKey(await readFile('cosign.pub', 'utf8'))
 * // key.algorithm === 'ecdsa-p256'
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function parsePublicKey(input: string | Uint8Array): PublicKey {
  const found = sniff(input, 'public key')
  if ('der' in found) return parseSPKI(found.der)
  const block = found.blocks[0]!
  switch (block.label) {
    case 'PUBLIC KEY':
      return parseSPKI(block.bytes)
    case 'RSA PUBLIC KEY':
      return rsaPublicKeyFromPKCS1(new Uint8Array(block.bytes))
    default:
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `unsupported PEM type "${block.label}" for a public key (expected PUBLIC KEY or RSA PUBLIC KEY)`,
      )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Raw material for the noble fallbacks (internal).

/** The uncompressed EC point or 32-byte Ed25519 key inside an SPKI we produced or validated. */
export function rawPublicKey(key: PublicKey): Uint8Array {
  const [, keyNode] = readSequence(parseDER(key.spki, PUBLIC_CTX), 'SubjectPublicKeyInfo', PUBLIC_CTX)
  return readOctetAlignedBitString(keyNode, 'subjectPublicKey', PUBLIC_CTX)
}

/** Curve info for an EC key (throws TypeError for others). */
export function curveOf(key: PublicKey | PrivateKey): CurveInfo {
  const curve = curveForAlgorithm(key.algorithm)
  if (!curve) throw new TypeError('not an ECDSA key')
  return curve
}
