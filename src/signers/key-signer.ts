/** A {@link Signer} backed by a local private key (cosign `--key`). @module */

import type { KeyMaterial, Signer, SigningAlgorithm } from '../contracts/signer.js'
import { keyHint } from '../keys/key-info.js'
import { assertPrivateKey, createSignFunction, resolveSigningAlgorithm } from '../keys/sign.js'
import type { PrivateKey } from '../keys/types.js'

/**
 * Options for {@link createKeySigner}.
 *
 * @example
 * ```ts
 * import { createKeySigner } from 'countersign/signers'
 * const signer = createKeySigner(key, { algorithm: 'ed25519' })
 * ```
 *
 * Exported from `countersign/signers`.
 */
export interface KeySignerOptions {
  /**
   * Signature scheme; default {@link countersign/keys!defaultSigningAlgorithm | defaultSigningAlgorithm} of the key
   * (cosign's choice).
   */
  readonly algorithm?: SigningAlgorithm
}

/**
 * Create a {@link Signer} from a private key. The key is imported into Web Crypto once (non-extractable) on the first
 * signature and reused; `keyMaterial()` reports the SPKI and its Sigstore hint.
 *
 * @param key - From `parsePrivateKey`, `decryptCosignPrivateKey` or `generateKeyPair` (`countersign/keys`).
 * @param options - The signature scheme.
 * @returns A signer whose `sign(data)` returns DER for ECDSA, raw bytes for RSA/Ed25519.
 * @throws {CountersignError} ERR_UNSUPPORTED_ALGORITHM when the scheme does not fit the key.
 * @example
 * ```ts
 * import { decryptCosignPrivateKey } from 'countersign/keys'
 * import { createKeySigner } from 'countersign/signers'
 * const signer = createKeySigner(await decryptCosignPrivateKey(pem, password))
 * const signature = await signer.sign(payload)
 * ```
 *
 * Exported from `countersign/signers`.
 */
export function createKeySigner(key: PrivateKey, options: KeySignerOptions = {}): Signer {
  assertPrivateKey(key)
  const algorithm = resolveSigningAlgorithm(key, options.algorithm)
  const sign = createSignFunction(key, algorithm)
  const material: KeyMaterial = Object.freeze({
    type: 'public-key',
    spki: key.publicKey.spki,
    hint: keyHint(key.publicKey),
  })
  return Object.freeze({
    algorithm,
    keyMaterial: async () => material,
    sign: async (data: Uint8Array, signOptions?: { readonly signal?: AbortSignal }) => {
      if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
      signOptions?.signal?.throwIfAborted()
      return sign(data)
    },
  })
}
