/**
 * Parse PEM/DER private keys into validated {@link PrivateKey} values, mirroring what cosign accepts (Go
 * `x509.ParsePKCS8PrivateKey`, `ParseECPrivateKey`, `ParsePKCS1PrivateKey` plus the `goodkey` size/curve policy).
 * Deriving the public key from the scalar/seed needs `@noble/curves`, so this is kept apart from `parse-public.ts`
 * and off the verification path.
 *
 * @module
 */
import { ed25519 } from '@noble/curves/ed25519.js'
import { p256, p384, p521 } from '@noble/curves/nist.js'
import { CountersignError } from '../errors.js'
import { equalBytes } from '../internal/bytes.js'
import {
  type DERContext,
  type DERNode,
  encodeBitString,
  encodeContext,
  encodeInteger,
  encodeNull,
  encodeOctetString,
  encodeOID,
  encodeSequence,
  parseDER,
  readChildren,
  readInteger,
  readNull,
  readOctetAlignedBitString,
  readOctetString,
  readOID,
  readSequence,
  readSmallInteger,
  readUnsignedInteger,
  TAG,
} from '../internal/der.js'
import {
  bigIntToBytes,
  bytesToBigInt,
  type CurveInfo,
  curveForOID,
  OID_EC_PUBLIC_KEY,
  OID_ED25519,
  OID_RSA_ENCRYPTION,
} from './algorithms.js'
import {
  encodeECSPKI,
  encodeEd25519SPKI,
  encodeRSASPKI,
  keyInvalid,
  makePublicKey,
  rsaPublicKey,
  sniff,
  unsupported,
} from './parse-public.js'
import type { KeyAlgorithm, PrivateKey, PublicKey } from './types.js'

const PRIVATE_CTX: DERContext = { code: 'ERR_KEY_INVALID', what: 'private key' }

/** The two PEM labels cosign writes for encrypted keys; parsePrivateKey points callers to the decrypt function. */
const COSIGN_ENCRYPTED_LABELS = new Set(['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'])

/** Public-key derivation per curve (noble's field and point arithmetic). */
const NOBLE = { 'ecdsa-p256': p256, 'ecdsa-p384': p384, 'ecdsa-p521': p521 } as const

function makePrivateKey(algorithm: KeyAlgorithm, pkcs8: Uint8Array, publicKey: PublicKey): PrivateKey {
  return Object.freeze({ algorithm, pkcs8, publicKey })
}

/**
 * Go's `x509.MarshalPKCS8PrivateKey` form for EC keys: ECPrivateKey with version, zero-padded d and the [1] public
 * key, without [0] parameters (the curve is in the outer AlgorithmIdentifier). 138 bytes for P-256.
 */
function ecPrivateKey(curve: CurveInfo, dBytes: Uint8Array, embeddedPublic: Uint8Array | undefined): PrivateKey {
  // Like Go's parseECPrivateKey: leading zero bytes beyond the curve size are tolerated, anything else is not.
  let d = dBytes
  while (d.length > curve.size && d[0] === 0) d = d.subarray(1)
  if (d.length > curve.size) keyInvalid('invalid EC private key length')
  const scalar = bytesToBigInt(d)
  if (scalar === 0n || scalar >= curve.order) keyInvalid('invalid EC private key value')
  const secret = bigIntToBytes(scalar, curve.size)
  const point = NOBLE[curve.algorithm].getPublicKey(secret, false)
  if (embeddedPublic !== undefined && !equalBytes(embeddedPublic, point)) {
    keyInvalid('EC private key does not match its embedded public key')
  }
  const inner = encodeSequence(encodeInteger(1), encodeOctetString(secret), encodeContext(1, encodeBitString(point)))
  const pkcs8 = encodeSequence(
    encodeInteger(0),
    encodeSequence(encodeOID(OID_EC_PUBLIC_KEY), encodeOID(curve.oid)),
    encodeOctetString(inner),
  )
  secret.fill(0)
  return makePrivateKey(curve.algorithm, pkcs8, makePublicKey(curve.algorithm, encodeECSPKI(curve, point)))
}

