/** Create DSSE envelopes with any Signer. @module */
import type { Signer } from '../contracts/signer.js'
import type { AbortSignalLike } from '../internal/host-types.js'
import type { DSSEEnvelope } from './envelope.js'
import { dssePAE } from './pae.js'

/**
 * Sign `payload` as a DSSE envelope: the signer signs {@link dssePAE}(payloadType, payload).
 *
 * @example
 * ```ts
 * import { signDSSE, IN_TOTO_PAYLOAD_TYPE } from 'countersign/dsse'
 * const env = await signDSSE(statementBytes, IN_TOTO_PAYLOAD_TYPE, signer)
 * ```
 *
 * Exported from `countersign/dsse`.
 */
export async function signDSSE(
  payload: Uint8Array,
  payloadType: string,
  signer: Signer,
  options?: { readonly signal?: AbortSignalLike },
): Promise<DSSEEnvelope> {
  const sig = await signer.sign(dssePAE(payloadType, payload), options?.signal ? { signal: options.signal } : {})
  return { payloadType, payload, signatures: [{ sig }] }
}
