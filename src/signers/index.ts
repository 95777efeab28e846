/**
 * Signers: the {@link Signer} interface and the local-key signer.
 *
 * Exported from `countersign/signers`.
 *
 * @module
 */
export { createKeySigner, type KeySignerOptions } from './key-signer.js'
export type { KeyMaterial, Signer, SigningAlgorithm } from './signer.js'
