/**
 * AWS KMS signing algorithms and key specs, and how they map to countersign's {@link SigningAlgorithm} names.
 *
 * @module
 */

import type { SigningAlgorithm } from '../../contracts/signer.js'
import { CountersignError } from '../../errors.js'
import type { HashAlgorithm, PublicKey } from '../../keys/types.js'

/**
 * Key specs sigstore accepts for AWS KMS keys (`awsSupportedAlgorithms`); `ECC_NIST_P256` is the default for
 * `generate-key-pair --kms`.
 *
 * @example
 * ```ts
 * import type { AWSKeySpec } from 'countersign/kms/aws'
 * const spec: AWSKeySpec = 'ECC_NIST_P384'
 * ```
 *
 * Exported from `countersign/kms/aws`.
 */
export type AWSKeySpec = 'RSA_2048' | 'RSA_3072' | 'RSA_4096' | 'ECC_NIST_P256' | 'ECC_NIST_P384' | 'ECC_NIST_P521'

/** AWS `SigningAlgorithmSpec` → our scheme, the digest sent with `MessageType: DIGEST`, and the key family. */
const SIGNING: Readonly<
  Record<string, { algorithm: SigningAlgorithm; hash: HashAlgorithm; key: PublicKey['algorithm'] }>
> = Object.freeze({
  ECDSA_SHA_256: { algorithm: 'ecdsa-p256-sha256', hash: 'sha256', key: 'ecdsa-p256' },
  ECDSA_SHA_384: { algorithm: 'ecdsa-p384-sha384', hash: 'sha384', key: 'ecdsa-p384' },
  ECDSA_SHA_512: { algorithm: 'ecdsa-p521-sha512', hash: 'sha512', key: 'ecdsa-p521' },
  RSASSA_PKCS1_V1_5_SHA_256: { algorithm: 'rsa-pkcs1v15-sha256', hash: 'sha256', key: 'rsa' },
  RSASSA_PKCS1_V1_5_SHA_384: { algorithm: 'rsa-pkcs1v15-sha384', hash: 'sha384', key: 'rsa' },
  RSASSA_PKCS1_V1_5_SHA_512: { algorithm: 'rsa-pkcs1v15-sha512', hash: 'sha512', key: 'rsa' },
  RSASSA_PSS_SHA_256: { algorithm: 'rsa-pss-sha256', hash: 'sha256', key: 'rsa' },
  RSASSA_PSS_SHA_384: { algorithm: 'rsa-pss-sha384', hash: 'sha384', key: 'rsa' },
  RSASSA_PSS_SHA_512: { algorithm: 'rsa-pss-sha512', hash: 'sha512', key: 'rsa' },
})

/** How a key signs: the AWS name sent in `Sign`, our name, and the local hash. */
export interface AWSSigningScheme {
  readonly awsAlgorithm: string
  readonly algorithm: SigningAlgorithm
  readonly hash: HashAlgorithm
}

/**
 * The scheme a key signs with: as sigstore, the key's FIRST listed signing algorithm (ECDSA on a curve other than
 * the one our name implies, SM2, Ed25519 and ML-DSA keys are refused).
 */
export function signingSchemeFor(key: PublicKey, awsAlgorithms: readonly string[]): AWSSigningScheme {
  const first = awsAlgorithms[0]
  const entry = first !== undefined && Object.hasOwn(SIGNING, first) ? SIGNING[first] : undefined
  if (entry === undefined || entry.key !== key.algorithm) {
    throw new CountersignError(
      'ERR_UNSUPPORTED_ALGORITHM',
      `AWS KMS key signs with ${first === undefined ? 'no signing algorithm (not a SIGN_VERIFY key?)' : JSON.stringify(first.slice(0, 64))} on a ${key.algorithm} key, which countersign cannot use`,
      { details: { provider: 'aws' } },
    )
  }
  return Object.freeze({ awsAlgorithm: first!, algorithm: entry.algorithm, hash: entry.hash })
}

/** The key spec `createKey` asks for: an explicit spec, else one fitting the requested scheme, else P-256. */
export function keySpecFor(algorithm: SigningAlgorithm | undefined, keySpec: AWSKeySpec | undefined): AWSKeySpec {
  if (keySpec !== undefined) {
    if (!KEY_SPECS.has(keySpec)) {
      throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `unsupported AWS KMS key spec ${String(keySpec)}`, {
        details: { provider: 'aws' },
      })
    }
    return keySpec
  }
  switch (algorithm) {
    case undefined:
    case 'ecdsa-p256-sha256':
      return 'ECC_NIST_P256'
    case 'ecdsa-p384-sha384':
      return 'ECC_NIST_P384'
    case 'ecdsa-p521-sha512':
      return 'ECC_NIST_P521'
    case 'rsa-pkcs1v15-sha256':
    case 'rsa-pkcs1v15-sha384':
    case 'rsa-pkcs1v15-sha512':
    case 'rsa-pss-sha256':
    case 'rsa-pss-sha384':
    case 'rsa-pss-sha512':
      // AWS lists the signing algorithms of an RSA key itself; the key signs with the first (PKCS#1 v1.5 SHA-256).
      return 'RSA_2048'
    default:
      throw new CountersignError('ERR_UNSUPPORTED_ALGORITHM', `AWS KMS cannot create a key for ${String(algorithm)}`, {
        details: { provider: 'aws' },
      })
  }
}

const KEY_SPECS: ReadonlySet<string> = new Set([
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
])