/** Parse a SEC1 ECPrivateKey (RFC 5915); `outerCurve` comes from a PKCS#8 wrapper when there is one. */
function parseSEC1(der: Uint8Array, outerCurve: CurveInfo | undefined): PrivateKey {
  const fields = readSequence(parseDER(der, PRIVATE_CTX), 'ECPrivateKey', PRIVATE_CTX)
  const version = readSmallInteger(fields[0], 'ECPrivateKey version', PRIVATE_CTX)
  if (version !== 1) keyInvalid(`unsupported EC private key version ${version}`)
  const d = readOctetString(fields[1], 'EC private key', PRIVATE_CTX)
  let curve = outerCurve
  let embedded: Uint8Array | undefined
  let last = 1
  for (const field of fields.slice(2)) {
    // [0] parameters and [1] publicKey, each at most once and in order.
    if (field.tag === 0xa0 && last < 2) {
      const [oidNode, ...extra] = readChildren(field)
      if (extra.length > 0) keyInvalid('private key is malformed: EC parameters')
      if (oidNode?.tag !== TAG.OID) unsupported('EC private keys must use a named curve')
      const oid = readOID(oidNode, 'curve OID', PRIVATE_CTX)
      const named = curveForOID(oid)
      if (!named) unsupported(`unsupported elliptic curve ${oid} (P-256, P-384 and P-521 are accepted)`)
      if (curve && curve !== named) keyInvalid('EC private key curve does not match its algorithm parameters')
      curve = named
      last = 2
    } else if (field.tag === 0xa1 && last < 3) {
      const [bits, ...extra] = readChildren(field)
      if (extra.length > 0) keyInvalid('private key is malformed: EC public key')
      embedded = readOctetAlignedBitString(bits, 'EC public key', PRIVATE_CTX)
      last = 3
    } else {
      keyInvalid('private key is malformed: unexpected ECPrivateKey field')
    }
  }
  if (!curve) keyInvalid('EC private key does not name its curve')
  return ecPrivateKey(curve, d, embedded)
}

/** RSAPrivateKey (PKCS#1) → canonical PKCS#8 wrapping the same bytes. */
function parsePKCS1Private(der: Uint8Array): PrivateKey {
  const fields = readSequence(parseDER(der, PRIVATE_CTX), 'RSAPrivateKey', PRIVATE_CTX)
  const version = readSmallInteger(fields[0], 'RSAPrivateKey version', PRIVATE_CTX)
  // Version 1 means multi-prime, which Web Crypto cannot import.
  if (version !== 0) unsupported('multi-prime RSA private keys are not supported')
  if (fields.length !== 9) keyInvalid('private key is malformed: RSAPrivateKey must have 9 fields')
  const ints = fields.map((f, i) => readInteger(f, `RSAPrivateKey field ${i}`, PRIVATE_CTX))
  const [, n, e, d, p, q] = ints as [bigint, bigint, bigint, bigint, bigint, bigint]
  if (n <= 0n || d <= 0n || p <= 1n || q <= 1n || p * q !== n) keyInvalid('inconsistent RSA private key')
  const nBytes = readUnsignedInteger(fields[1], 'RSA modulus', PRIVATE_CTX)
  const pkcs1 = new Uint8Array(der)
  const publicKey = rsaPublicKey(nBytes, e, encodeRSASPKI(encodeSequence(encodeInteger(n), encodeInteger(e))))
  const pkcs8 = encodeSequence(
    encodeInteger(0),
    encodeSequence(encodeOID(OID_RSA_ENCRYPTION), encodeNull()),
    encodeOctetString(pkcs1),
  )
  return makePrivateKey('rsa', pkcs8, publicKey)
}

