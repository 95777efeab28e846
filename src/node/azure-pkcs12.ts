/**
 * A small PKCS#12 (RFC 7292) reader for `AZURE_CLIENT_CERTIFICATE_PATH`: password integrity (HMAC-SHA-1/256/384/512
 * keyed by the RFC 7292 Appendix B KDF), password privacy with PBES2 (PBKDF2 + AES-CBC or 3DES-CBC: what OpenSSL 3
 * writes by default) or the PKCS#12 PBEs (`pbeWithSHAAnd3-KeyTripleDES-CBC` for keys and `pbeWithSHAAnd40BitRC2-CBC`
 * for certificates: what `openssl pkcs12 -legacy`, OpenSSL 1.x and Windows write, and all Go's `x/crypto/pkcs12`
 * under azidentity reads). It returns the certificates and the private keys (PKCS#8 DER); nothing else in the file is
 * used. Public-key integrity and privacy modes, PBMAC1 and RC4 are refused by name. Internal.
 *
 * @module
 */
import { createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto'
import { CountersignError } from '../errors.js'
import { concat, utf8 } from '../internal/bytes.js'
import {
  contextTag,
  type DERContext,
  type DERNode,
  parseDER,
  readChildren,
  readOctetString,
  readOID,
  readSequence,
  readSmallInteger,
  TAG,
} from '../internal/der.js'
import { rc2CBCDecrypt } from './azure-rc2.js'

/** What a PKCS#12 file holds, as far as a client certificate credential cares. */
export interface PKCS12Contents {
  /** DER certificates, in file order. */
  readonly certificates: Uint8Array[]
  /** PKCS#8 PrivateKeyInfo DER. Secret. */
  readonly privateKeys: Uint8Array[]
}

const CTX: DERContext = { what: 'PKCS#12 file' }
// Iterations beyond this are a denial of service, not a protection (OpenSSL writes 2048).
const MAX_ITERATIONS = 1_000_000
const DATA = '1.2.840.113549.1.7.1'
const ENCRYPTED_DATA = '1.2.840.113549.1.7.6'
const BAG = '1.2.840.113549.1.12.10.1.'
const X509_CERT = '1.2.840.113549.1.9.22.1'
const PBES2 = '1.2.840.113549.1.5.13'
const PBKDF2 = '1.2.840.113549.1.5.12'
const PBMAC1 = '1.2.840.113549.1.5.14'

/** Digests by OID: name, output and block size (for the RFC 7292 KDF). */
const DIGESTS: Readonly<Record<string, { name: string; u: number; v: number }>> = {
  '1.3.14.3.2.26': { name: 'sha1', u: 20, v: 64 },
  '2.16.840.1.101.3.4.2.4': { name: 'sha224', u: 28, v: 64 },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', u: 32, v: 64 },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', u: 48, v: 128 },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', u: 64, v: 128 },
}
const PRFS: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
}
const PBES2_CIPHERS: Readonly<Record<string, { name: string; keyLength: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
}
/** RFC 7292 Appendix C PBEs (SHA-1 KDF): cipher and key length. */
const PKCS12_PBES: Readonly<Record<string, { cipher: 'des-ede3-cbc' | 'des-ede-cbc' | 'rc2'; keyLength: number }>> = {
  '1.2.840.113549.1.12.1.3': { cipher: 'des-ede3-cbc', keyLength: 24 },
  '1.2.840.113549.1.12.1.4': { cipher: 'des-ede-cbc', keyLength: 16 },
  '1.2.840.113549.1.12.1.5': { cipher: 'rc2', keyLength: 16 },
  '1.2.840.113549.1.12.1.6': { cipher: 'rc2', keyLength: 5 },
}

function fail(message: string, cause?: unknown): never {
  throw new CountersignError('ERR_INVALID_INPUT', `PKCS#12: ${message}`, cause === undefined ? {} : { cause })
}

function iterations(node: DERNode | undefined): number {
  const n = node === undefined ? 1 : readSmallInteger(node, 'iterations', CTX)
  if (n < 1 || n > MAX_ITERATIONS) fail(`iteration count ${n} is out of range`)
  return n
}

/** The RFC 7292 password: UTF-16BE with a two-byte terminator (the empty password is just the terminator). */
function bmpPassword(password: string): Uint8Array {
  const out = new Uint8Array(2 * password.length + 2)
  for (let i = 0; i < password.length; i++) {
    out[2 * i] = password.charCodeAt(i) >> 8
    out[2 * i + 1] = password.charCodeAt(i) & 0xff
  }
  return out
}

