/**
 * The key ID a DSSE signature is matched against in sigstore-go: the OpenSSH SHA-256 fingerprint of the verification
 * key (go-securesystemslib `dsse.SHA256KeyID`, used when the verifier has no key ID of its own). Internal.
 * @module
 */
import { concat, toBase64 } from '../internal/bytes.js'
import { parseDER, readInteger, readSequence, readUnsignedInteger } from '../internal/der.js'
import { sha256 } from '../internal/sha2.js'
import { rawPublicKey } from '../keys/parse-public.js'
import type { PublicKey } from '../keys/types.js'

const CURVES = {
  'ecdsa-p256': 'nistp256',
  'ecdsa-p384': 'nistp384',
  'ecdsa-p521': 'nistp521',
} as const

/** RFC 4251 §5 `string`: a uint32 length, then the bytes. */
function sshString(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length)
  new DataView(out.buffer).setUint32(0, bytes.length)
  out.set(bytes, 4)
  return out
}

const sshName = (name: string) => sshString(new TextEncoder().encode(name))

/** RFC 4251 §5 `mpint` of a non-negative magnitude (no leading zero bytes): a 0x00 prefix when the top bit is set. */
function sshMpint(magnitude: Uint8Array): Uint8Array {
  return sshString(magnitude.length > 0 && magnitude[0]! >= 0x80 ? concat(Uint8Array.of(0), magnitude) : magnitude)
}

function bigintMagnitude(x: bigint): Uint8Array {
  const bytes: number[] = []
  for (let v = x; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn))
  return Uint8Array.from(bytes)
}

/** The OpenSSH wire form of a public key (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4). */
function sshPublicKey(key: PublicKey): Uint8Array {
  const raw = rawPublicKey(key)
  if (key.algorithm === 'ed25519') return concat(sshName('ssh-ed25519'), sshString(raw))
  if (key.algorithm === 'rsa') {
    // The subjectPublicKey of an RSA SPKI is PKCS#1 RSAPublicKey { modulus, publicExponent }.
    const [n, e] = readSequence(parseDER(raw), 'RSAPublicKey')
    return concat(
      sshName('ssh-rsa'),
      sshMpint(bigintMagnitude(readInteger(e, 'RSA exponent'))),
      sshMpint(readUnsignedInteger(n, 'RSA modulus')),
    )
  }
  const curve = CURVES[key.algorithm]
  return concat(sshName(`ecdsa-sha2-${curve}`), sshName(curve), sshString(raw))
}

/**
 * `SHA256:` and the unpadded base64 of SHA-256 over the key's OpenSSH wire form, as `ssh-keygen -l` prints it.
 *
 * @example
 * ```ts
 * const keyId = sshKeyFingerprint(parsePublicKey(pem)) // 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA'
 * ```
 */
export function sshKeyFingerprint(key: PublicKey): string {
  return `SHA256:${toBase64(sha256(sshPublicKey(key))).replace(/=+$/, '')}`
}
