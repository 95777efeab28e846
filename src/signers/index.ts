/**
 * Signers: the {@link Signer} interface and the local-key signer.
 *
 * Exported from `countersign/signers`.
 *
 * @module
 */

export type { KeyMaterial, Signer, SigningAlgorithm } from '../contracts/signer.js'
export { createKeySigner, type KeySignerOptions } from './key-signer.js'
