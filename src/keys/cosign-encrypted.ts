/**
 * cosign's encrypted private key format (`cosign.key`): a PEM block whose body is the go-securesystemslib
 * `encrypted` JSON — scrypt key derivation and NaCl secretbox (XSalsa20-Poly1305) around PKCS#8 DER.
 *
 * @module
 */
import { secretbox } from '@noble/ciphers/salsa.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { CountersignError } from '../errors.js'
import { quoteClipped } from '../internal/bounded-text.js'
import { fromBase64, fromUtf8, toBase64, utf8 } from '../internal/bytes.js'
import { isJSONObject } from '../internal/json.js'
import { assertJSONShape, assertJSONText, MAX_JSON_DEPTH } from '../internal/json-shape.js'
import { decodePEM, encodePEM, type PEMBlock } from '../internal/pem.js'
import { COSIGN_PEM_LABEL, LEGACY_COSIGN_PEM_LABEL, pemText } from './cosign-encrypted-format.js'
import { parsePKCS8 } from './parse-private.js'
import type {
  DecryptCosignPrivateKeyOptions,
  EncryptCosignPrivateKeyOptions,
  PrivateKey,
  ScryptFunction,
} from './types.js'

export { COSIGN_PEM_LABEL, isCosignEncryptedKey, LEGACY_COSIGN_PEM_LABEL } from './cosign-encrypted-format.js'

// go-securesystemslib accepts exactly these (N, r, p) sets: "Legacy", "Standard" and "OWASP".
const SCRYPT_N = new Set([32768, 65536, 131072])
const SCRYPT_R = 8
const SCRYPT_P = 1
const KEY_LENGTH = 32
const SALT_LENGTH = 32
const NONCE_LENGTH = 24
const TAG_LENGTH = 16
// Salts are 32 bytes in practice; the bound only stops absurd inputs.
const MAX_SALT_LENGTH = 1024
/** A real envelope is under 1 KB (an RSA-4096 key about 4 KB); docs/formats.md §Input limits. */
const MAX_ENVELOPE_BYTES = 64 * 1024
const LIMITS = { code: 'ERR_INVALID_INPUT', what: 'encrypted key', maxDepth: MAX_JSON_DEPTH } as const

function invalid(message: string, cause?: unknown): never {
  throw new CountersignError('ERR_INVALID_INPUT', message, cause === undefined ? undefined : { cause })
}

function passwordBytes(password: string | Uint8Array): Uint8Array {
  if (typeof password === 'string') return utf8(password)
  if (password instanceof Uint8Array) return password
  throw new TypeError('password must be a string or Uint8Array')
}

function decodeB64Field(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string') invalid(`encrypted key: ${name} must be a base64 string`)
  return fromBase64(value)
}

interface Envelope {
  readonly n: number
  readonly salt: Uint8Array
  readonly nonce: Uint8Array
  readonly ciphertext: Uint8Array
}

/** Parse and validate the JSON envelope (go-securesystemslib `encrypted.Decrypt` checks, plus length checks). */
function parseEnvelope(block: PEMBlock): Envelope {
  assertJSONText(block.bytes, { ...LIMITS, maxBytes: MAX_ENVELOPE_BYTES })
  let doc: unknown
  try {
    doc = JSON.parse(fromUtf8(block.bytes, 'encrypted key'))
  } catch (cause) {
    invalid('encrypted key is not valid JSON', cause)
  }
  assertJSONShape(doc, LIMITS)
  if (!isJSONObject(doc) || !isJSONObject(doc.kdf) || !isJSONObject(doc.cipher))
    invalid('encrypted key: missing kdf or cipher')
  const { kdf, cipher } = doc
  if (kdf.name !== 'scrypt') {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `encrypted key: unknown kdf name ${quoteClipped(kdf.name)}`)
  }
  if (cipher.name !== 'nacl/secretbox') {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `encrypted key: unknown cipher name ${quoteClipped(cipher.name)}`,
    )
  }
  const params = isJSONObject(kdf.params) ? kdf.params : invalid('encrypted key: missing scrypt params')
  const { N, r, p } = params
  if (typeof N !== 'number' || !SCRYPT_N.has(N) || r !== SCRYPT_R || p !== SCRYPT_P) {
    throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', 'unsupported scrypt parameters')
  }
  const salt = decodeB64Field(kdf.salt, 'salt')
  if (salt.length === 0 || salt.length > MAX_SALT_LENGTH) invalid('encrypted key: invalid salt length')
  const nonce = decodeB64Field(cipher.nonce, 'nonce')
  if (nonce.length !== NONCE_LENGTH) invalid(`encrypted key: nonce must be ${NONCE_LENGTH} bytes`)
  const ciphertext = decodeB64Field(doc.ciphertext, 'ciphertext')
  if (ciphertext.length < TAG_LENGTH) invalid('encrypted key: ciphertext too short')
  return { n: N, salt, nonce, ciphertext }
}

async function deriveKey(
  password: Uint8Array,
  salt: Uint8Array,
  n: number,
  scrypt: ScryptFunction | undefined,
): Promise<Uint8Array> {
  const params = { N: n, r: SCRYPT_R, p: SCRYPT_P, dkLen: KEY_LENGTH }
  const key = await (scrypt ?? scryptAsync)(password, salt, params)
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) throw new TypeError('scrypt must return 32 bytes')
  return key
}

