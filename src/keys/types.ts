/** Key types shared by the `countersign/keys` functions. @module */
import type { SigningAlgorithm } from '../contracts/signer.js'

/**
 * Key families countersign accepts, matching cosign's `goodkey` policy: ECDSA on P-256/P-384/P-521, Ed25519, and
 * RSA from 2048 to 4096 bits.
 *
 * @example
 * ```ts
 * import { parsePublicKey, type KeyAlgorithm } from 'countersign/keys'
 * const algorithm: KeyAlgorithm = parsePublicKey(pem).algorithm
 * ```
 *
 * Exported from `countersign/keys`.
 */
export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'ed25519' | 'rsa'

/**
 * A parsed, validated public key. `spki` is the DER SubjectPublicKeyInfo (what `cosign.pub` holds in PEM).
 *
 * @example
 * ```ts
 * import { parsePublicKey } from 'countersign/keys'
 * const key = parsePublicKey(await readFile('cosign.pub', 'utf8'))
 * console.log(key.algorithm, key.spki.length)
 * ```
 *
 * Exported from `countersign/keys`.
 */
export interface PublicKey {
  readonly algorithm: KeyAlgorithm
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array
  /** Modulus size in bits, for RSA keys only. */
  readonly rsaBits?: number
}

/**
 * A parsed, validated private key. `pkcs8` is the unencrypted DER PKCS#8 PrivateKeyInfo in the canonical form Go's
 * `x509.MarshalPKCS8PrivateKey` writes (so it is exactly what cosign encrypts into `cosign.key`).
 *
 * @example
 * ```ts
 * import { generateKeyPair } from 'countersign/keys'
 * const key = await generateKeyPair()
 * console.log(key.pkcs8.length) // 138 for P-256
 * ```
 *
 * Exported from `countersign/keys`.
 */
export interface PrivateKey {
  readonly algorithm: KeyAlgorithm
  /** DER PKCS#8 PrivateKeyInfo. Secret: never log it. */
  readonly pkcs8: Uint8Array
  /** The matching public key. */
  readonly publicKey: PublicKey
}

/**
 * Message digests used with ECDSA and RSA.
 *
 * @example
 * ```ts
 * import type { HashAlgorithm } from 'countersign/keys'
 * const hash: HashAlgorithm = 'sha384'
 * ```
 *
 * Exported from `countersign/keys`.
 */
export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512'

/**
 * Options for {@link verifySignature}.
 *
 * @example
 * ```ts
 * import { verifySignature } from 'countersign/keys'
 * await verifySignature(key, data, sig, { hash: 'sha384' })
 * ```
 *
 * Exported from `countersign/keys`.
 */
export interface VerifyOptions {
  /** Digest for ECDSA and RSA. Default `sha256`, as `cosign verify --key` uses for every key type. */
  readonly hash?: HashAlgorithm
  /** RSA padding. Default `pkcs1v15`. */
  readonly rsaPadding?: 'pkcs1v15' | 'pss'
  /** Verify Ed25519ph (RFC 8032 SHA-512 prehash) instead of pure Ed25519. Default `false`. */
  readonly ed25519ph?: boolean
}

/**
 * Options for {@link signData}.
 *
 * @example
 * ```ts
 * import { signData } from 'countersign/keys'
 * const sig = await signData(key, payload, { algorithm: 'ed25519' })
 * ```
 *
 * Exported from `countersign/keys`.
 */
export interface SignDataOptions {
  /** Signature scheme; must fit the key. Default {@link defaultSigningAlgorithm}. */
  readonly algorithm?: SigningAlgorithm
}

/**
 * Options for {@link generateKeyPair}.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from 'countersign/keys'
 * const key = await generateKeyPair({ algorithm: 'rsa', rsaBits: 3072 })
 * ```
 *
 * Exported from `countersign/keys`.
 */
export interface GenerateKeyPairOptions {
  /** Key family. Default `ecdsa-p256` (what `cosign generate-key-pair` makes). */
  readonly algorithm?: KeyAlgorithm
  /** RSA modulus size. Default 2048; only used when `algorithm` is `rsa`. */
  readonly rsaBits?: 2048 | 3072 | 4096
}

/**
 * Options for {@link encryptCosignPrivateKey}.
 *
 * @example
 * ```ts
 * import { encryptCosignPrivateKey } from 'countersign/keys'
 * const pem = await encryptCosignPrivateKey(key, 'pw', { scryptN: 32768 })
 * ```
 *
 * Exported from `countersign/keys`.
 */
export interface EncryptCosignPrivateKeyOptions {
  /** scrypt cost. Default 65536 (cosign ≥ 2.2); 32768 is cosign's legacy value, 131072 the OWASP one. */
  readonly scryptN?: 32768 | 65536 | 131072
  /** scrypt implementation; default `@noble/hashes`. */
  readonly scrypt?: ScryptFunction
}

/**
 * An scrypt implementation (same contract as `@noble/hashes` `scryptAsync`). The default is noble's portable one;
 * `countersign/node` offers `nodeScrypt`, which uses Node's native scrypt and is several times faster.
 *
 * @example
 * ```ts
 * import { decryptCosignPrivateKey } from 'countersign/keys'
 * import { nodeScrypt } from 'countersign/node'
 * const key = await decryptCosignPrivateKey(pem, password, { scrypt: nodeScrypt })
 * ```
 *
 * Exported from `countersign/keys`.
 */
export type ScryptFunction = (
  password: Uint8Array,
  salt: Uint8Array,
  params: { readonly N: number; readonly r: number; readonly p: number; readonly dkLen: number },
) => Promise<Uint8Array>

/**
 * Options for `decryptCosignPrivateKey`.
 *
 * @example
 * ```ts
 * import { decryptCosignPrivateKey } from 'countersign/keys'
 * const key = await decryptCosignPrivateKey(pem, 'pw', { scrypt: myScrypt })
 * ```
 *
 * Exported from `countersign/keys`.
 */
export interface DecryptCosignPrivateKeyOptions {
  /** scrypt implementation; default `@noble/hashes`. */
  readonly scrypt?: ScryptFunction
}