/** Ed25519 seed → canonical 48-byte PKCS#8 (RFC 8410, version 0, no public key), as Go writes it. */
export function ed25519PrivateKey(seed: Uint8Array, embeddedPublic: Uint8Array | undefined): PrivateKey {
  if (seed.length !== 32) keyInvalid('invalid Ed25519 private key length')
  const pub = ed25519.getPublicKey(seed)
  if (embeddedPublic !== undefined && !equalBytes(embeddedPublic, pub)) {
    keyInvalid('Ed25519 private key does not match its embedded public key')
  }
  const pkcs8 = encodeSequence(
    encodeInteger(0),
    encodeSequence(encodeOID(OID_ED25519)),
    encodeOctetString(encodeOctetString(seed)),
  )
  return makePrivateKey('ed25519', pkcs8, makePublicKey('ed25519', encodeEd25519SPKI(pub)))
}

/** A readable reason when bytes that should be PKCS#8 are really SEC1 or PKCS#1 (cosign's negative vector). */
function describeNonPKCS8(fields: DERNode[]): string {
  if (fields[0]?.tag === TAG.INTEGER && fields[1]?.tag === TAG.OCTET_STRING) {
    return 'private key is not PKCS#8: it is a SEC1 EC PRIVATE KEY (cosign requires PKCS#8, like Go x509.ParsePKCS8PrivateKey)'
  }
  if (fields.length >= 9 && fields.every((f) => f.tag === TAG.INTEGER)) {
    return 'private key is not PKCS#8: it is a PKCS#1 RSA PRIVATE KEY (cosign requires PKCS#8)'
  }
  return 'private key is malformed: not a PKCS#8 PrivateKeyInfo'
}

/**
 * Parse DER PKCS#8 (PrivateKeyInfo, or OneAsymmetricKey v2 with an embedded public key) and normalise it to the form
 * Go's `x509.MarshalPKCS8PrivateKey` produces. SEC1 or PKCS#1 bytes are rejected with ERR_KEY_INVALID, exactly as
 * cosign's loader rejects them.
 */
export function parsePKCS8(der: Uint8Array): PrivateKey {
  const fields = readSequence(parseDER(der, PRIVATE_CTX), 'PrivateKeyInfo', PRIVATE_CTX)
  if (fields[1]?.tag !== TAG.SEQUENCE || fields[2]?.tag !== TAG.OCTET_STRING) keyInvalid(describeNonPKCS8(fields))
  const version = readSmallInteger(fields[0], 'PrivateKeyInfo version', PRIVATE_CTX)
  if (version > 1) keyInvalid(`unsupported PKCS#8 version ${version}`)
  const [oidNode, params, ...more] = readSequence(fields[1], 'AlgorithmIdentifier', PRIVATE_CTX)
  if (more.length > 0) keyInvalid('private key is malformed: trailing AlgorithmIdentifier fields')
  const oid = readOID(oidNode, 'algorithm OID', PRIVATE_CTX)
  const inner = readOctetString(fields[2], 'privateKey', PRIVATE_CTX)
  // Optional [0] attributes (ignored, as Go does) and, in v2, [1] IMPLICIT BIT STRING publicKey.
  let embeddedPublic: Uint8Array | undefined
  let last = 2
  for (const field of fields.slice(3)) {
    if (field.tag === 0xa0 && last < 3) {
      last = 3
    } else if (field.tag === 0x81 && last < 4 && version === 1) {
      embeddedPublic = readOctetAlignedBitString({ ...field, tag: TAG.BIT_STRING }, 'publicKey', PRIVATE_CTX)
      last = 4
    } else {
      keyInvalid('private key is malformed: unexpected PrivateKeyInfo field')
    }
  }
  switch (oid) {
    case OID_EC_PUBLIC_KEY: {
      if (params?.tag !== TAG.OID) unsupported('EC private keys must use a named curve')
      const curveOID = readOID(params, 'curve OID', PRIVATE_CTX)
      const curve = curveForOID(curveOID)
      if (!curve) unsupported(`unsupported elliptic curve ${curveOID} (P-256, P-384 and P-521 are accepted)`)
      return parseSEC1(inner, curve)
    }
    case OID_ED25519: {
      if (params !== undefined) keyInvalid('private key is malformed: Ed25519 parameters must be absent')
      const seed = readOctetString(parseDER(inner, PRIVATE_CTX), 'Ed25519 private key', PRIVATE_CTX)
      return ed25519PrivateKey(seed, embeddedPublic)
    }
    case OID_RSA_ENCRYPTION:
      readNull(params, 'RSA parameters', PRIVATE_CTX)
      return parsePKCS1Private(inner)
    default:
      return unsupported(`unsupported private key algorithm ${oid}`)
  }
}