/**
 * Decrypt a cosign private key (`ENCRYPTED SIGSTORE PRIVATE KEY` or the legacy `ENCRYPTED COSIGN PRIVATE KEY`), as
 * cosign's `LoadPrivateKey` does: scrypt (N ∈ {32768, 65536, 131072}, r=8, p=1) → NaCl secretbox open → PKCS#8.
 * A SEC1 or PKCS#1 plaintext is rejected, because cosign's `x509.ParsePKCS8PrivateKey` rejects it.
 *
 * @param pem - The `cosign.key` contents.
 * @param password - A string (UTF-8 encoded) or the exact bytes (e.g. stdin including a trailing newline). Empty is
 *   allowed.
 * @param options - An optional faster scrypt (e.g. Node's native one from `countersign/node`).
 * @returns The decrypted {@link PrivateKey}.
 * @throws {CountersignError} ERR_INVALID_INPUT for bad PEM, a foreign label (`unsupported pem type: X`), malformed
 *   JSON or base64; ERR_UNSUPPORTED_ALGORITHM for another kdf/cipher or scrypt parameters; ERR_KEY_DECRYPT for a
 *   wrong password or tampered ciphertext; ERR_KEY_INVALID when the plaintext is not a usable PKCS#8 key.
 * @example
 * ```ts
 * import { decryptCosignPrivateKey } from 'countersign/keys'
 * const key = await decryptCosignPrivateKey(await readFile('cosign.key', 'utf8'), 'hunter2')
 * ```
 *
 * Exported from `countersign/keys`.
 */
export async function decryptCosignPrivateKey(
  pem: string | Uint8Array,
  password: string | Uint8Array,
  options: DecryptCosignPrivateKeyOptions = {},
): Promise<PrivateKey> {
  const pw = passwordBytes(password)
  const block = decodePEM(pemText(pem))
  if (block.label !== COSIGN_PEM_LABEL && block.label !== LEGACY_COSIGN_PEM_LABEL) {
    invalid(`unsupported pem type: ${block.label}`)
  }
  const envelope = parseEnvelope(block)
  const key = await deriveKey(pw, envelope.salt, envelope.n, options.scrypt)
  let plaintext: Uint8Array
  try {
    plaintext = secretbox(key, envelope.nonce).open(envelope.ciphertext)
  } catch (cause) {
    // Same message for a wrong password and a tampered ciphertext: Poly1305 cannot tell them apart.
    throw new CountersignError('ERR_KEY_DECRYPT', 'decryption failed (wrong password?)', { cause })
  } finally {
    key.fill(0)
  }
  try {
    return parsePKCS8(plaintext)
  } catch (cause) {
    if (cause instanceof CountersignError && cause.code !== 'ERR_KEY_INVALID') throw cause
    const reason = cause instanceof Error ? cause.message : 'not a PKCS#8 private key'
    throw new CountersignError('ERR_KEY_INVALID', `parsing private key: ${reason}`, { cause })
  } finally {
    plaintext.fill(0)
  }
}

/**
 * Encrypt a private key into cosign's format, byte-compatible with `cosign generate-key-pair` /
 * `import-key-pair`: PEM label `ENCRYPTED SIGSTORE PRIVATE KEY`, compact JSON
 * `{"kdf":{"name":"scrypt","params":{"N":65536,"r":8,"p":1},"salt":…},"cipher":{"name":"nacl/secretbox","nonce":…},"ciphertext":…}`
 * with a random 32-byte salt and 24-byte nonce, and the PKCS#8 key as plaintext.
 *
 * @param key - The key to protect.
 * @param password - A string (UTF-8 encoded) or exact bytes. Empty is allowed (cosign allows it).
 * @param options - scrypt cost (default 65536).
 * @returns The PEM text to write to `cosign.key`.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM for another scrypt N.
 * @example
 * ```ts
 * import { encryptCosignPrivateKey, generateKeyPair } from 'countersign/keys'
 * const pem = await encryptCosignPrivateKey(await generateKeyPair(), 'hunter2')
 * ```
 *
 * Exported from `countersign/keys`.
 */
export async function encryptCosignPrivateKey(
  key: PrivateKey,
  password: string | Uint8Array,
  options: EncryptCosignPrivateKeyOptions = {},
): Promise<string> {
  if (!(key?.pkcs8 instanceof Uint8Array)) throw new TypeError('key must be a PrivateKey')
  const pw = passwordBytes(password)
  const n = options.scryptN ?? 65536
  if (!SCRYPT_N.has(n)) throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', 'unsupported scrypt parameters')
  const salt = crypto.getRandomValues(new Uint8Array(SALT_LENGTH))
  const nonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
  const derived = await deriveKey(pw, salt, n, options.scrypt)
  let ciphertext: Uint8Array
  try {
    // NaCl secretbox output is the 16-byte Poly1305 tag followed by the XSalsa20 ciphertext, as Go's secretbox.Seal.
    ciphertext = secretbox(derived, nonce).seal(key.pkcs8)
  } finally {
    derived.fill(0)
  }
  // Built by hand so the key order and compactness match Go's encoding/json output exactly.
  const json =
    `{"kdf":{"name":"scrypt","params":{"N":${n},"r":${SCRYPT_R},"p":${SCRYPT_P}},"salt":"${toBase64(salt)}"},` +
    `"cipher":{"name":"nacl/secretbox","nonce":"${toBase64(nonce)}"},"ciphertext":"${toBase64(ciphertext)}"}`
  return encodePEM(COSIGN_PEM_LABEL, utf8(json))
}