/** RFC 7292 Appendix B.2: `n` bytes of key material (`id` 1 key, 2 IV, 3 MAC key). */
function pkcs12KDF(digest: string, password: Uint8Array, salt: Uint8Array, id: number, rounds: number, n: number) {
  const { u, v } = Object.values(DIGESTS).find((d) => d.name === digest)!
  const fill = (src: Uint8Array) => {
    const out = new Uint8Array(v * Math.ceil(src.length / v))
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!
    return out
  }
  const i = concat(fill(salt), password.length ? fill(password) : new Uint8Array(0))
  const d = new Uint8Array(v).fill(id)
  const out = new Uint8Array(Math.ceil(n / u) * u)
  for (let block = 0; block * u < n; block++) {
    let a: Uint8Array = createHash(digest).update(d).update(i).digest()
    for (let r = 1; r < rounds; r++) a = createHash(digest).update(a).digest()
    out.set(a, block * u)
    const b = fill(a.subarray(0, u))
    // I_j = (I_j + B + 1) mod 2^(8v), for every v-byte block of I.
    for (let j = 0; j < i.length; j += v) {
      let carry = 1
      for (let k = v - 1; k >= 0; k--) {
        const sum = i[j + k]! + b[k]! + carry
        i[j + k] = sum & 0xff
        carry = sum >> 8
      }
    }
  }
  return out.subarray(0, n)
}

function decipher(name: string, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  try {
    const d = createDecipheriv(name, key, iv)
    return concat(d.update(data), d.final())
  } catch (cause) {
    return fail('cannot decrypt (wrong password?)', cause)
  }
}

/** Decrypt with a PBES2 or PKCS#12 PBE AlgorithmIdentifier. */
function decrypt(algorithm: DERNode, data: Uint8Array, password: string, bmp: Uint8Array): Uint8Array {
  const [oidNode, params] = readSequence(algorithm, 'AlgorithmIdentifier', CTX)
  const oid = readOID(oidNode, 'algorithm', CTX)
  const legacy = PKCS12_PBES[oid]
  if (legacy) {
    const [salt, count] = readSequence(params, 'PBE parameters', CTX)
    const s = readOctetString(salt, 'salt', CTX)
    const n = iterations(count)
    const key = pkcs12KDF('sha1', bmp, s, 1, n, legacy.keyLength)
    const iv = pkcs12KDF('sha1', bmp, s, 2, n, 8)
    if (legacy.cipher !== 'rc2') return decipher(legacy.cipher, key, iv, data)
    try {
      return rc2CBCDecrypt(key, legacy.keyLength * 8, iv, data)
    } catch (cause) {
      return fail('cannot decrypt (wrong password?)', cause)
    }
  }
  if (oid !== PBES2) fail(`unsupported encryption algorithm ${oid} (RC4 and others are not supported)`)
  const [kdf, scheme] = readSequence(params, 'PBES2 parameters', CTX)
  const [kdfOID, kdfParams] = readSequence(kdf, 'key derivation function', CTX)
  if (readOID(kdfOID, 'KDF', CTX) !== PBKDF2) fail('PBES2 with a KDF other than PBKDF2 is not supported')
  const kp = readSequence(kdfParams, 'PBKDF2 parameters', CTX)
  const salt = readOctetString(kp[0], 'PBKDF2 salt', CTX)
  const count = iterations(kp[1])
  let rest = kp.slice(2)
  const keyLength = rest[0]?.tag === TAG.INTEGER ? readSmallInteger(rest[0], 'key length', CTX) : undefined
  if (keyLength !== undefined) rest = rest.slice(1)
  const prfOID = rest[0] ? readOID(readSequence(rest[0], 'PRF', CTX)[0], 'PRF', CTX) : '1.2.840.113549.2.7'
  const prf = PRFS[prfOID] ?? fail(`unsupported PBKDF2 PRF ${prfOID}`)
  const [cipherOID, ivNode] = readSequence(scheme, 'encryption scheme', CTX)
  const cipherId = readOID(cipherOID, 'cipher', CTX)
  const cipher = PBES2_CIPHERS[cipherId] ?? fail(`unsupported PBES2 cipher ${cipherId}`)
  if (keyLength !== undefined && keyLength !== cipher.keyLength) fail('PBES2 key length does not match the cipher')
  // OpenSSL hands PBKDF2 the password's UTF-8 bytes (the BMPString form is only for the RFC 7292 KDF).
  const key = pbkdf2Sync(utf8(password), salt, count, cipher.keyLength, prf)
  return decipher(cipher.name, key, readOctetString(ivNode, 'IV', CTX), data)
}

/** The explicit `[0]` content of a ContentInfo or SafeBag. */
function explicit0(node: DERNode | undefined, what: string): DERNode {
  if (node?.tag !== contextTag(0)) fail(`${what} has no [0] content`)
  const inner = readChildren(node)[0]
  return inner ?? fail(`${what} is empty`)
}

/** EncryptedData's `[0] IMPLICIT` content, primitive or (BER) split into OCTET STRING chunks. */
function implicitOctets(node: DERNode | undefined): Uint8Array {
  if (node?.tag === contextTag(0, false)) return node.value
  if (node?.tag === contextTag(0)) return concat(...readChildren(node).map((c) => readOctetString(c, 'chunk', CTX)))
  return fail('encrypted content is missing')
}

