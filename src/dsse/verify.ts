/** Verify DSSE envelopes with public keys. @module */

import { CountersignError } from '../errors.js'
import type { PublicKey, VerifyOptions } from '../keys/types.js'
import { verifySignature } from '../keys/verify.js'
import { type DSSEEnvelope, MAX_DSSE_SIGNATURES } from './envelope.js'
import { dssePAE } from './pae.js'

/**
 * Index of the first key that verifies some signature of the envelope over the PAE of its exact payload bytes,
 * or -1. Like go-securesystemslib's verifier with threshold 1.
 *
 * @throws {CountersignError} ERR_DSSE_INVALID for an envelope with more than `MAX_DSSE_SIGNATURES` signatures.
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
  if (env.signatures.length > MAX_DSSE_SIGNATURES) {
    throw new CountersignError(
      'ERR_DSSE_INVALID',
      `DSSE envelope has ${env.signatures.length} signatures (at most ${MAX_DSSE_SIGNATURES})`,
      { details: { reason: 'too-many-signatures' } },
    )
  }
  const pae = dssePAE(env.payloadType, env.payload)
  for (let k = 0; k < keys.length; k++) {
    for (const s of env.signatures) {
      if (await verifySignature(keys[k]!, pae, s.sig, options)) return k
    }
  }
  return -1
}