/**
 * Parse an unencrypted private key: PEM `PRIVATE KEY` (PKCS#8: ECDSA, Ed25519, RSA), `EC PRIVATE KEY` (SEC1),
 * `RSA PRIVATE KEY` (PKCS#1), or DER PKCS#8 bytes. The result's `pkcs8` is normalised to the form Go's
 * `x509.MarshalPKCS8PrivateKey` writes (what `cosign import-key-pair` encrypts), and the public key is derived from
 * the private scalar/seed. `EC PARAMETERS` blocks that openssl puts before SEC1 keys are skipped.
 *
 * Encrypted cosign keys are refused here: use {@link decryptCosignPrivateKey}.
 *
 * @param input - PEM text, PEM bytes or DER PKCS#8 bytes.
 * @returns A frozen {@link PrivateKey}.
 * @throws {CountersignError} ERR_PASSWORD_REQUIRED for an encrypted cosign key; ERR_INVALID_INPUT for bad PEM or an
 *   unexpected label; ERR_KEY_INVALID for malformed or inconsistent keys; ERR_UNSUPPORTED_ALGORITHM for other
 *   curves/algorithms, encrypted PKCS#8, and RSA outside 2048..4096 bits.
 * @example
 * ```ts
 * import { parsePrivateKey } from 'countersign/keys'
 * const key = parsePrivateKey(await readFile('ec.pem', 'utf8')) // -----BEGIN EC PRIVATE KEY-----
 * console.log(key.publicKey.algorithm)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export function parsePrivateKey(input: string | Uint8Array): PrivateKey {
  const found = sniff(input, 'private key')
  if ('der' in found) return parsePKCS8(found.der)
  const block = found.blocks.find((b) => b.label !== 'EC PARAMETERS')
  if (!block) throw new CountersignError('ERR_INVALID_INPUT', 'no private key PEM block found')
  if (COSIGN_ENCRYPTED_LABELS.has(block.label)) {
    throw new CountersignError(
      'ERR_PASSWORD_REQUIRED',
      `the private key is encrypted ("${block.label}"); use decryptCosignPrivateKey with its password`,
    )
  }
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /ENCRYPTED/i.test(block.headers['Proc-Type'] ?? '')) {
    unsupported('password-protected PKCS#8/PEM keys are not supported; decrypt them first (openssl pkey)')
  }
  switch (block.label) {
    case 'PRIVATE KEY':
      return parsePKCS8(block.bytes)
    case 'EC PRIVATE KEY':
      return parseSEC1(block.bytes, undefined)
    case 'RSA PRIVATE KEY':
      return parsePKCS1Private(block.bytes)
    default:
      throw new CountersignError(
        'ERR_INVALID_INPUT',
        `unsupported PEM type "${block.label}" for a private key (expected PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)`,
      )
  }
}

/** The 32-byte seed of a canonical Ed25519 PKCS#8 key. */
export function ed25519Seed(key: PrivateKey): Uint8Array {
  if (key.algorithm !== 'ed25519') throw new TypeError('not an Ed25519 key')
  const fields = readSequence(parseDER(key.pkcs8, PRIVATE_CTX), 'PrivateKeyInfo', PRIVATE_CTX)
  const inner = readOctetString(fields[2], 'privateKey', PRIVATE_CTX)
  return readOctetString(parseDER(inner, PRIVATE_CTX), 'Ed25519 private key', PRIVATE_CTX)
}
