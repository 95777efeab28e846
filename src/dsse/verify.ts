/** Verify DSSE envelopes with public keys. @module */
import type { PublicKey, VerifyOptions } from '../keys/types.js'
import { verifySignature } from '../keys/verify.js'
import type { DSSEEnvelope } from './envelope.js'
import { dssePAE } from './pae.js'

/**
 * Index of the first key that verifies some signature of the envelope over the PAE of its exact payload bytes,
 * or -1. Like go-securesystemslib's verifier with threshold 1.
 *
 * @example
 * ```ts
 * import { verifyDSSE } from 'countersign/dsse'
 * if ((await verifyDSSE(env, [key])) < 0) throw new Error('bad signature')
 * ```
 *
 * Exported from `countersign/dsse`.
 */
export async function verifyDSSE(
  env: DSSEEnvelope,
  keys: readonly PublicKey[],
  options?: VerifyOptions,
): Promise<number> {
  const pae = dssePAE(env.payloadType, env.payload)
  for (let k = 0; k < keys.length; k++) {
    for (const s of env.signatures) {
      if (await verifySignature(keys[k]!, pae, s.sig, options)) return k
    }
  }
  return -1
}
