/**
 * DSSE (Dead Simple Signing Envelope) v1: PAE, envelopes, signing and verification.
 *
 * Exported from `countersign/dsse`.
 * @module
 */
export {
  type DSSEEnvelope,
  type DSSESignature,
  IN_TOTO_PAYLOAD_TYPE,
  parseDSSEEnvelope,
  serializeDSSEEnvelope,
} from './envelope.js'
export { dssePAE } from './pae.js'
export { signDSSE } from './sign.js'
export { verifyDSSE } from './verify.js'
