/**
 * DSSE (Dead Simple Signing Envelope) v1: PAE, envelopes, signing and verification.
 *
 * Exported from `countersign/dsse`.
 * @module
 */
export { IN_TOTO_PAYLOAD_TYPE } from '../oci/media-types.js'
export { type DSSEEnvelope, type DSSESignature, parseDSSEEnvelope, serializeDSSEEnvelope } from './envelope.js'
export { dssePAE } from './pae.js'
export { signDSSE } from './sign.js'
export { verifyDSSE } from './verify.js'
