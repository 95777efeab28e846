/**
 * The {@link KMSSigner} shape every provider returns, in one place: a provider's signing call frozen into a signer
 * with the public key and key material fixed when it is made (so what it reports is what its signatures verify
 * with), the input checked before any request. Internal: the providers supply the signing call; applications get
 * their signer from `createKMSSigner` (`countersign/kms`), which picks the provider.
 *
 * @module
 */

import type { KeyMaterial, SigningAlgorithm } from '../contracts/signer.js'
import { keyHint } from '../keys/key-info.js'
import type { PublicKey } from '../keys/types.js'
import type { KMSSigner } from './types.js'

/**
 * A provider's signing call: the message (not a prehash) and the caller's signal.
 *
 * @example
 * ```ts
 * const sign: KMSSignFunction = async (data, signal) => fromBase64((await callService(data, signal)).signature)
 * ```
 */
export type KMSSignFunction = (data: Uint8Array, signal: AbortSignal | undefined) => Promise<Uint8Array>

/**
 * Freeze a provider's signing call into the {@link KMSSigner} for `uri`: the public key and key material are fixed
 * here, and `sign` only ever sees a `Uint8Array`.
 *
 * @example
 * ```ts
 * return kmsSignerFromSignFunction(uri, 'ecdsa-p256-sha256', publicKey, async (data, signal) => callSign(data, signal))
 * ```
 */
export function kmsSignerFromSignFunction(
  uri: string,
  algorithm: SigningAlgorithm,
  publicKey: PublicKey,
  sign: KMSSignFunction,
): KMSSigner {
  const material: KeyMaterial = Object.freeze({ type: 'public-key', spki: publicKey.spki, hint: keyHint(publicKey) })
  return Object.freeze({
    uri,
    algorithm,
    keyMaterial: async () => material,
    publicKey: async () => publicKey,
    async sign(data: Uint8Array, options?: { readonly signal?: AbortSignal }) {
      if (!(data instanceof Uint8Array)) throw new TypeError('data must be a Uint8Array')
      return sign(data, options?.signal)
    },
  })
}
