/**
 * Sign a precomputed digest the way a cloud KMS does (Cloud KMS, Azure Key Vault and AWS KMS receive only the
 * digest): ECDSA with noble on the raw digest, RSA PKCS#1 v1.5 as DigestInfo through OpenSSL's private-key
 * operation, RSA-PSS encoded here (RFC 8017 §9.1.1, salt length = digest length) and raised to the private exponent
 * by OpenSSL. Real signatures: they verify with the key's public half over the original message.
 */
import { constants, createHash, type KeyObject, privateEncrypt, randomBytes } from 'node:crypto'
import { p256, p384, p521 } from '@noble/curves/nist.js'

export type DigestHash = 'sha256' | 'sha384' | 'sha512'

const DIGEST_INFO: Record<DigestHash, string> = {
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
}
const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const

function b64url(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64url'))
}

function mgf1(seed: Buffer, length: number, hash: DigestHash): Buffer {
  const out: Buffer[] = []
  for (let counter = 0; Buffer.concat(out).length < length; counter++) {
    const c = Buffer.alloc(4)
    c.writeUInt32BE(counter)
    out.push(createHash(hash).update(seed).update(c).digest())
  }
  return Buffer.concat(out).subarray(0, length)
}

function pssEncode(digest: Buffer, modBits: number, hash: DigestHash): Buffer {
  const hLen = digest.length
  const emBits = modBits - 1
  const emLen = Math.ceil(emBits / 8)
  const salt = randomBytes(hLen)
  const h = createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest()
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([1]), salt])
  const mask = mgf1(h, emLen - hLen - 1, hash)
  for (let i = 0; i < db.length; i++) db[i]! ^= mask[i]!
  db[0]! &= 0xff >> (8 * emLen - emBits)
  return Buffer.concat([db, h, Buffer.from([0xbc])])
}

export interface SignDigestOptions {
  readonly hash: DigestHash
  /** RSA padding (default pkcs1). */
  readonly padding?: 'pkcs1' | 'pss'
  /** ECDSA output: DER (Cloud KMS, AWS) or raw r‖s (Azure). */
  readonly ecdsaFormat?: 'der' | 'raw'
}

export function signDigest(key: KeyObject, digest: Uint8Array, options: SignDigestOptions): Uint8Array {
  const jwk = key.export({ format: 'jwk' })
  if (jwk.kty === 'EC') {
    const curve = CURVES[jwk.crv as keyof typeof CURVES]
    return curve.sign(digest, b64url(jwk.d!), {
      prehash: false,
      format: options.ecdsaFormat === 'raw' ? 'compact' : 'der',
    })
  }
  const modulus = Buffer.from(jwk.n!, 'base64url')
  const modBits = modulus.length * 8 - Math.clz32(modulus[0]!) + 24
  if (options.padding === 'pss') {
    const em = pssEncode(Buffer.from(digest), modBits, options.hash)
    const padded = Buffer.concat([Buffer.alloc(modulus.length - em.length), em])
    return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_NO_PADDING }, padded))
  }
  const info = Buffer.concat([Buffer.from(DIGEST_INFO[options.hash], 'hex'), Buffer.from(digest)])
  return new Uint8Array(privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, info))
}
