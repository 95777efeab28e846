/**
 * The {@link KMSSigner} shape every provider returns, in one place: the public key and key material fixed when the
 * signer is made (so what it reports is what its signatures verify with), the input checked before any request.
 * Internal: the providers supply the signing call.
 *
 * @module
 */

import type { KeyMaterial, SigningAlgorithm } from '../contracts/signer.js'
import { keyHint } from '../keys/key-info.js'
import type { PublicKey } from '../keys/types.js'
import type { KMSSigner } from './types.js'

/** A provider's signing call: the message (not a prehash) and the caller's signal. */
export type KMSSignFunction = (data: Uint8Array, signal: AbortSignal | undefined) => Promise<Uint8Array>

/** Make the frozen signer for `uri` around `sign`. */
export function createKMSSigner(
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