function readBags(der: Uint8Array, out: PKCS12Contents, password: string, bmp: Uint8Array, depth = 0): void {
  if (depth > 4) fail('safe contents are nested too deeply')
  for (const bag of readSequence(parseDER(der, CTX), 'SafeContents', CTX)) {
    const [idNode, valueNode] = readSequence(bag, 'SafeBag', CTX)
    const id = readOID(idNode, 'bag type', CTX)
    const value = explicit0(valueNode, 'SafeBag')
    if (id === `${BAG}1`) out.privateKeys.push(value.raw)
    else if (id === `${BAG}2`) {
      const [algorithm, data] = readSequence(value, 'EncryptedPrivateKeyInfo', CTX)
      out.privateKeys.push(decrypt(algorithm!, readOctetString(data, 'encrypted key', CTX), password, bmp))
    } else if (id === `${BAG}3`) {
      const [type, cert] = readSequence(value, 'CertBag', CTX)
      if (readOID(type, 'certificate type', CTX) !== X509_CERT) continue
      out.certificates.push(readOctetString(explicit0(cert, 'CertBag'), 'certificate', CTX))
    } else if (id === `${BAG}6`) readBags(value.raw, out, password, bmp, depth + 1)
    // CRL and secret bags are not ours to read.
  }
}

/** Check the MAC; returns the password form that matched (OpenSSL tries "" both with and without terminator). */
function verifyMAC(macData: DERNode, authSafe: Uint8Array, password: string): Uint8Array {
  const [digestInfo, saltNode, countNode] = readSequence(macData, 'MacData', CTX)
  const [algorithm, digestNode] = readSequence(digestInfo, 'DigestInfo', CTX)
  const oid = readOID(readSequence(algorithm, 'digest algorithm', CTX)[0], 'digest algorithm', CTX)
  if (oid === PBMAC1) fail('PBMAC1 integrity (OpenSSL 3.4 -pbmac1_pbkdf2) is not supported')
  const digest = DIGESTS[oid] ?? fail(`unsupported MAC digest ${oid}`)
  const expected = readOctetString(digestNode, 'MAC', CTX)
  const salt = readOctetString(saltNode, 'MAC salt', CTX)
  const count = iterations(countNode)
  const forms = password === '' ? [bmpPassword(''), new Uint8Array(0)] : [bmpPassword(password)]
  for (const form of forms) {
    const key = pkcs12KDF(digest.name, form, salt, 3, count, digest.u)
    const mac = createHmac(digest.name, key).update(authSafe).digest()
    if (mac.length === expected.length && timingSafeEqual(mac, expected)) return form
  }
  return fail('integrity check failed: wrong password or a damaged file')
}

/**
 * Read a PKCS#12 file protected with `password` ("" when it has none): its certificates and private keys.
 *
 * @throws {CountersignError} ERR_INVALID_INPUT for a malformed file, a wrong password, or an unsupported algorithm.
 * @example
 * ```ts
 * const { certificates, privateKeys } = parsePKCS12(await readFile('cert.p12'), process.env.PASSWORD ?? '')
 * ```
 */
export function parsePKCS12(der: Uint8Array, password: string): PKCS12Contents {
  const [version, authSafe, macData] = readSequence(parseDER(der, CTX), 'PFX', CTX)
  if (readSmallInteger(version, 'version', CTX) !== 3) fail('only version 3 files are supported')
  const [typeNode, contentNode] = readSequence(authSafe, 'ContentInfo', CTX)
  if (readOID(typeNode, 'content type', CTX) !== DATA) fail('public-key integrity mode is not supported')
  const authSafeBytes = readOctetString(explicit0(contentNode, 'authSafe'), 'authSafe', CTX)
  const bmp = macData ? verifyMAC(macData, authSafeBytes, password) : bmpPassword(password)
  const out: PKCS12Contents = { certificates: [], privateKeys: [] }
  for (const info of readSequence(parseDER(authSafeBytes, CTX), 'AuthenticatedSafe', CTX)) {
    const [type, content] = readSequence(info, 'ContentInfo', CTX)
    const oid = readOID(type, 'content type', CTX)
    if (oid === DATA) readBags(readOctetString(explicit0(content, 'data'), 'data', CTX), out, password, bmp)
    else if (oid === ENCRYPTED_DATA) {
      const [, encrypted] = readSequence(explicit0(content, 'encryptedData'), 'EncryptedData', CTX)
      const [, algorithm, body] = readSequence(encrypted, 'EncryptedContentInfo', CTX)
      readBags(decrypt(algorithm!, implicitOctets(body), password, bmp), out, password, bmp)
    } else fail('public-key privacy mode (enveloped data) is not supported')
  }
  return out
}
